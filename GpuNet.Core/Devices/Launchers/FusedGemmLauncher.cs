using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Launches the fused step's GEMMs: each checks its operands as <see cref="GemmLauncher"/> does and what the
/// fusion reads and writes besides. Where the device's GEMM (<see cref="GemmLauncher.Resolve"/>) is a large-tile
/// variant, the fused GEMM runs on that variant's tile (<see cref="GemmLarge.FusedForward"/> and its kin). Only the
/// forward GEMM is split in k where the plan splits it: its slices go to the workspace and the fixed-order sum applies
/// the bias and σ (one launch more, which saves far more on deep, narrow products); the backward GEMMs run whole, since
/// their epilogues and the bias gradient need the whole sum in one group. Otherwise (the CPU accelerator's Blocked) the
/// fused GEMMs run on the register-blocked kernels of <see cref="GemmFused"/>, which form the plain GEMM's sums in the
/// same order.</summary>
public sealed class FusedGemmLauncher : Launcher
{
    internal FusedGemmLauncher(Device device) : base(device) { }

    /// <summary>Z = σ(A·Bᵀ + bias) (<see cref="GemmFused.Forward{TAct, TRows}"/>); with <paramref name="ordered"/>, A's rows
    /// are the data's through <see cref="GemmFusion.Order"/>; with <paramref name="split"/>, the product may be split in k
    /// where the plan splits it (one launch more).</summary>
    public void Forward(Activation act, in GemmArgs g, in GemmFusion f, bool ordered, bool split = true)
    {
        CheckPlain(g);
        if (g.TransA != 0 || g.TransB != 1) throw new ArgumentException("the fused forward GEMM takes A as stored (TransA 0) and W transposed (TransB 1)");
        if ((g.Count - 1) * f.BiasStride + f.BiasOffset + g.N > f.Bias.Length) throw new ArgumentException("fused forward GEMM: the bias lies outside its buffer");
        if (ordered) CheckOrder(f, g.M);
        if (Empty(g)) return;
        if (LargePlan(g, split: split) is { } plan)
        {
            int rows = TileIndex(plan) * 2 + (ordered ? 1 : 0);
            if (plan.Slices > 1)
            {
                Device.Gemm.Large.FusedForwardSplit(KernelRegistry.FusedLargeForwardSlices[rows], act, g, f, plan);
                return;
            }
            var large = KernelRegistry.FusedLargeForward[rows * Activations + (int)act];
            Kernel(large)(LargeGrid(large.Name, plan, Tiles(g, plan)), g, Args(plan), f);
            return;
        }
        var k = (ordered ? KernelRegistry.FusedForwardOrdered : KernelRegistry.FusedForward)[act];
        Kernel(k)(Linear(k.Name, Blocks(g)), g, f);
    }

    /// <summary>dW (with the bias gradient) and δ_{l−1} = (δ·W) ⊙ σ'(z) in one launch
    /// (<see cref="GemmFused.BackwardPair{TAct}"/>, σ being <paramref name="previous"/>, layer l−1's function).</summary>
    public void BackwardPair(Activation previous, in GemmArgs dW, in GemmFusion fW, in GemmArgs dX, in GemmFusion fX)
    {
        CheckPlain(dW);
        CheckPlain(dX);
        CheckBiasGrad(dW, fW);
        if (fX.Aux.Length < (dX.Count - 1) * dX.StrideC + (long)(dX.M - 1) * dX.Ldc + dX.N) throw new ArgumentException("fused δ GEMM: z is smaller than δ");
        if (Empty(dW) && Empty(dX)) return;
        if (LargePair(dW, dX) is var (pW, pX))
        {
            var large = KernelRegistry.FusedLargeBackwardPair[TileIndex(pW) * Activations + (int)previous];
            Kernel(large)(LargeGrid(large.Name, pW, Tiles(dW, pW) + Tiles(dX, pX)), dW, Args(pW), fW, dX, Args(pX), fX);
            return;
        }
        var k = KernelRegistry.FusedBackwardPair[previous];
        Kernel(k)(Linear(k.Name, Blocks(dW) + Blocks(dX)), dW, fW, dX, fX);
    }

