using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Bench;

/// <summary>The report's GEMM section: every variant the device can run at every case, each checked against float64
/// before it is timed, then <see cref="GemmVariant.Auto"/> (the tuned choice on a GPU), and which variant and plan
/// Auto gave each case.</summary>
internal sealed partial class Report
{
    /// <param name="Plan">How the launcher ran it (<see cref="GemmPlan"/>: load widths, k slices).</param>
    public sealed record GemmJson(string Name, string Variant, string Plan, int M, int N, int K, double MedianMs, double Gflops,
        double FractionOfPeak, double CheckRelError);

    /// <summary>The variant and plan <see cref="GemmVariant.Auto"/> gave a case.</summary>
    public sealed record GemmChoiceJson(string Name, string Variant, string Plan);

    /// <summary>A tuning decision in force after the GEMM section (see <see cref="GemmTuneEntry"/>).</summary>
    public sealed record GemmTuningJson(string ShapeClass, string Variant, bool FromCache, string Example,
        Dictionary<string, double> Ms, Dictionary<string, string> Excluded);

    // The barrier-bound small-group kernels (~10 µs a barrier per thread there) are timed up to these sizes.
    private const double CpuTiled8FlopCap = 1e6, CpuLarge16FlopCap = 3e6;

    private List<GemmChoiceJson> gemmChoices = [];

    private List<GemmTuningJson>? GemmTuning() => device.Gemm.Tuner?.Decisions
        .Select(d => new GemmTuningJson(d.ShapeClass, GemmTuner.Name(d.Variant), d.FromCache, d.Entry.Example, d.Entry.Ms, d.Entry.Excluded))
        .ToList();

    /// <summary>Measures every variant at every case (Auto last, on GPUs only: on the CPU accelerator it is the
    /// blocked kernel) into <paramref name="gemm"/>, calling <paramref name="save"/> after each; stops at the first
    /// failed check.</summary>
    private void MeasureGemms(List<GemmJson> gemm, List<Skipped> skipped, Action save)
    {
        foreach (var variant in Variants())
            foreach (var c in Cases.Gemm)
            {
                string? skip = SkipGemm(c, variant);
                if (skip != null) { skipped.Add(new($"gemm {Name(variant)} {c.Name}", skip)); continue; }
                gemm.Add(MeasureGemm(c, variant));
                save();
                if (failures.Count > 0) return;
            }
        gemmChoices = Cases.Gemm.Select(c => WithOperands(c, args =>
        {
            var plan = device.Gemm.Plan(args);
            return new GemmChoiceJson(c.Name, Name(plan.Variant), plan.ToString());
        })).ToList();
        save();
    }

    private string? SkipGemm(Cases.GemmCase c, GemmVariant variant)
    {
        if (cpu && c.Flop > CpuGemmFlopCap) return "too large for the CPU accelerator";
        if (cpu && variant == GemmVariant.Tiled8 && c.Flop > CpuTiled8FlopCap)
            return "barrier-bound on the CPU accelerator (~10 µs a barrier per thread)";
        if (cpu && variant is GemmVariant.Large16 or GemmVariant.SplitK16 && c.Flop > CpuLarge16FlopCap)
            return "barrier-bound on the CPU accelerator (~10 µs a barrier per thread)";
        if (!cpu && variant is GemmVariant.Naive or GemmVariant.Blocked or GemmVariant.Tiled8 && c.M * (long)c.N * c.K > 1024L * 1024 * 1024)
            return "the reference and CPU-shaped baselines are measured up to 1024³";
        return null;
    }

