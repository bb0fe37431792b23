using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Bench.Suites;
using GpuNet.Devices;
using GpuNet.Training;
using ILGPU.Runtime.Cuda;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench;

/// <summary>
/// <c>--restarts [--device SPEC] [--restarts R] [--steps N] [--paths per-restart,fused,layered] [--json FILE]</c>: the
/// seed network (1-2-2-1, logistic, one edge missing, 12 weights) × R restarts (1000 unless told) at batch 4 on the
/// one-input XOR, timed in one run on one device for each way of running a step: the per-restart kernel, the fused
/// layer step and the layered one. Each path is first checked against the layered step (parameters after 8 steps from
/// the same start); then one step is timed as the median of synchronised single steps, and N steps (1000 unless told)
/// as one synchronised run, each step on the next batch of the epoch's order (an epoch is N batches of the 4 XOR rows,
/// so the per-restart kernel takes as many steps a launch as it chooses). JSON shape: docs/BENCHMARKS.md.
/// </summary>
internal sealed class RestartComparison(Device device, TextWriter log, int restarts, int steps, IReadOnlyList<StepKind> kinds)
{
    public sealed record PathJson(string Step, double MsPerStep, double MsPerRun, double CpuMsPerRun, double StepsPerSecond,
        double RestartStepsPerSecond, double LaunchesPerRun, double SpeedupOverFused, double CheckRelError);
    public sealed record ReportJson(string Tool, int Version, string Date, string Device, string Case, int Restarts, int Batch, int Steps,
        List<PathJson> Paths, double Seconds);

    private static readonly StepKind[] All = [StepKind.PerRestart, StepKind.Fused, StepKind.Layered];
    private const int SingleRuns = 20, CheckSteps = 8;

    public static int FromArgs(string[] args)
    {
        string spec = "auto";
        string? json = null;
        int restarts = 1000, steps = 1000;
        var kinds = All.ToList();
        for (int i = 1; i < args.Length; i++)
        {
            bool more = i + 1 < args.Length;
            if (args[i] == "--device" && more) spec = args[++i];
            else if (args[i] == "--json" && more) json = args[++i];
            else if (args[i] == "--restarts" && more && int.TryParse(args[i + 1], out restarts) && restarts >= 1) i++;
            else if (args[i] == "--steps" && more && int.TryParse(args[i + 1], out steps) && steps >= CheckSteps) i++;
            else if (args[i] == "--paths" && more && Paths(args[i + 1]) is { Count: > 0 } chosen) { kinds = chosen; i++; }
            else
            {
                Console.Error.WriteLine($"bad --restarts option at '{args[i]}'; use --device SPEC, --restarts R (≥ 1), --steps N (≥ {CheckSteps}), " +
                    $"--paths {string.Join(",", All.Select(k => k.Name()))} (any of them) and --json FILE");
                return 2;
            }
        }
        using var device = BenchDevices.OpenFor("restarts", spec);
        if (device == null) return 1;
        return new RestartComparison(device, Console.Out, restarts, steps, kinds).Run(json);
    }