    /// <summary>The first layer's dW with its bias gradient (<see cref="GemmFused.WeightGradient{TRows}"/>); with
    /// <paramref name="ordered"/>, B's rows along k are the data's through <see cref="GemmFusion.Order"/>.</summary>
    public void WeightGradient(in GemmArgs g, in GemmFusion f, bool ordered)
    {
        CheckPlain(g);
        CheckBiasGrad(g, f);
        if (ordered) CheckOrder(f, g.K);
        if (Empty(g)) return;
        if (LargePlan(g) is { } plan)
        {
            var large = KernelRegistry.FusedLargeWeightGradient[TileIndex(plan) * 2 + (ordered ? 1 : 0)];
            Kernel(large)(LargeGrid(large.Name, plan, Tiles(g, plan)), g, Args(plan), f);
            return;
        }
        var k = ordered ? KernelRegistry.FusedWeightGradientOrdered : KernelRegistry.FusedWeightGradient;
        Kernel(k)(Linear(k.Name, Blocks(g)), g, f);
    }

    private static bool Empty(in GemmArgs g) => g.M == 0 || g.N == 0 || g.Count == 0;

    private static readonly int Activations = Enum.GetValues<Activation>().Length;

    /// <summary>The large-tile plan for <paramref name="g"/> (the operands' load widths; k slices where
    /// <paramref name="split"/> allows them, else one) when the device's GEMM resolves to a large-tile variant that can
    /// run it, else null.</summary>
    private GemmPlan? LargePlan(in GemmArgs g, GemmVariant variant = GemmVariant.Auto, bool split = false)
    {
        var v = variant == GemmVariant.Auto ? Device.Gemm.Resolve(g) : variant;
        if (!GemmSelection.IsLarge(v) || GemmSelection.Unsuitable(v, g, Accelerator.MaxNumThreadsPerGroup) != null) return null;
        return GemmSelection.Plan(v, g, Accelerator.NumMultiprocessors, slices: split ? null : 1);
    }

    /// <summary>Both products of the backward pair on one tile (the one the larger product resolves to), or null when
    /// either cannot run on it.</summary>
    private (GemmPlan W, GemmPlan X)? LargePair(in GemmArgs dW, in GemmArgs dX)
    {
        var lead = Work(dW) >= Work(dX) ? dW : dX;
        var v = Device.Gemm.Resolve(lead);
        return LargePlan(dW, v) is { } w && LargePlan(dX, v) is { } x ? (w, x) : null;
    }

    private static double Work(in GemmArgs g) => (double)g.M * g.N * Math.Max(g.K, 1) * g.Count;

    private static int TileIndex(in GemmPlan plan) => GemmLargeLauncher.TileIndex(plan.Variant);

    /// <summary>The kernel's view of a whole-product plan (one slice, all of k).</summary>
    private static GemmLargeArgs Args(in GemmPlan plan) => GemmLargeLauncher.Args(plan, 1, plan.KChunk, plan.VectorC);

    private static long Tiles(in GemmArgs g, in GemmPlan plan) => GemmLargeLauncher.FusedTileCount(g, plan.Variant);

    private KernelConfig LargeGrid(string name, in GemmPlan plan, long tiles) =>
        Count($"{name} ({GemmTuner.Name(plan.Variant)})", GemmLargeLauncher.FusedConfig(tiles, GemmSelection.Tile(plan.Variant).Threads));

    private static long Blocks(in GemmArgs g)
    {
        long blocks = (long)g.Count * ((g.M + 3) / 4) * ((g.N + 3) / 4);
        return blocks < int.MaxValue ? blocks : throw new ArgumentException($"fused GEMM of {blocks} blocks: the kernels count blocks in 32 bits");
    }

    private static void CheckPlain(in GemmArgs g)
    {
        GemmLauncher.Check(g);
        if (g.Alpha != 1f || g.Beta != 0f) throw new ArgumentException($"a fused GEMM computes C = A·B (α 1, β 0), not α {g.Alpha}, β {g.Beta}");
        Blocks(g);
    }

    private static void CheckBiasGrad(in GemmArgs g, in GemmFusion f)
    {
        if (f.HasBiasGrad != 0 && (g.Count - 1) * f.BiasGradStride + f.BiasGradOffset + g.M > f.BiasGrad.Length)
            throw new ArgumentException("fused weight-gradient GEMM: the bias gradient lies outside its buffer");
    }

    private static void CheckOrder(in GemmFusion f, int rows)
    {
        if (f.FirstRow < 0 || f.FirstRow + rows > f.Order.Length)
            throw new ArgumentException($"fused GEMM: rows {f.FirstRow}..{f.FirstRow + rows} outside the {f.Order.Length} of the order");
    }
}
