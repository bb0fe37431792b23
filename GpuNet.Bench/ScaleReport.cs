using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Devices;
using GpuNet.Distributed;
using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Bench;

/// <summary>
/// The scaling report: for each case, the replicated step (one replica per device, a slice of every batch each, the
/// gradients all-reduced) on the devices of this process (<c>--device</c>: by default every device of the kind <c>auto</c> picks, or two CPU
/// accelerators when there is one) or on the ranks of an
/// mpirun job (one device each, rank 0 reports), against the fused step (the default) on one device with the same global batch:
/// the median step time, the bytes the exchange moves per step, and the all-reduce's share of the step. Each case is
/// checked before it is timed: after 4 steps from the same start, the replicas' weights must be one device's within
/// 1e-4 relative (the tests' tolerance for the reordered sums). JSON shape: see docs/BENCHMARKS.md.
/// </summary>
internal sealed class ScaleReport(Placement placement, TextWriter log)
{
    private const int Runs = 20, WarmUp = 3, CheckSteps = 4;
    private readonly List<string> failures = [];

    /// <summary>The default network of <c>gpunet train</c> (digits: 64-64-10, batch 32) and Fashion-MNIST's (784-256-128-10,
    /// batch 128): 19 KB and 0.94 MB of gradients a step.</summary>
    private static readonly Cases.StepCase[] Measured =
    [
        new("digits 64-64-10 b32", NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity), 32, 1, true),
        Cases.Steps[0],
    ];

    public sealed record CaseJson(string Name, int Batch, long Parameters, int Replicas, double? OneDeviceMs, double ReplicatedMs,
        long HostBytesPerStep, long MpiBytesPerStep, double AllReduceMs, double AllReduceShare, double CheckRelError);
    public sealed record ScaleJson(string Tool, int Version, string Date, string Mode, int Processes, int DevicesPerProcess,
        string Device, List<CaseJson> Cases, List<string> Failures);

    /// <summary>Runs the report on <paramref name="spec"/>'s devices, or under mpirun on each rank's device.</summary>
    public static int Run(string spec, string? jsonPath, TextWriter log)
    {
        if (!MpiWorld.IsLaunched)
        {
            // auto: every device of auto's kind when there are two or more, else two CPU accelerators.
            if (spec == "auto")
            {
                var list = Gpu.List();
                var auto = list[Gpu.AutoIndex()].Kind;
                spec = list.Count(d => d.Kind == auto) >= 2 ? "all" : "cpu:2";
            }
            using var devices = Gpu.OpenSet(spec);
            return new ScaleReport(new Placement(devices), log).Measure(jsonPath, $"{devices.Count} devices in one process");
        }
        using var world = MpiWorld.Init();
        using var device = Gpu.OpenForLocalRank(DeviceSpec.Parse(spec).IsKindOnly ? spec : "auto", world.LocalRank);
        return new ScaleReport(new Placement([device], world), world.Rank == 0 ? log : TextWriter.Null)
            .Measure(world.Rank == 0 ? jsonPath : null, $"mpirun -np {world.Size}, one device per process");
    }

    private int Measure(string? jsonPath, string mode)
    {
        var devices = placement.Devices;
        log.WriteLine($"scale report: {mode}; {placement.Replicas} replicas on {devices[0].Info}");
        var cases = new List<CaseJson>();
        foreach (var c in Measured)
        {
            cases.Add(MeasureCase(c));
            if (failures.Count > 0) break;
        }
        var report = new ScaleJson("gpunet-bench-scale", 1, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), mode,
            placement.ProcessCount, devices.Count, devices[0].Info.ToString(), cases, failures);
        if (jsonPath != null) File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, Json.Options));
        log.WriteLine($"{"case",-26} {"replicas",8} {"1 device ms",12} {"replicated ms",14} {"host B/step",12} {"MPI B/step",11} {"all-reduce ms",14} {"share",6}");
        foreach (var r in cases)
            log.WriteLine($"{r.Name,-26} {r.Replicas,8} {(r.OneDeviceMs is { } one ? one.ToString("F3", CultureInfo.InvariantCulture) : "-"),12} " +
                $"{r.ReplicatedMs,14:F3} {r.HostBytesPerStep,12:N0} {r.MpiBytesPerStep,11:N0} {r.AllReduceMs,14:F3} {r.AllReduceShare,6:P0}");
        foreach (var f in failures) log.WriteLine("CHECK FAILED, nothing after it was timed: " + f);
        return failures.Count == 0 ? 0 : 1;
    }

    private CaseJson MeasureCase(Cases.StepCase c)
    {
        var devices = placement.Devices;
        // Check first: the same start and batches on one device (its default step, fused) and on the replicas.
        float[] After(StepRunner runner)
        {
            for (int i = 0; i < CheckSteps; i++) runner.Step();
            return runner.Network.Parameters.ReadAll();
        }
        float[] one, many;
        using (var r = new StepRunner(devices[0], c, kind: StepKind.Fused)) one = After(r);
        using (var r = new StepRunner(devices[0], c, kind: StepKind.Replicated, placement: placement)) many = After(r);
        double err = RestartComparison.RelativeError(many, one);
        if (!(err <= 1e-4)) failures.Add($"{c.Name}: the replicas' weights after {CheckSteps} steps differ from one device's by {err:E2}");

        double? oneMs = null;
        if (placement.ProcessCount == 1)
            using (var r = new StepRunner(devices[0], c, kind: StepKind.Fused)) oneMs = Median(r, [devices[0]]).Ms;
        using var runner = new StepRunner(devices[0], c, kind: StepKind.Replicated, placement: placement);
        var step = (ReplicatedStep)runner.TrainingStep;
        var (ms, exchangeMs) = Median(runner, devices, step);
        log.WriteLine($"{c.Name}: {ms:F3} ms a step on {placement.Replicas} replicas (check {err:E1})");
        return new CaseJson(c.Name, c.Batch, c.Spec.ParameterCount, placement.Replicas, oneMs, ms, step.HostBytesPerStep,
            step.MessageBytesPerStep, exchangeMs, exchangeMs / ms, err);
    }

    /// <summary>The median of 20 synchronised steps after 3 warm-up ones, and the all-reduce's part of it (its share of
    /// the 20 steps' time).</summary>
    private (double Ms, double ExchangeMs) Median(StepRunner runner, IReadOnlyList<Device> devices, ReplicatedStep? step = null)
    {
        void One()
        {
            runner.Step();
            foreach (var d in devices) d.Synchronize();
        }
        for (int i = 0; i < WarmUp; i++) One();
        placement.Processes?.Barrier();
        var before = step?.Exchanged.Elapsed ?? TimeSpan.Zero;
        var times = new double[Runs];
        for (int i = 0; i < Runs; i++)
        {
            var t = Stopwatch.StartNew();
            One();
            times[i] = t.Elapsed.TotalMilliseconds;
        }
        // The all-reduce's share is of the whole timed run (its mean over the mean step), applied to the median step.
        double share = ((step?.Exchanged.Elapsed ?? TimeSpan.Zero) - before).TotalMilliseconds / times.Sum();
        Array.Sort(times);
        double median = (times[Runs / 2 - 1] + times[Runs / 2]) / 2;
        return (median, share * median);
    }
}
