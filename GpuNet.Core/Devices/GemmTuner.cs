using System.Globalization;
using GpuNet.Kernels;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuNet.Devices;

/// <summary>One tuning decision in force in this process.</summary>
/// <param name="ShapeClass">The class it covers (<see cref="GemmShapeClass.Key"/>).</param>
/// <param name="Variant">The variant every GEMM of the class runs.</param>
/// <param name="FromCache">True when read from the cache file, false when measured in this process.</param>
/// <param name="Entry">What was measured.</param>
public sealed record GemmTuneDecision(string ShapeClass, GemmVariant Variant, bool FromCache, GemmTuneEntry Entry);

/// <summary>
/// Chooses the GEMM variant for each shape class on one GPU. On the first GEMM of a class it takes the candidates that
/// can run it, checks each on scratch operands of the same shape against the naive kernel on the same device (a
/// candidate that fails the check, or fails to compile or run, is excluded, and the exclusion reported on
/// <see cref="Log"/>), times the others with an <see cref="IGemmTimer"/>, and keeps the fastest (the first listed on a
/// tie). The decision is kept in the <see cref="GemmTuneCache"/> under the device's name, multiprocessor count and
/// driver, so later processes reuse it without measuring: with the same cache file every GEMM runs the same variant,
/// and a model trains to the same bits.
/// </summary>
public sealed class GemmTuner
{
    /// <summary>Candidate and naive kernel are both float32 dot products of length K with rounding errors of up to
    /// about K·u each (u = 2⁻²⁴), in different orders: they may differ by twice the GEMM tolerance of the tests,
    /// 2·(2·K·u + 1e-6) relative; a wrong or missing term is far outside.</summary>
    public static double Tolerance(int k) => 2 * (2.0 * Math.Max(k, 1) * 5.96e-8 + 1e-6);

    private readonly Device device;
    private readonly GemmTuneCache cache;
    private readonly IGemmTimer timer;
    private readonly Action<GemmVariant, GemmArgs> launch;
    private readonly Dictionary<string, GemmTuneDecision> decisions = [];
    private readonly object gate = new();
    private bool loadErrorReported;

    /// <summary>A tuner for <paramref name="device"/> keeping its decisions in <paramref name="cache"/>.</summary>
    /// <param name="device">The device whose GEMMs are tuned.</param>
    /// <param name="cache">Where decisions are read and written.</param>
    /// <param name="timer">The clock (default: <see cref="GemmDeviceTimer"/>).</param>
    /// <param name="candidates">The variants to choose from (default: <see cref="DefaultCandidates"/>).</param>
    public GemmTuner(Device device, GemmTuneCache cache, IGemmTimer? timer = null, IReadOnlyList<GemmVariant>? candidates = null)
        : this(device, cache, timer, candidates, null)
    {
    }

    /// <summary>As the public constructor; <paramref name="launch"/> replaces how a candidate is run (tests make one
    /// wrong on purpose).</summary>
    internal GemmTuner(Device device, GemmTuneCache cache, IGemmTimer? timer, IReadOnlyList<GemmVariant>? candidates,
        Action<GemmVariant, GemmArgs>? launch)
    {
        this.device = device;
        this.cache = cache;
        this.timer = timer ?? new GemmDeviceTimer(device);
        this.launch = launch ?? ((v, g) => device.Gemm.Run(g, v));
        Candidates = candidates ?? DefaultCandidates;
        if (Candidates.Count == 0 || Candidates.Contains(GemmVariant.Auto))
            throw new ArgumentException("GEMM tuning candidates must be concrete variants, at least one", nameof(candidates));
        DeviceKey = KeyOf(device);
    }

    /// <summary>The GPU candidates: the 64×64 shared-memory kernel that came before, the large-tile kernel with 128×128
    /// and 64×64 tiles, and both split over k.</summary>
    public static IReadOnlyList<GemmVariant> DefaultCandidates { get; } =
        [GemmVariant.Tiled64, GemmVariant.Large128, GemmVariant.Large64, GemmVariant.SplitK128, GemmVariant.SplitK64];

    /// <summary>The variants this tuner chooses from.</summary>
    public IReadOnlyList<GemmVariant> Candidates { get; }

    /// <summary>The device's key in the cache: name, multiprocessors (split-K counts depend on them) and driver.</summary>
    public string DeviceKey { get; }

    /// <summary>The cache in use.</summary>
    public GemmTuneCache Cache => cache;

    /// <summary>Where excluded candidates and cache problems are reported (default: standard error; null: nowhere).</summary>
    public TextWriter? Log { get; set; } = Console.Error;

    /// <summary>The decisions in force in this process, one per shape class used so far.</summary>
    public IReadOnlyList<GemmTuneDecision> Decisions
    {
        get { lock (gate) return decisions.Values.ToList(); }
    }

    /// <summary>The variant for <paramref name="g"/>: the decision for its class (from this process, the cache, or
    /// measured now). When that variant cannot run this particular product, <paramref name="fallback"/>.</summary>
    public GemmVariant Choose(in GemmArgs g, GemmVariant fallback)
    {
        string key = GemmShapeClass.Of(g).Key;
        GemmVariant v;
        lock (gate)
        {
            if (decisions.TryGetValue(key, out var known)) v = known.Variant;
            else v = Decide(key, g, fallback).Variant;
        }
        return GemmSelection.Unsuitable(v, g, device.Accelerator.MaxNumThreadsPerGroup) == null ? v : fallback;
    }

