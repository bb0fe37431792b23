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

/// <summary>Fused optimizer updates, one thread per parameter in a grid-stride loop (explicitly grouped, any 1-D grid
/// and group; P below 2³⁰). Each iteration handles two grid-stride positions, loading both before storing either, so
/// each thread keeps several loads in flight. A masked parameter is set to exactly 0 and its moments stay untouched,
/// so a missing edge stays missing whatever the gradient says; its place in the [P] mask follows the flat index by
/// additions (<see cref="IndexWalk"/>), with no division per element.</summary>
public static class Optimizers
{
    /// <summary>w ← w − η (g + λ w).</summary>
    public static void Sgd(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, OptimizerStep s)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long n = w.Length;
        var at = IndexWalk.Start(start, stride, (int)s.ParamsPerNet, 1);
        long i = start;
        for (; i + stride < n; i += 2L * stride)
        {
            var at1 = at.Next();
            float w0 = w[i], g0 = g[i], w1 = w[i + stride], g1 = g[i + stride];
            bool keep0 = Keeps(mask, s, at), keep1 = Keeps(mask, s, at1);
            w[i] = keep0 ? w0 - s.LearningRate * (g0 + s.WeightDecay * w0) : 0f;
            w[i + stride] = keep1 ? w1 - s.LearningRate * (g1 + s.WeightDecay * w1) : 0f;
            at = at1.Next();
        }
        if (i < n)
        {
            float wi = w[i];
            w[i] = Keeps(mask, s, at) ? wi - s.LearningRate * (g[i] + s.WeightDecay * wi) : 0f;
        }
    }

    /// <summary>v ← μ v + (g + λ w); w ← w − η v (classic), or w ← w − η (g + λw + μ v) (Nesterov),
    /// as PyTorch's SGD with momentum and dampening 0.</summary>
    public static void Momentum(ArrayView<float> w, ArrayView<float> g, ArrayView<float> v,
        ArrayView<float> mask, OptimizerStep s)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long n = w.Length;
        var at = IndexWalk.Start(start, stride, (int)s.ParamsPerNet, 1);
        long i = start;
        for (; i + stride < n; i += 2L * stride)
        {
            var at1 = at.Next();
            long i1 = i + stride;
            float w0 = w[i], g0 = g[i], v0 = v[i], w1 = w[i1], g1 = g[i1], v1 = v[i1];
            MomentumStore(w, v, i, Keeps(mask, s, at), w0, g0, v0, s);
            MomentumStore(w, v, i1, Keeps(mask, s, at1), w1, g1, v1, s);
            at = at1.Next();
        }
        if (i < n) MomentumStore(w, v, i, Keeps(mask, s, at), w[i], g[i], v[i], s);
    }

    private static void MomentumStore(ArrayView<float> w, ArrayView<float> v, long i, bool keep, float wi, float g, float vOld, OptimizerStep s)
    {
        if (!keep) { w[i] = 0f; return; }
        float gi = g + s.WeightDecay * wi;
        float vi = s.Beta1 * vOld + gi;
        v[i] = vi;
        w[i] = wi - s.LearningRate * (s.Nesterov != 0 ? gi + s.Beta1 * vi : vi);
    }

    /// <summary>Adam with decoupled weight decay (AdamW; λ = 0 is plain Adam):
    /// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; w ← w − η λ w − η (m/c₁) / (√(v/c₂) + ε).</summary>
    public static void Adam(ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> mask, OptimizerStep s)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long n = w.Length;
        var at = IndexWalk.Start(start, stride, (int)s.ParamsPerNet, 1);
        long i = start;
        for (; i + stride < n; i += 2L * stride)
        {
            var at1 = at.Next();
            long i1 = i + stride;
            float w0 = w[i], g0 = g[i], m0 = m[i], v0 = v[i], w1 = w[i1], g1 = g[i1], m1 = m[i1], v1 = v[i1];
            AdamStore(w, m, v, i, Keeps(mask, s, at), w0, g0, m0, v0, s);
            AdamStore(w, m, v, i1, Keeps(mask, s, at1), w1, g1, m1, v1, s);
            at = at1.Next();
        }
        if (i < n) AdamStore(w, m, v, i, Keeps(mask, s, at), w[i], g[i], m[i], v[i], s);
    }

    private static void AdamStore(ArrayView<float> w, ArrayView<float> m, ArrayView<float> v, long i, bool keep,
        float wi, float gi, float mOld, float vOld, OptimizerStep s)
    {
        if (!keep) { w[i] = 0f; return; }
        float mi = s.Beta1 * mOld + (1f - s.Beta1) * gi;
        float vi = s.Beta2 * vOld + (1f - s.Beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        wi -= s.LearningRate * s.WeightDecay * wi;
        w[i] = wi - s.LearningRate * (mi / s.Correction1) / (XMath.Sqrt(vi / s.Correction2) + s.Epsilon);
    }

    // Whether the parameter at this position of its network is an edge that exists.
    private static bool Keeps(ArrayView<float> mask, OptimizerStep s, IndexWalk at) =>
        s.HasMask == 0 || mask[at.Inner] != 0f;

    /// <summary>g[i] ← 0 wherever the mask marks a missing edge (g is the flat [R, P] gradient buffer). The backward
    /// GEMM computes a missing edge's entry like any other (the gradient the edge would have if it existed); the
    /// optimizers ignore it, and this kernel clears it where the gradient itself is wanted.</summary>
    public static void ZeroMasked(ArrayView<float> g, ArrayView<float> mask, long paramsPerNet)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long n = g.Length;
        var at = IndexWalk.Start(start, stride, (int)paramsPerNet, 1);
        for (long i = start; i < n; i += stride, at = at.Next())
            if (mask[at.Inner] == 0f) g[i] = 0f;
    }
}
