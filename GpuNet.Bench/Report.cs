using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using GpuNet.Training;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;
using ILGPU.Runtime.Cuda;

namespace GpuNet.Bench;

/// <summary>
/// The quick device report: every case is checked against a float64 reference first (a failed check ends the
/// report with exit code 1 before anything is timed), then timed as the median of 20 synchronised runs after
/// warm-up, with kernel loading and copies outside the timed region. JSON shape: see docs/BENCHMARKS.md.
/// </summary>
internal sealed partial class Report
{
    private const int WarmUp = 3;
    private readonly int runs;
    private readonly Device device;
    private readonly bool cpu;
    private readonly TextWriter log;
    private readonly List<string> failures = [];

    // The CPU accelerator is a simulator: cases above these sizes would take minutes there and are listed as skipped.
    private const double CpuGemmFlopCap = 0.6e9, CpuStepFlopCap = 2e9;

    /// <summary>A report timing each case as the median of <paramref name="runs"/> runs (20 by default; fewer for a
    /// quick pass, such as a dry run of the GPU script on the CPU accelerator).</summary>
    public Report(Device device, TextWriter log, int runs = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        this.runs = runs;
        this.device = device;
        cpu = device.IsCpu;
        this.log = log;
    }

    public sealed record DeviceJson(string Name, string Kind, long MemoryBytes, string? Driver, int Multiprocessors, int WarpSize, int MaxThreadsPerGroup);
    public sealed record PeakJson(double BandwidthGbs, double BestGemmGflops, double? DatasheetGflops, double? DatasheetGbs);
    public sealed record StepJson(string Name, string Step, int Batch, int Restarts, double MedianMs, double SamplesPerS, double Gflop, double Gflops,
        double LaunchesPerStep, double SyncsPerStep, double TrainerSyncsPerEpoch, double CheckRelError);
    public sealed record KernelJson(string Name, long Elements, double MedianMs, double Gbs, double FractionOfPeak, double CheckRelError);
    public sealed record Skipped(string Name, string Reason);
    public sealed record ReportJson(string Tool, int Version, string Date, DeviceJson Device, PeakJson Peak, List<GemmJson> Gemm,
        List<GemmChoiceJson> GemmChoice, List<GemmTuningJson>? GemmTuning, List<StepJson> TrainStep, List<KernelJson> Elementwise, List<Skipped> Skipped, List<string> Failures, double Seconds);

    public int Run(string? jsonPath)
    {
        var clock = Stopwatch.StartNew();
        var info = device.Info;
        string? driver = device.Accelerator is CudaAccelerator cuda ? cuda.DriverVersion.ToString() : null;
        log.WriteLine($"device: {info}{(driver == null ? "" : $", CUDA driver {driver}")}");
        var skipped = new List<Skipped>();
        double bandwidth = PeakBandwidth();
        log.WriteLine($"peak bandwidth (device-to-device copy): {bandwidth:F1} GB/s");
        var (dsFlops, dsGbs) = Datasheet(info.Name);

        var gemm = new List<GemmJson>();
        var steps = new List<StepJson>();
        List<KernelJson> kernels = [];
        // The JSON is rewritten after every case, so a run cut short (a device fault, a timeout) keeps what it measured.
        void Save() => Write(jsonPath, clock, info, driver, bandwidth, dsFlops, dsGbs, gemm, steps, kernels, skipped);
        MeasureGemms(gemm, skipped, Save);
        if (failures.Count > 0) return Finish(jsonPath, clock, info, driver, bandwidth, dsFlops, dsGbs, gemm, [], [], skipped);
        double bestGemm = gemm.Count == 0 ? 0 : gemm.Max(g => g.Gflops);
        double peakFlops = dsFlops ?? bestGemm;
        gemm = gemm.Select(g => g with { FractionOfPeak = g.Gflops / peakFlops }).ToList();

        kernels = MeasureElementwise(bandwidth);
        Save();
        if (failures.Count > 0) return Finish(jsonPath, clock, info, driver, bandwidth, dsFlops, dsGbs, gemm, [], kernels, skipped);

        foreach (var c in Cases.Steps)
        {
            if (cpu && c.Flop > CpuStepFlopCap) { skipped.Add(new($"step {c.Name}", "too large for the CPU accelerator")); continue; }
            // Both ways of running the step, on the same device, one after the other.
            var reference = StepOnce(c, GemmVariant.Naive, StepKind.Layered); // one reference for both
            foreach (var kind in new[] { StepKind.Fused, StepKind.Layered }) steps.Add(MeasureStep(c, kind, reference));
            Save();
            if (failures.Count > 0) break;
        }
        return Finish(jsonPath, clock, info, driver, bandwidth, dsFlops, dsGbs, gemm, steps, kernels, skipped);
    }

