// Shapes: parameters, gradients and optimizer moments are the flat [R, P] buffer of R restarts;
// mask is [P] (1 = edge present, 0 = missing edge), shared by the R restarts, or empty.
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>Hyper-parameters of one optimizer step, fixed for that step (the step size may follow
/// a schedule from step to step).</summary>
public struct OptimizerStep
{
    /// <summary>Step size η.</summary>
    public float LearningRate;
    /// <summary>Momentum μ (momentum) or β₁ (Adam).</summary>
    public float Beta1;
    /// <summary>β₂ (Adam).</summary>
    public float Beta2;
    /// <summary>ε (Adam).</summary>
    public float Epsilon;
    /// <summary>Weight decay λ (L2 added to the gradient for SGD and momentum, decoupled for Adam).</summary>
    public float WeightDecay;
    /// <summary>1 − β₁ᵗ and 1 − β₂ᵗ, Adam's bias corrections at step t (host-computed).</summary>
    public float Correction1, Correction2;
    /// <summary>1 for Nesterov momentum.</summary>
    public int Nesterov;
    /// <summary>Parameters per network (P), to index the mask.</summary>
    public long ParamsPerNet;
    /// <summary>1 when mask is present.</summary>
    public int HasMask;
}

/// <summary>Fused optimizer updates, one thread per parameter in a grid-stride loop (explicitly
/// grouped, any 1-D grid and group). A masked parameter is set to exactly 0 and its moments stay
/// untouched, so a missing edge stays missing whatever the gradient says.</summary>
public static class Optimizers
{
    /// <summary>w ← w − η (g + λ w).</summary>
    public static void Sgd(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, OptimizerStep s)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long n = w.Length;
        for (long i = start; i < n; i += stride)
        {
            if (s.HasMask != 0 && mask[i % s.ParamsPerNet] == 0f) { w[i] = 0f; continue; }
            float wi = w[i];
            w[i] = wi - s.LearningRate * (g[i] + s.WeightDecay * wi);
        }
    }

    /// <summary>v ← μ v + (g + λ w); w ← w − η v (classic), or w ← w − η (g + λw + μ v) (Nesterov),
    /// as PyTorch's SGD with momentum and dampening 0.</summary>
    public static void Momentum(ArrayView<float> w, ArrayView<float> g, ArrayView<float> v,
        ArrayView<float> mask, OptimizerStep s)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long n = w.Length;
        for (long i = start; i < n; i += stride)
        {
            if (s.HasMask != 0 && mask[i % s.ParamsPerNet] == 0f) { w[i] = 0f; continue; }
            float wi = w[i];
            float gi = g[i] + s.WeightDecay * wi;
            float vi = s.Beta1 * v[i] + gi;
            v[i] = vi;
            w[i] = wi - s.LearningRate * (s.Nesterov != 0 ? gi + s.Beta1 * vi : vi);
        }
    }

    /// <summary>Adam with decoupled weight decay (AdamW; λ = 0 is plain Adam):
    /// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − η λ w − η (m/c₁) / (√(v/c₂) + ε).</summary>
    public static void Adam(ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> mask, OptimizerStep s)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long n = w.Length;
        for (long i = start; i < n; i += stride)
        {
            if (s.HasMask != 0 && mask[i % s.ParamsPerNet] == 0f) { w[i] = 0f; continue; }
            float gi = g[i];
            float mi = s.Beta1 * m[i] + (1f - s.Beta1) * gi;
            float vi = s.Beta2 * v[i] + (1f - s.Beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            float wi = w[i];
            wi -= s.LearningRate * s.WeightDecay * wi;
            w[i] = wi - s.LearningRate * (mi / s.Correction1) / (XMath.Sqrt(vi / s.Correction2) + s.Epsilon);
        }
    }

    /// <summary>g[i] ← 0 wherever the mask marks a missing edge (g is the flat [R, P] gradient buffer). The backward
    /// GEMM computes a missing edge's entry like any other (the gradient the edge would have if it existed); the
    /// optimizers ignore it, and this kernel clears it where the gradient itself is wanted.</summary>
    public static void ZeroMasked(ArrayView<float> g, ArrayView<float> mask, long paramsPerNet)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long n = g.Length;
        for (long i = start; i < n; i += stride)
            if (mask[i % paramsPerNet] == 0f) g[i] = 0f;
    }
}