    private GemmTuneDecision Decide(string key, in GemmArgs g, GemmVariant fallback)
    {
        var cached = cache.Find(DeviceKey, key);
        if (!loadErrorReported && cache.LoadError != null)
        {
            Report(cache.LoadError);
            loadErrorReported = true;
        }
        GemmTuneDecision d;
        if (cached != null && Enum.TryParse<GemmVariant>(cached.Variant, true, out var v) && v != GemmVariant.Auto)
            d = new GemmTuneDecision(key, v, true, cached);
        else
        {
            d = Measure(key, g, fallback);
            if (d.Entry.Ms.Count > 0)
            {
                cache.Store(DeviceKey, key, d.Entry);
                Report(cache.SaveError);
            }
        }
        decisions[key] = d;
        return d;
    }

    /// <summary>Checks and times every suitable candidate on scratch operands shaped like <paramref name="g"/>.</summary>
    private GemmTuneDecision Measure(string key, in GemmArgs g, GemmVariant fallback)
    {
        string example = $"{g.M}×{g.N}×{g.K} count {g.Count}";
        var ms = new Dictionary<string, double>();
        var excluded = new Dictionary<string, string>();
        string today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (GemmScratch.Floats(g) > GemmScratch.MaxFloats)
        {
            excluded["*"] = $"not tuned: the product's operands exceed {GemmScratch.MaxFloats:N0} floats of scratch";
            return new GemmTuneDecision(key, fallback, false, new GemmTuneEntry(Name(fallback), today, example, ms, excluded));
        }
        GemmScratch scratch;
        try { scratch = new GemmScratch(device, g); }
        catch (DeviceMemoryException e)
        {
            excluded["*"] = $"not tuned: no room for scratch operands ({e.Bytes:N0} bytes asked)";
            return new GemmTuneDecision(key, fallback, false, new GemmTuneEntry(Name(fallback), today, example, ms, excluded));
        }
        using (scratch)
        {
            var passed = Check(scratch, excluded);
            foreach (var v in passed)
                ms[Name(v)] = timer.SecondsPerLaunch(v, () => launch(v, scratch.Args)) * 1e3;
        }
        var best = ms.Count == 0 ? fallback : Parse(ms.MinBy(p => p.Value).Key);
        if (excluded.Count > 0)
            Report($"GEMM tuning on {device.Info.Name}, {key}: excluded " +
                   string.Join("; ", excluded.Select(e => $"{e.Key} ({e.Value})")) + $"; using {Name(best)}");
        return new GemmTuneDecision(key, best, false, new GemmTuneEntry(Name(best), today, example, ms, excluded));
    }

    /// <summary>The candidates whose result on the scratch operands matches the naive kernel's.</summary>
    private List<GemmVariant> Check(GemmScratch scratch, Dictionary<string, string> excluded)
    {
        var g = scratch.Args;
        scratch.ResetC();
        launch(GemmVariant.Naive, g);
        var want = scratch.ReadC();
        var passed = new List<GemmVariant>();
        foreach (var v in Candidates)
        {
            string? why = GemmSelection.Unsuitable(v, g, device.Accelerator.MaxNumThreadsPerGroup);
            if (why != null) { excluded[Name(v)] = why; continue; }
            try
            {
                scratch.ResetC();
                launch(v, g);
                double err = RelativeError(scratch.ReadC(), want);
                if (err <= Tolerance(g.K)) passed.Add(v);
                else excluded[Name(v)] = $"result differs from the naive kernel's by {err:E2} relative (tolerance {Tolerance(g.K):E1})";
            }
            catch (Exception e) when (KernelFailedException.IsDeviceError(e) || e is NotSupportedException or KernelFailedException)
            {
                excluded[Name(v)] = $"failed: {e.Message}";
            }
        }
        return passed;
    }

    private static double RelativeError(float[] got, float[] want)
    {
        double num = 0, den = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = (double)got[i] - want[i];
            num += double.IsFinite(d) ? d * d : double.PositiveInfinity;
            den += (double)want[i] * want[i];
        }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }

    private void Report(string? message)
    {
        if (message != null) Log?.WriteLine($"gpunet: {message}");
    }

    internal static string Name(GemmVariant v) => v.ToString().ToLowerInvariant();

    private static GemmVariant Parse(string name) => Enum.Parse<GemmVariant>(name, true);

    /// <summary>Name, multiprocessors and driver of a device, e.g. <c>NVIDIA H200 | 132 multiprocessors | CUDA driver 12.4</c>.</summary>
    public static string KeyOf(Device device)
    {
        string driver = device.Accelerator switch
        {
            CudaAccelerator cuda => $"CUDA driver {cuda.DriverVersion}",
            CLAccelerator cl => $"OpenCL {cl.PlatformName} {cl.PlatformVersion}",
            _ => "ILGPU CPU accelerator",
        };
        return $"{device.Info.Name} | {device.Info.Multiprocessors} multiprocessors | {driver}";
    }
}
