namespace GpuNet.Devices;

/// <summary>One figure a GEMM kernel's SASS is held to: what it asks, whether the kernel meets it, and the kernel's
/// own value.</summary>
internal sealed record TargetCheck(GemmTarget Target, string Requirement, bool Met, string Value);

/// <summary>The figures a production GEMM's SASS must meet on sm_90 (flags, so a kernel can be held to some of them).</summary>
[Flags]
internal enum GemmTarget
{
    /// <summary>No figure.</summary>
    None = 0,
    /// <summary>FFMA is at least <see cref="GemmLoopTargets.MinFfmaShare"/> of the inner loop's instructions.</summary>
    FfmaShare = 1,
    /// <summary>The inner loop reads shared memory with 128-bit loads (LDS.128).</summary>
    SharedLoads128 = 2,
    /// <summary>No register spills and no stack frame.</summary>
    NoSpills = 4,
    /// <summary>At most 48 KiB of shared memory a block (ILGPU 1.5.3's cap).</summary>
    Shared48K = 8,
    /// <summary>At least two blocks resident per SM.</summary>
    TwoBlocksPerSm = 16,
    /// <summary>Every figure.</summary>
    All = FfmaShare | SharedLoads128 | NoSpills | Shared48K | TwoBlocksPerSm,
}

/// <summary>The figures of <see cref="GemmTarget"/> and how a kernel's SASS is checked against them.</summary>
internal static class GemmLoopTargets
{
    /// <summary>Least share of FFMA among the inner loop's instructions.</summary>
    public const double MinFfmaShare = 0.60;
    /// <summary>Most shared memory a block may use.</summary>
    public const int MaxSharedBytes = 48 * 1024;
    /// <summary>Least blocks resident per SM.</summary>
    public const int MinBlocksPerSm = 2;

    /// <summary>Every figure for <paramref name="k"/>, met or not.</summary>
    public static IReadOnlyList<TargetCheck> Check(KernelSass k)
    {
        var mix = k.HotLoopMix;
        return
        [
            new(GemmTarget.FfmaShare, $"inner-loop FFMA share ≥ {MinFfmaShare:P0}", mix != null && mix.FfmaShare >= MinFfmaShare,
                mix == null ? "no loop" : $"{mix.FfmaShare:P1} ({mix.Ffma} of {mix.Total})"),
            new(GemmTarget.SharedLoads128, "128-bit shared loads in the inner loop", mix != null && mix.SharedLoads128 > 0,
                mix == null ? "no loop" : $"{mix.SharedLoads128} LDS.128 of {mix.SharedLoads} LDS"),
            new(GemmTarget.NoSpills, "no spills, no stack", k.Resources.SpillBytes == 0 && k.Resources.StackBytes == 0,
                $"{k.Resources.SpillBytes} B spilled, {k.Resources.StackBytes} B stack"),
            new(GemmTarget.Shared48K, $"≤ {MaxSharedBytes / 1024} KiB shared a block", k.Resources.SharedBytes <= MaxSharedBytes,
                $"{k.Resources.SharedBytes} B"),
            new(GemmTarget.TwoBlocksPerSm, $"≥ {MinBlocksPerSm} blocks per SM", k.Occupancy.BlocksPerSm >= MinBlocksPerSm,
                $"{k.Occupancy.BlocksPerSm} ({k.Occupancy.Limiter})"),
        ];
    }
}
