using GpuNet.Kernels;

namespace GpuNet.Devices;

/// <summary>How <see cref="GemmVariant.Auto"/> becomes a concrete GEMM variant on a device, and the large-tile launches.</summary>
public sealed partial class GemmLauncher
{
    /// <summary>Environment variable that pins the GEMM variant of every device: a variant name (e.g. <c>large128</c>),
    /// <c>fixed</c> (no tuning: <see cref="DefaultVariant"/>) or <c>auto</c> (the default: tune on GPUs).</summary>
    public const string Variable = "GPUNET_GEMM";

    private GemmVariant pin = FromEnvironment().Pin;
    private bool fixedChoice = FromEnvironment().Fixed;
    private GemmTuner? tuner;
    private readonly object gate = new();

    /// <summary>A variant every <see cref="GemmVariant.Auto"/> GEMM on this device runs (<see cref="GemmVariant.Auto"/>:
    /// none pinned). Starts as <c>GPUNET_GEMM</c> says. A pinned variant that cannot run a product is an error naming why.</summary>
    public GemmVariant Pin
    {
        get => pin;
        set => pin = value;
    }

    /// <summary>False when <c>GPUNET_GEMM=fixed</c> (or when set false): GPUs then run <see cref="DefaultVariant"/>
    /// instead of tuning. Always false on the CPU accelerator, which never tunes.</summary>
    public bool Autotune
    {
        get => !fixedChoice && !Device.IsCpu;
        set => fixedChoice = !value;
    }

    /// <summary>The tuner of this device's GEMMs (created on first use, with the cache at
    /// <see cref="GemmTuneCache.DefaultPath"/>); settable to use another cache, timer or candidate list. Null on the
    /// CPU accelerator.</summary>
    public GemmTuner? Tuner
    {
        get
        {
            if (Device.IsCpu) return null;
            lock (gate) return tuner ??= new GemmTuner(Device, new GemmTuneCache(GemmTuneCache.DefaultPath()));
        }
        set { lock (gate) tuner = value; }
    }

    /// <summary>The concrete variant <see cref="GemmVariant.Auto"/> runs <paramref name="g"/> with: the pin, else on a
    /// GPU the tuned choice for its shape class (tuning it now on first use), else <see cref="DefaultVariant"/>.</summary>
    public GemmVariant Resolve(in GemmArgs g)
    {
        if (pin != GemmVariant.Auto) return pin;
        var fallback = GemmSelection.Unsuitable(defaultVariant, g, Accelerator.MaxNumThreadsPerGroup) == null ? defaultVariant : GemmVariant.Tiled64;
        if (!Autotune || g.M == 0 || g.N == 0 || g.Count == 0) return fallback;
        return Tuner!.Choose(g, fallback);
    }

    /// <summary>How <paramref name="variant"/> (Auto: <see cref="Resolve"/>) runs <paramref name="g"/> here: load widths
    /// and k slices.</summary>
    public GemmPlan Plan(in GemmArgs g, GemmVariant variant = GemmVariant.Auto)
    {
        if (variant == GemmVariant.Auto) variant = Resolve(g);
        return GemmSelection.Plan(variant, g, Accelerator.NumMultiprocessors);
    }

    /// <summary>Runs a large-tile variant; <paramref name="slices"/> overrides the split count of a split-K variant.</summary>
    internal void RunLarge(in GemmArgs g, GemmVariant variant, int? slices = null)
    {
        string? why = GemmSelection.Unsuitable(variant, g, Accelerator.MaxNumThreadsPerGroup);
        if (why != null)
            throw new NotSupportedException($"GEMM variant {GemmTuner.Name(variant)} cannot run {g.M}×{g.N}×{g.K} ({g.Count} product{(g.Count == 1 ? "" : "s")}) on {Device.Info.Name}: {why}");
        large.Run(g, GemmSelection.Plan(variant, g, Accelerator.NumMultiprocessors, slices));
    }

    /// <summary>Frees the split-K workspace (called when the device is disposed).</summary>
    internal void ReleaseWorkspace() => large.Dispose();

    private static (GemmVariant Pin, bool Fixed) FromEnvironment() => ParseSetting(Environment.GetEnvironmentVariable(Variable));

    /// <summary>What a <c>GPUNET_GEMM</c> value says: a pinned variant, or none (Auto), and whether tuning is off.</summary>
    /// <exception cref="GpuNetException">The value names no variant; the message lists the valid ones.</exception>
    internal static (GemmVariant Pin, bool Fixed) ParseSetting(string? setting)
    {
        string? value = setting?.Trim();
        if (string.IsNullOrEmpty(value) || value.Equals("auto", StringComparison.OrdinalIgnoreCase)) return (GemmVariant.Auto, false);
        if (value.Equals("fixed", StringComparison.OrdinalIgnoreCase)) return (GemmVariant.Auto, true);
        if (!int.TryParse(value, out _) && Enum.TryParse<GemmVariant>(value, true, out var v) && Enum.IsDefined(v)) return (v, false);
        var names = Enum.GetValues<GemmVariant>().Where(x => x != GemmVariant.Auto).Select(GemmTuner.Name);
        throw new GpuNetException($"{Variable}='{value}' is not a GEMM variant: use auto, fixed or one of {string.Join(", ", names)}");
    }
}
