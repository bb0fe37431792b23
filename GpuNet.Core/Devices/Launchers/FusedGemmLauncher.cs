using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Launches the fused step's GEMMs (<see cref="GemmFused"/>): each checks its operands as
/// <see cref="GemmLauncher"/> does and what the fusion reads and writes besides.</summary>
public sealed class FusedGemmLauncher : Launcher
{
    internal FusedGemmLauncher(Device device) : base(device) { }

    /// <summary>Z = σ(A·Bᵀ + bias) (<see cref="GemmFused.Forward{TAct, TRows}"/>); with <paramref name="ordered"/>, A's rows
    /// are the data's through <see cref="GemmFusion.Order"/>.</summary>
    public void Forward(Activation act, in GemmArgs g, in GemmFusion f, bool ordered)
    {
        CheckPlain(g);
        if (g.TransA != 0 || g.TransB != 1) throw new ArgumentException("the fused forward GEMM takes A as stored (TransA 0) and W transposed (TransB 1)");
        if ((g.Count - 1) * f.BiasStride + f.BiasOffset + g.N > f.Bias.Length) throw new ArgumentException("fused forward GEMM: the bias lies outside its buffer");
        if (ordered) CheckOrder(f, g.M);
        if (Empty(g)) return;
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
        var k = ordered ? KernelRegistry.FusedWeightGradientOrdered : KernelRegistry.FusedWeightGradient;
        Kernel(k)(Linear(k.Name, Blocks(g)), g, f);
    }

    private static bool Empty(in GemmArgs g) => g.M == 0 || g.N == 0 || g.Count == 0;

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