    /// <summary>The paths a comma-separated list names, or null when one is unknown.</summary>
    private static List<StepKind>? Paths(string list)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var kinds = names.Select(n => All.Where(k => k.Name() == n).Cast<StepKind?>().FirstOrDefault()).ToList();
        return kinds.Any(k => k == null) ? null : kinds.Select(k => k!.Value).Distinct().ToList();
    }

    public int Run(string? jsonPath)
    {
        var clock = Stopwatch.StartNew();
        var c = new Cases.StepCase($"seed 12-weight x{restarts} restarts b4", Cases.SeedNetwork(), 4, restarts, false);
        log.WriteLine($"device: {device.Info}{(device.Accelerator is CudaAccelerator cuda ? $", CUDA driver {cuda.DriverVersion}" : "")}");
        log.WriteLine($"case: {c.Name}, one-input XOR, Adam; {steps} steps (an epoch of {steps} batches)");
        // The layered step is the reference: it runs the check's steps even when it is not timed.
        var reference = After(c, StepKind.Layered);
        var paths = new List<PathJson>();
        foreach (var kind in kinds)
        {
            double err = RelativeError(After(c, kind), reference);
            var (single, run, cpu, launches) = Time(c, kind);
            paths.Add(new PathJson(kind.Name(), single, run, cpu, steps / (run * 1e-3), (double)steps * restarts / (run * 1e-3), launches, 0, err));
        }
        double fused = paths.FirstOrDefault(p => p.Step == StepKind.Fused.Name())?.MsPerRun ?? double.NaN;
        paths = paths.Select(p => p with { SpeedupOverFused = fused / p.MsPerRun }).ToList();
        Print(paths);
        var report = new ReportJson("gpunet-bench-restarts", 1, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            device.Info.ToString(), c.Name, restarts, c.Batch, steps, paths, clock.Elapsed.TotalSeconds);
        if (jsonPath != null) File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, Json.Options));
        var bad = paths.Where(p => !(p.CheckRelError <= Tolerance)).ToList();
        foreach (var p in bad) log.WriteLine($"CHECK FAILED: {p.Step} differs from the layered step by {p.CheckRelError:E2} after {CheckSteps} steps");
        return bad.Count == 0 ? 0 : 1;
    }

    /// <summary>The per-restart kernel's warp form (a GPU's) sums a step's rows as a tree, and a GPU contracts
    /// multiply-adds differently in different kernels: a few ulps a step (the tests' PerRestartWarp and SameTraining
    /// bounds). On the CPU accelerator every path gives the layered step's bits.</summary>
    private double Tolerance => device.IsCpu ? 0 : 1e-4;

    private float[] After(Cases.StepCase c, StepKind kind)
    {
        using var r = new StepRunner(device, c, kind: kind, batches: steps);
        r.Steps(CheckSteps);
        return r.Network.Parameters.ReadAll();
    }

    /// <summary>One step (median of single synchronised steps, wall ms), and the run of N steps as wall ms and as the
    /// process's CPU ms (every thread, the CPU accelerator's included): on a machine shared with other jobs the CPU time
    /// is the steadier figure of the work done, the wall time the one a user waits for.</summary>
    private (double Single, double Run, double Cpu, double Launches) Time(Cases.StepCase c, StepKind kind)
    {
        using var r = new StepRunner(device, c, kind: kind, batches: steps);
        r.Steps(3);
        device.Accelerator.Synchronize();
        var times = new double[SingleRuns];
        for (int i = 0; i < SingleRuns; i++)
        {
            var t = Stopwatch.StartNew();
            r.Step();
            device.Accelerator.Synchronize();
            times[i] = t.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double single = (times[SingleRuns / 2 - 1] + times[SingleRuns / 2]) / 2;
        r.ToNextEpoch();
        long launches0 = device.Counters.Launches;
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        r.Steps(steps);
        device.Accelerator.Synchronize();
        double run = clock.Elapsed.TotalMilliseconds;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
        log.WriteLine($"{r.StepName,-12} one step {single,9:F3} ms   {steps} steps {run,10:F1} ms wall, {cpu,10:F1} ms CPU");
        return (single, run, cpu, device.Counters.Launches - launches0);
    }

    private void Print(List<PathJson> paths)
    {
        log.WriteLine();
        log.WriteLine($"{"step",-12} {"ms/step",9} {$"ms/{steps} steps",16} {"CPU ms",10} {"restart-steps/s",16} {"launches",9} {"vs fused",9} {"check",8}");
        foreach (var p in paths)
            log.WriteLine($"{p.Step,-12} {p.MsPerStep,9:F3} {p.MsPerRun,16:F1} {p.CpuMsPerRun,10:F1} {p.RestartStepsPerSecond,16:E2} {p.LaunchesPerRun,9:F0} {(double.IsNaN(p.SpeedupOverFused) ? "—" : $"{p.SpeedupOverFused:F1}×"),9} {p.CheckRelError,8:E1}");
    }

    /// <summary>‖got − reference‖₂ / ‖reference‖₂ in float64 (a NaN difference counts as an infinite error).</summary>
    internal static double RelativeError(float[] got, float[] reference)
    {
        double num = 0, den = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = got[i] - (double)reference[i];
            num += double.IsNaN(d) ? double.PositiveInfinity : d * d;
            den += (double)reference[i] * reference[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }
}
