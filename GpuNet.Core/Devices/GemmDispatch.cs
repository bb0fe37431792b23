using GpuNet.Kernels;

namespace GpuNet.Devices;

/// <summary>How <see cref="GemmVariant.Auto"/> becomes a concrete GEMM variant on a device, and the large-tile launches.</summary>
public sealed partial class DeviceKernels
{
    /// <summary>Environment variable that pins the GEMM variant of every device: a variant name (e.g. <c>large128</c>),
    /// <c>fixed</c> (no tuning: <see cref="DefaultGemm"/>) or <c>auto</c> (the default: tune on GPUs).</summary>
    public const string GemmVariable = "GPUNET_GEMM";

    private GemmVariant gemmPin = FromEnvironment().Pin;
    private bool gemmFixed = FromEnvironment().Fixed;
    private GemmTuner? gemmTuner;
    private GemmLargeLauncher? gemmLarge;
    private readonly object gemmGate = new();

    /// <summary>A variant every <see cref="GemmVariant.Auto"/> GEMM on this device runs (<see cref="GemmVariant.Auto"/>:
    /// none pinned). Starts as <c>GPUNET_GEMM</c> says. A pinned variant that cannot run a product is an error naming why.</summary>
    public GemmVariant GemmPin
    {
        get => gemmPin;
        set => gemmPin = value;
    }

    /// <summary>False when <c>GPUNET_GEMM=fixed</c> (or when set false): GPUs then run <see cref="DefaultGemm"/>
    /// instead of tuning. Always false on the CPU accelerator, which never tunes.</summary>
    public bool GemmAutotune
    {
        get => !gemmFixed && !device.IsCpu;
        set => gemmFixed = !value;
    }

    /// <summary>The tuner of this device's GEMMs (created on first use, with the cache at
    /// <see cref="GemmTuneCache.DefaultPath"/>); settable to use another cache, timer or candidate list. Null on the
    /// CPU accelerator.</summary>
    public GemmTuner? GemmTuning
    {
        get
        {
            if (device.IsCpu) return null;
            lock (gemmGate) return gemmTuner ??= new GemmTuner(device, new GemmTuneCache(GemmTuneCache.DefaultPath()));
        }
        set { lock (gemmGate) gemmTuner = value; }
    }

    /// <summary>The concrete variant <see cref="GemmVariant.Auto"/> runs <paramref name="g"/> with: the pin, else on a
    /// GPU the tuned choice for its shape class (tuning it now on first use), else <see cref="DefaultGemm"/>.</summary>
    public GemmVariant ResolveGemm(in GemmArgs g)
    {
        if (gemmPin != GemmVariant.Auto) return gemmPin;
        var fallback = GemmSelection.Unsuitable(DefaultGemm, g, acc.MaxNumThreadsPerGroup) == null ? DefaultGemm : GemmVariant.Tiled64;
        if (!GemmAutotune || g.M == 0 || g.N == 0 || g.Batch == 0) return fallback;
        return GemmTuning!.Choose(g, fallback);
    }

    /// <summary>How <paramref name="variant"/> (Auto: <see cref="ResolveGemm"/>) runs <paramref name="g"/> here: load
    /// widths and k slices.</summary>
    public GemmPlan PlanGemm(in GemmArgs g, GemmVariant variant = GemmVariant.Auto)
    {
        if (variant == GemmVariant.Auto) variant = ResolveGemm(g);
        return GemmSelection.Plan(variant, g, acc.NumMultiprocessors);
    }

    /// <summary>Runs a large-tile variant; <paramref name="slices"/> overrides the split count of a split-K variant.</summary>
    internal void LaunchLarge(in GemmArgs g, GemmVariant variant, int? slices = null)
    {
        string? why = GemmSelection.Unsuitable(variant, g, acc.MaxNumThreadsPerGroup);
        if (why != null)
            throw new NotSupportedException($"GEMM variant {GemmTuner.Name(variant)} cannot run {g.M}×{g.N}×{g.K} (count {g.Batch}) on {device.Info.Name}: {why}");
        var plan = GemmSelection.Plan(variant, g, acc.NumMultiprocessors, slices);
        lock (gemmGate) gemmLarge ??= new GemmLargeLauncher(acc, CountLaunch, device.Synchronize);
        gemmLarge.Launch(g, plan);
    }

    /// <summary>Counts a launch made outside this file's launchers and names it as the last kernel.</summary>
    internal void CountLaunch(string kernel)
    {
        LastKernel = kernel;
        Interlocked.Increment(ref launchCount);
    }

    /// <summary>Frees the split-K workspace (called when the device is disposed).</summary>
    internal void ReleaseGemmWorkspace()
    {
        lock (gemmGate) gemmLarge?.Dispose();
    }

    private static (GemmVariant Pin, bool Fixed) FromEnvironment() => ParseGemmSetting(Environment.GetEnvironmentVariable(GemmVariable));

    /// <summary>What a <c>GPUNET_GEMM</c> value says: a pinned variant, or none (Auto), and whether tuning is off.</summary>
    /// <exception cref="GpuNetException">The value names no variant; the message lists the valid ones.</exception>
    internal static (GemmVariant Pin, bool Fixed) ParseGemmSetting(string? setting)
    {
        string? value = setting?.Trim();
        if (string.IsNullOrEmpty(value) || value.Equals("auto", StringComparison.OrdinalIgnoreCase)) return (GemmVariant.Auto, false);
        if (value.Equals("fixed", StringComparison.OrdinalIgnoreCase)) return (GemmVariant.Auto, true);
        if (!int.TryParse(value, out _) && Enum.TryParse<GemmVariant>(value, true, out var v) && Enum.IsDefined(v)) return (v, false);
        var names = Enum.GetValues<GemmVariant>().Where(x => x != GemmVariant.Auto).Select(GemmTuner.Name);
        throw new GpuNetException($"{GemmVariable}='{value}' is not a GEMM variant: use auto, fixed or one of {string.Join(", ", names)}");
    }
}