    private int Finish(string? jsonPath, Stopwatch clock, DeviceInfo info, string? driver, double bandwidth, double? dsFlops, double? dsGbs,
        List<GemmJson> gemm, List<StepJson> steps, List<KernelJson> kernels, List<Skipped> skipped)
    {
        var report = Write(jsonPath, clock, info, driver, bandwidth, dsFlops, dsGbs, gemm, steps, kernels, skipped);
        PrintTable(report);
        if (failures.Count > 0)
        {
            log.WriteLine("CHECK FAILED, nothing after it was timed:");
            foreach (var f in failures) log.WriteLine("  " + f);
            return 1;
        }
        return 0;
    }

    private ReportJson Write(string? jsonPath, Stopwatch clock, DeviceInfo info, string? driver, double bandwidth, double? dsFlops, double? dsGbs,
        List<GemmJson> gemm, List<StepJson> steps, List<KernelJson> kernels, List<Skipped> skipped)
    {
        var report = new ReportJson("gpunet-bench", 1, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            new DeviceJson(info.Name, info.Kind.ToString().ToLowerInvariant(), info.MemoryBytes, driver, info.Multiprocessors, info.WarpSize, info.MaxThreadsPerGroup),
            new PeakJson(bandwidth, gemm.Count == 0 ? 0 : gemm.Max(g => g.Gflops), dsFlops, dsGbs),
            gemm, gemmChoices, GemmTuning(), steps, kernels, skipped, failures, clock.Elapsed.TotalSeconds);
        if (jsonPath != null)
        {
            // Written beside and renamed, so a run killed mid-write leaves the previous complete file.
            File.WriteAllText(jsonPath + ".part", JsonSerializer.Serialize(report, Json.Options));
            File.Move(jsonPath + ".part", jsonPath, overwrite: true);
        }
        return report;
    }

    private void PrintTable(ReportJson r)
    {
        log.WriteLine();
        PrintGemm(r);
        log.WriteLine($"{"kernel",-37} {"ms",10} {"GB/s",10} {"of peak",8}");
        foreach (var k in r.Elementwise) log.WriteLine($"{k.Name,-37} {k.MedianMs,10:F3} {k.Gbs,10:F1} {k.FractionOfPeak,8:P1}");
        log.WriteLine($"{"training step",-34} {"step",-8} {"ms",10} {"samples/s",12} {"GFLOP/s",9} {"launches",9} {"syncs",6}");
        foreach (var s in r.TrainStep)
            log.WriteLine($"{s.Name,-34} {s.Step,-8} {s.MedianMs,10:F3} {s.SamplesPerS,12:F0} {s.Gflops,9:F1} {s.LaunchesPerStep,9:F0} {s.SyncsPerStep,6:F0}");
        foreach (var s in r.Skipped) log.WriteLine($"skipped: {s.Name} ({s.Reason})");
        log.WriteLine($"report took {r.Seconds:F0} s");
    }

