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

if (args.Contains("--scale"))
{
    // --scale [--devices SPEC] [--json FILE]; under mpirun each rank takes the device of its local rank.
    if (ReportOptions(args, "--scale", "--devices", "cpu:2") is not { } scale) return 2;
    return ScaleReport.Run(scale.Spec, scale.Json, Console.Out);
}

if (args.Contains("--report"))
{
    // --report [--device SPEC] [--json FILE]
    if (ReportOptions(args, "--report", "--device", "auto") is not { } report) return 2;
    using var device = Gpu.Open(report.Spec);
    return new Report(device, Console.Out).Run(report.Json);
}

BenchmarkSwitcher.FromAssembly(typeof(Cases).Assembly).Run(args);
return 0;

// A report's options: MODE [DEVICE-OPTION SPEC] [--json FILE]; null (after saying why) for anything else.
static (string Spec, string? Json)? ReportOptions(string[] args, string mode, string deviceOption, string spec)
{
    string? json = null;
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] == deviceOption && i + 1 < args.Length) spec = args[++i];
        else if (args[i] == "--json" && i + 1 < args.Length) json = args[++i];
        else if (args[i] != mode)
        {
            Console.Error.WriteLine($"unknown {mode[2..]} option {args[i]}; use {deviceOption} SPEC and --json FILE");
            return null;
        }
    }
    return (spec, json);
}
