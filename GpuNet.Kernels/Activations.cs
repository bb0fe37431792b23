// Shapes: z and delta are [R, B, O] row-major; parameters is the flat [R, P] parameter buffer,
// the bias of restart r at parameters[r·P + biasOffset + o].
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>An element-wise neuron function σ with its derivative written in terms of the output
/// z = σ(a), which is all the backward pass keeps.</summary>
public interface IActivation
{
    /// <summary>σ(a).</summary>
    float Forward(float a);
    /// <summary>σ'(a) expressed through z = σ(a).</summary>
    float DerivativeFromOutput(float z);
}

/// <summary>σ(a) = a; σ' = 1.</summary>
public struct Identity : IActivation
{
    /// <inheritdoc/>
    public float Forward(float a) => a;
    /// <inheritdoc/>
    public float DerivativeFromOutput(float z) => 1f;
}

/// <summary>σ(a) = 1 / (1 + e^(−a)); σ' = z(1 − z).</summary>
public struct Logistic : IActivation
{
    /// <inheritdoc/>
    public float Forward(float a) => 1f / (1f + XMath.Exp(-a));
    /// <inheritdoc/>
    public float DerivativeFromOutput(float z) => z * (1f - z);
}

/// <summary>σ(a) = tanh(a); σ' = 1 − z².</summary>
public struct Tanh : IActivation
{
    /// <inheritdoc/>
    public float Forward(float a) => XMath.Tanh(a);
    /// <inheritdoc/>
    public float DerivativeFromOutput(float z) => 1f - z * z;
}

/// <summary>σ(a) = max(0, a); σ' = 1 where z &gt; 0, else 0 (0 at a = 0, as PyTorch).
/// NaN propagates.</summary>
public struct Relu : IActivation
{
    /// <inheritdoc/>
    public float Forward(float a) => a < 0f ? 0f : a;
    /// <inheritdoc/>
    public float DerivativeFromOutput(float z) => z > 0f ? 1f : 0f;
}

/// <summary>Element-wise kernels of the layers. All are grid-stride loops (explicitly grouped, any 1-D grid and group)
/// that handle four grid-stride positions an iteration, loading all four before storing any, so each thread keeps
/// several loads in flight; index arithmetic is additions (see <see cref="IndexWalk"/>), never a division per element.</summary>
public static class Activations
{
    /// <summary>In place: z[r,b,o] ← σ(z[r,b,o] + bias_r[o]), turning the GEMM result A_l into Z_l; the bias of restart r
    /// is parameters[r·paramStride + biasOffset + o]. Needs width and rowsPerNet below 2³⁰.</summary>
    public static void BiasActivate<TAct>(ArrayView<float> z, ArrayView<float> parameters,
        long biasOffset, long paramStride, int rowsPerNet, int width)
        where TAct : struct, IActivation
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long total = z.Length;
        var at = IndexWalk.Start(start, stride, width, rowsPerNet);
        long i = start;
        for (; i + 3L * stride < total; i += 4L * stride)
        {
            var at1 = at.Next();
            var at2 = at1.Next();
            var at3 = at2.Next();
            float z0 = z[i], z1 = z[i + stride], z2 = z[i + 2L * stride], z3 = z[i + 3L * stride];
            float b0 = parameters[at.Outer * paramStride + biasOffset + at.Inner];
            float b1 = parameters[at1.Outer * paramStride + biasOffset + at1.Inner];
            float b2 = parameters[at2.Outer * paramStride + biasOffset + at2.Inner];
            float b3 = parameters[at3.Outer * paramStride + biasOffset + at3.Inner];
            z[i] = default(TAct).Forward(z0 + b0);
            z[i + stride] = default(TAct).Forward(z1 + b1);
            z[i + 2L * stride] = default(TAct).Forward(z2 + b2);
            z[i + 3L * stride] = default(TAct).Forward(z3 + b3);
            at = at3.Next();
        }
        for (; i < total; i += stride)
        {
            z[i] = default(TAct).Forward(z[i] + parameters[at.Outer * paramStride + biasOffset + at.Inner]);
            at = at.Next();
        }
    }

    /// <summary>In place: delta[i] ← delta[i] · σ'(z[i]) for i &lt; n: turns ∂ℓ/∂z into ∂ℓ/∂a.</summary>
    public static void Backward<TAct>(ArrayView<float> delta, ArrayView<float> z, long n)
        where TAct : struct, IActivation
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long i = start;
        for (; i + 3 * stride < n; i += 4 * stride)
        {
            float d0 = delta[i], d1 = delta[i + stride], d2 = delta[i + 2 * stride], d3 = delta[i + 3 * stride];
            float z0 = z[i], z1 = z[i + stride], z2 = z[i + 2 * stride], z3 = z[i + 3 * stride];
            delta[i] = d0 * default(TAct).DerivativeFromOutput(z0);
            delta[i + stride] = d1 * default(TAct).DerivativeFromOutput(z1);
            delta[i + 2 * stride] = d2 * default(TAct).DerivativeFromOutput(z2);
            delta[i + 3 * stride] = d3 * default(TAct).DerivativeFromOutput(z3);
        }
        for (; i < n; i += stride)
            delta[i] = delta[i] * default(TAct).DerivativeFromOutput(z[i]);
    }

    /// <summary>In place, one row of width elements per step of a grid-stride loop over rows:
    /// z ← softmax(z) = exp(z − max z) / Σ exp(z − max z).</summary>
    public static void SoftmaxRows(ArrayView<float> z, long rows, int width)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long r = start; r < rows; r += stride)
        {
            long b = r * width;
            float max = z[b];
            for (int o = 1; o < width; o++) max = XMath.Max(max, z[b + o]);
            float sum = 0f;
            for (int o = 0; o < width; o++) { float e = XMath.Exp(z[b + o] - max); z[b + o] = e; sum += e; }
            float inv = 1f / sum;
            for (int o = 0; o < width; o++) z[b + o] *= inv;
        }
    }

    /// <summary>In place: z[i] ← σ(z[i]) for i &lt; n.</summary>
    public static void Apply<TAct>(ArrayView<float> z, long n) where TAct : struct, IActivation
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long i = start;
        for (; i + 3 * stride < n; i += 4 * stride)
        {
            float z0 = z[i], z1 = z[i + stride], z2 = z[i + 2 * stride], z3 = z[i + 3 * stride];
            z[i] = default(TAct).Forward(z0);
            z[i + stride] = default(TAct).Forward(z1);
            z[i + 2 * stride] = default(TAct).Forward(z2);
            z[i + 3 * stride] = default(TAct).Forward(z3);
        }
        for (; i < n; i += stride)
            z[i] = default(TAct).Forward(z[i]);
    }
}
