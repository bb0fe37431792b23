using BenchmarkDotNet.Running;
using GpuNet.Bench;
using GpuNet.Devices;
using ILGPU.Runtime.Cuda;

if (args.Length >= 1 && args[0] == "--ptx")
{
    // --ptx [NAME-FILTER] [OUT-DIR]: PTX for sm_90 of every kernel whose name contains the filter.
    string filter = args.Length > 1 ? args[1] : "";
    string? dir = args.Length > 2 ? args[2] : null;
    foreach (var (name, method) in KernelCatalog.All.Where(k => k.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
    {
        string ptx = KernelCatalog.CompilePtx(method, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        if (dir == null) Console.WriteLine($"// ===== {name}\n{ptx}");
        else
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name.Replace('<', '_').Replace('>', '_').Replace(',', '_') + ".ptx"), ptx);
        }
    }
    return 0;
}

if (args.Length >= 1 && args[0] == "--sass")
    return SassReport.Run(args);

if (args.Contains("--report"))
{
    // --report [--device SPEC] [--json FILE]
    string spec = "auto";
    string? json = null;
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] == "--device" && i + 1 < args.Length) spec = args[++i];
        else if (args[i] == "--json" && i + 1 < args.Length) json = args[++i];
        else if (args[i] != "--report") { Console.Error.WriteLine($"unknown report option {args[i]}; use --device SPEC and --json FILE"); return 2; }
    }
    using var device = Gpu.Open(spec);
    return new Report(device, Console.Out).Run(json);
}

BenchmarkSwitcher.FromAssembly(typeof(Cases).Assembly).Run(args);
return 0;