    /// <summary>Datasheet peaks of known devices: FP32 FLOP/s (no tensor cores) and memory bandwidth.</summary>
    private static (double? Gflops, double? Gbs) Datasheet(string name) =>
        name.Contains("H200", StringComparison.OrdinalIgnoreCase) ? (67_000, 4_800)
        : name.Contains("H100", StringComparison.OrdinalIgnoreCase) ? (67_000, 3_350)
        : (null, null);

    private double Median(Action enqueue)
    {
        for (int i = 0; i < WarmUp; i++) enqueue();
        device.Accelerator.Synchronize();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var t = Stopwatch.StartNew();
            enqueue();
            device.Accelerator.Synchronize();
            times[i] = t.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
    }

    private double PeakBandwidth()
    {
        long n = cpu ? 4L << 20 : 256L << 20; // floats
        using var a = device.Allocate(n);
        using var b = device.Allocate(n);
        a.MemSetToZero();
        double ms = Median(() => a.View.CopyTo(b.View));
        return 2.0 * n * sizeof(float) / (ms * 1e-3) / 1e9;
    }

    private List<KernelJson> MeasureElementwise(double bandwidth)
    {
        var list = new List<KernelJson>();
        int rows = cpu ? 1024 : 16384, width = 1024;
        long n = (long)rows * width;
        var rng = new Random(5);
        var z0 = Random(rng, n);
        var bias = Random(rng, width);
        using var z = Upload(z0);
        using var p = Upload(bias);
        using var g = Upload(Random(rng, n));
        KernelJson Add(string name, long bytes, double err, Action enqueue)
        {
            double ms = Median(enqueue);
            double gbs = bytes / (ms * 1e-3) / 1e9;
            log.WriteLine($"{name,-37} {ms,9:F3} ms {gbs,9:F1} GB/s  (check {err:E1})");
            return new KernelJson(name, n, ms, gbs, gbs / bandwidth, err);
        }

        // bias + ReLU in place: reads z and the bias, writes z
        device.Elementwise.BiasActivate(Activation.Relu, z.View, p.View, 0, 0, rows, width);
        var zr = z.GetAsArray1D();
        double err = Check(zr, i => Math.Max(0.0, z0[i] + (double)bias[i % width]), n);
        if (err > 1e-6) failures.Add($"bias+relu: relative error {err:E2}");
        list.Add(Add($"bias+relu {rows}x{width}", 2 * n * 4, err, () => device.Elementwise.BiasActivate(Activation.Relu, z.View, p.View, 0, 0, rows, width)));

        // σ' backward: reads δ and z, writes δ
        list.Add(Add($"relu backward {rows}x{width}", 3 * n * 4, 0, () => device.Elementwise.ActivationBackward(Activation.Relu, g.View, z.View, n)));

        // column sums (bias gradient): reads the matrix once
        using var col = device.Allocate(width);
        Poison(col);
        device.Reductions.ColumnSum(g.View, col.View, 0, 0, 1, rows, width);
        var gh = g.GetAsArray1D();
        var colRef = new double[width];
        for (long i = 0; i < n; i++) colRef[i % width] += gh[i];
        var colGot = col.GetAsArray1D();
        err = Check(colGot, i => colRef[i], width);
        if (err > 1e-5) failures.Add($"column sum: relative error {err:E2}");
        list.Add(Add($"column sum {rows}x{width}", n * 4, err, () => device.Reductions.ColumnSum(g.View, col.View, 0, 0, 1, rows, width)));

        // Adam over n parameters: reads w, g, m, v; writes w, m, v
        using var w = Upload(Random(rng, n));
        using var m = device.Allocate(n);
        using var v = device.Allocate(n);
        m.MemSetToZero();
        v.MemSetToZero();
        using var mask = device.Allocate(1);
        var step = new OptimizerStep { LearningRate = 1e-3f, Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, Correction1 = 0.1f, Correction2 = 0.001f, ParamsPerNet = n };
        list.Add(Add($"adam {n} parameters", 7 * n * 4, 0, () => device.Optimizers.Adam(w.View, g.View, m.View, v.View, mask.View, step)));
        return list;
    }

