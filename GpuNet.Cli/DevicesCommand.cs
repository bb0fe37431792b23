using System.Text.Json;
using GpuNet.Devices;

namespace GpuNet.Cli;

internal static class DevicesCommand
{
    public const string Help = """
        usage: gpunet devices [--json]

        Lists the accelerators ILGPU finds (CUDA, OpenCL, the CPU accelerator) with their memory, warp size, threads a
        group and multiprocessors, and marks with * the one --device auto picks: CUDA, then OpenCL, then the CPU
        accelerator. The index in the first column is what --device INDEX takes. --json prints the same as one object.
        Under mpirun (mpirun -np N gpunet devices [--device auto|cuda|opencl|cpu]) rank 0 prints each rank's host, local
        rank and the device it trains on, and checks a broadcast, float and double all-reduce and barrier over the job.

        """;

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
