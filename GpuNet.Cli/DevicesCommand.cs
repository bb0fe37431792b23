using System.Text.Json;
using GpuNet.Devices;

namespace GpuNet.Cli;

internal static class DevicesCommand
{
    public static int Run(IEnumerable<string> args, TextWriter stdout)
    {
        var a = new Arguments("devices", args, [], ["json"]);
        var list = Gpu.List();
        int auto = Gpu.AutoIndex();
        if (a.Has("json"))
        {
            var json = new
            {
                auto,
                devices = list.Select(d => new
                {
                    index = d.Index,
                    kind = d.Kind.ToString().ToLowerInvariant(),
                    name = d.Name,
                    memory_bytes = d.MemoryBytes,
                    warp_size = d.WarpSize,
                    max_threads_per_group = d.MaxThreadsPerGroup,
                    multiprocessors = d.Multiprocessors,
                }),
            };
            stdout.WriteLine(JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        foreach (var d in list)
            stdout.WriteLine($"{(d.Index == auto ? "*" : " ")} {d}");
        stdout.WriteLine("(* = picked by --device auto: CUDA, then OpenCL, then the CPU accelerator)");
        return 0;
    }
}