    /// <summary>The parameters after one step of <paramref name="how"/> from the case's start, the GEMM pinned to
    /// <paramref name="variant"/> for that step only.</summary>
    private float[] StepOnce(Cases.StepCase c, GemmVariant variant, StepKind how)
    {
        var k = device.Gemm;
        var pinned = k.Pin;
        k.Pin = variant;
        try
        {
            using var r = new StepRunner(device, c, kind: how);
            r.Step();
            return r.Network.Parameters.ReadAll();
        }
        finally { k.Pin = pinned; }
    }

    /// <param name="reference">The parameters after one layer-by-layer step with the naive reference GEMM, same start.</param>
    private StepJson MeasureStep(Cases.StepCase c, StepKind kind, float[] reference)
    {
        // Check: one step of this kind with this device's GEMM against the reference.
        var counters = device.Counters;
        var got = StepOnce(c, device.Gemm.Pin, kind);
        double err = Check(got, i => reference[i], got.Length);
        if (err > 1e-4) failures.Add($"step {c.Name} ({kind.Name()}): parameters after one step differ from the naive-GEMM layered step by {err:E2}");

        using var runner = new StepRunner(device, c, kind: kind);
        long launches0 = counters.Launches, syncs0 = counters.Syncs;
        const int counted = 8;
        for (int i = 0; i < counted; i++) runner.Step();
        double launches = (counters.Launches - launches0) / (double)counted;
        double syncs = (counters.Syncs - syncs0) / (double)counted;
        double ms = Median(runner.Step);
        double samples = (double)c.Batch * c.Restarts / (ms * 1e-3);
        double gflops = c.Flop / (ms * 1e-3) / 1e9;

        // The trainer's own synchronisations: 2 epochs of a small run, minus the final evaluation's read.
        double perEpoch;
        using (var net = new Network(device, c.Spec, Math.Min(c.Restarts, 4)))
        using (var t = new Trainer(net, new TrainOptions { Epochs = 2, BatchSize = c.Batch, Loss = c.Classification ? LossFunction.CrossEntropy : LossFunction.MeanSquaredError, Step = kind }))
        {
            var rng = new Random(3);
            int rows = c.Batch * 2;
            var x = Random(rng, (long)rows * c.Spec.InputSize);
            var y = Random(rng, (long)rows * c.Spec.OutputSize);
            long s0 = counters.Syncs;
            t.Fit(GpuNet.Data.Dataset.Regression(x, c.Spec.InputSize, y, c.Spec.OutputSize));
            perEpoch = (counters.Syncs - s0 - 1) / 2.0;
        }
        log.WriteLine($"step {c.Name,-34} {kind.Name(),-8} {ms,9:F3} ms {samples,12:F0} samples/s {gflops,8:F1} GFLOP/s {launches:F0} launches, {syncs:F0} syncs/step (check {err:E1})");
        return new StepJson(c.Name, kind.Name(), c.Batch, c.Restarts, ms, samples, c.Flop / 1e9, gflops, launches, syncs, perEpoch, err);
    }

    private static double Check(float[] got, Func<long, double> reference, long n)
    {
        double num = 0, den = 0;
        for (long i = 0; i < n; i++)
        {
            double r = reference(i), d = got[i] - r;
            num += double.IsNaN(d) ? double.PositiveInfinity : d * d;
            den += r * r;
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }

    private static float[] Random(Random rng, long n)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] data)
    {
        var b = device.Allocate(data.Length);
        b.View.CopyFromCPU(data);
        return b;
    }

    private static void Poison(MemoryBuffer1D<float, Stride1D.Dense> b)
    {
        var nan = new float[b.Length];
        Array.Fill(nan, float.NaN);
        b.View.CopyFromCPU(nan);
    }
}

internal static class Json
{
    // A failed check's error can be NaN or infinite: written as "NaN" / "Infinity" rather than failing the write.
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
