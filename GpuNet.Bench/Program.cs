using BenchmarkDotNet.Running;
using GpuNet;
using GpuNet.Bench;
using GpuNet.Bench.Suites;
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

if (args is ["--modes"])
{
    // The modes this build has, one a line (gpu-run.sh asks before it calls an optional one).
    foreach (var mode in new[] { "--ptx", "--sass", "--smoke", "--check", "--autotune", "--report", "--restarts", "--scale" }) Console.WriteLine(mode);
    return 0;
}

if (args.Length >= 1 && args[0] == "--restarts")
    return RestartComparison.FromArgs(args);

if (args.Length >= 1 && args[0] == "--sass")
    return SassReport.Run(args);

if (args.Length >= 1 && args[0] is "--smoke" or "--check")
{
    // --smoke | --check [--device SPEC] [--json FILE]
    var (spec, json, bad) = DeviceArgs(args);
    if (bad != null) { Console.Error.WriteLine($"unknown {args[0]} option {bad}; use --device SPEC and --json FILE"); return 2; }
    using var device = BenchDevices.OpenFor(args[0][2..], spec);
    if (device == null) return 1;
    Console.WriteLine($"device: {device.Info}");
    var checks = new DeviceChecks(device, Console.Out);
    return args[0] == "--smoke" ? checks.RunSmoke(json) : checks.RunAll(json);
}

if (args.Length >= 1 && args[0] == "--scale")
{
    // --scale [--device SPEC] [--json FILE]; under mpirun each rank takes the device of its local rank.
    var (spec, json, bad) = DeviceArgs(args);
    if (bad != null) { Console.Error.WriteLine($"unknown scale option {bad}; use --device SPEC and --json FILE"); return 2; }
    return ScaleReport.Run(spec, json, Console.Out);
}

if (args.Length >= 1 && args[0] == "--autotune")
{
    // --autotune [--device SPEC] [--json FILE] [--cache FILE]: tunes the report's GEMM cases into the tuning cache.
    var rest = args.ToList();
    if (!TakeValue(rest, "--cache", out string? cachePath)) { Console.Error.WriteLine("--cache takes the tuning cache file to write"); return 2; }
    var (spec, json, bad) = DeviceArgs(rest.ToArray());
    if (bad != null) { Console.Error.WriteLine($"unknown autotune option {bad}; use --device SPEC, --json FILE and --cache FILE"); return 2; }
    using var device = Gpu.Open(spec);
    return new Report(device, Console.Out).Autotune(json, cachePath);
}

if (args.Length >= 1 && args[0] == "--report")
{
    // --report [--device SPEC] [--json FILE] [--runs N]
    var rest = args.ToList();
    int runs = 20;
    if (!TakeValue(rest, "--runs", out string? runsText) || (runsText != null && (!int.TryParse(runsText, out runs) || runs < 1)))
    { Console.Error.WriteLine("--runs takes a positive number of timed runs per case"); return 2; }
    var (spec, json, bad) = DeviceArgs(rest.ToArray());
    if (bad != null) { Console.Error.WriteLine($"unknown report option {bad}; use --device SPEC, --json FILE and --runs N"); return 2; }
    using var device = Gpu.Open(spec);
    return new Report(device, Console.Out, runs).Run(json);
}

BenchmarkSwitcher.FromAssembly(typeof(Cases).Assembly).Run(args);
return 0;

// Takes "OPTION VALUE" out of a mode's arguments (after the mode itself): the value, or null when the option is not
// there; false when it is there without a value.
static bool TakeValue(List<string> rest, string option, out string? value)
{
    value = null;
    int at = rest.IndexOf(option);
    if (at <= 0) return true;
    if (at + 1 >= rest.Count) return false;
    value = rest[at + 1];
    rest.RemoveRange(at, 2);
    return true;
}

static (string Spec, string? Json, string? Bad) DeviceArgs(string[] args)
{
    string spec = "auto";
    string? json = null;
    for (int i = 1; i < args.Length; i++)
    {
        if (args[i] == "--device" && i + 1 < args.Length) spec = args[++i];
        else if (args[i] == "--json" && i + 1 < args.Length) json = args[++i];
        else return (spec, json, args[i]);
    }
    return (spec, json, null);
}