    private IEnumerable<GemmVariant> Variants()
    {
        int threads = device.Accelerator.MaxNumThreadsPerGroup;
        yield return GemmVariant.Naive;
        yield return GemmVariant.Blocked;
        yield return GemmVariant.Tiled8;
        if (threads >= 256) yield return GemmVariant.Tiled64;
        if (cpu)
        {
            // The test tile: what runs the large-tile code on small groups.
            yield return GemmVariant.Large16;
            yield return GemmVariant.SplitK16;
        }
        if (threads >= 64) yield return GemmVariant.Large64;
        if (threads >= 64) yield return GemmVariant.SplitK64;
        if (threads >= 256) yield return GemmVariant.Large128;
        if (threads >= 256) yield return GemmVariant.SplitK128;
        if (!cpu) yield return GemmVariant.Auto;
    }

    private static string Name(GemmVariant v) => v.ToString().ToLowerInvariant();

    /// <summary>Runs <paramref name="use"/> on device operands of the case (seeded values in [−1, 1)).</summary>
    private T WithOperands<T>(Cases.GemmCase c, Func<GemmArgs, T> use, Action<float[], float[]>? values = null)
    {
        var rng = new Random(c.M * 31 + c.N * 7 + c.K);
        var (aRows, aCols, bRows, bCols) = GemmSampleCheck.Layout(c);
        var a = Random(rng, (long)aRows * aCols);
        var b = Random(rng, (long)bRows * bCols);
        values?.Invoke(a, b);
        using var da = Upload(a);
        using var db = Upload(b);
        using var dc = device.Allocate((long)c.M * c.N);
        Poison(dc);
        return use(new GemmArgs
        {
            A = da.View, B = db.View, C = dc.View, M = c.M, N = c.N, K = c.K, Lda = aCols, Ldb = bCols, Ldc = c.N,
            TransA = c.TransA ? 1 : 0, TransB = c.TransB ? 1 : 0, Alpha = 1, Beta = 0, Count = 1,
        });
    }

    private GemmJson MeasureGemm(Cases.GemmCase c, GemmVariant variant)
    {
        float[] a = [], b = [];
        return WithOperands(c, args =>
        {
            var plan = device.Gemm.Plan(args, variant);
            device.Gemm.Run(args, variant);
            var got = new float[(long)c.M * c.N];
            args.C.SubView(0, got.Length).CopyToCPU(got);
            double err = GemmSampleCheck.RelativeError(c, a, b, got, new Random(c.K));
            if (!(err <= GemmSampleCheck.Tolerance(c.K)))
                failures.Add($"gemm {Name(variant)} ({plan}) {c.Name}: relative error {err:E2} against float64");
            double ms = Median(() => device.Gemm.Run(args, variant));
            double gflops = c.Flop / (ms * 1e-3) / 1e9;
            log.WriteLine($"gemm {Name(variant),-9} {c.Name,-22} {ms,9:F3} ms {gflops,9:F1} GFLOP/s  {plan}  (check {err:E1})");
            return new GemmJson(c.Name, Name(variant), plan.ToString(), c.M, c.N, c.K, ms, gflops, 0, err);
        }, (x, y) => { a = x; b = y; });
    }

    private void PrintGemm(ReportJson r)
    {
        log.WriteLine($"{"GEMM",-28} {"variant",-9} {"ms",10} {"GFLOP/s",10} {"of peak",8}  plan");
        foreach (var g in r.Gemm) log.WriteLine($"{g.Name,-28} {g.Variant,-9} {g.MedianMs,10:F3} {g.Gflops,10:F1} {g.FractionOfPeak,8:P1}  {g.Plan}");
        log.WriteLine($"{"GEMM case",-28} Auto runs");
        foreach (var g in r.GemmChoice) log.WriteLine($"{g.Name,-28} {g.Plan}");
        foreach (var t in r.GemmTuning ?? [])
            log.WriteLine($"tuned {t.ShapeClass}{(t.FromCache ? " (cache)" : "")}: {t.Variant}; " +
                string.Join(", ", t.Ms.Select(m => $"{m.Key} {m.Value:F3} ms")) +
                (t.Excluded.Count == 0 ? "" : "; excluded " + string.Join(", ", t.Excluded.Select(e => $"{e.Key} ({e.Value})"))));
    }
}
