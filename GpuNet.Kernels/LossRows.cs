// Shapes: one row of the network's output z [O], its targets y [O] and its delta [O].
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>The loss of one row and its gradient: writes delta = GradScale · ∂(row loss)/∂a for each output (a the last
/// layer's sums, z = σ(a)) and returns the row's loss. One struct per loss, shared by the layer-by-layer loss kernels
/// (<see cref="Losses"/>) and the fused step's (<see cref="StepLoss"/>), so both compute the same bits.</summary>
public interface IRowLoss
{
    /// <summary>The row loss; writes <paramref name="delta"/>.</summary>
    float Row(ArrayView<float> z, ArrayView<float> y, ArrayView<float> delta, int width, float gradScale);
}

/// <summary>Squared error through the last layer's σ: row loss (1/O) Σ_o (z − y)²; delta = s · (2/O)(z − y) · σ'(z).</summary>
public struct SquaredErrorRow<TAct> : IRowLoss where TAct : struct, IActivation
{
    /// <inheritdoc/>
    public float Row(ArrayView<float> z, ArrayView<float> y, ArrayView<float> delta, int width, float gradScale)
    {
        float invW = 1f / width, sum = 0f;
        for (int o = 0; o < width; o++)
        {
            float zo = z[o];
            float d = zo - y[o];
            sum += d * d;
            delta[o] = gradScale * 2f * invW * d * default(TAct).DerivativeFromOutput(zo);
        }
        return sum * invW;
    }
}

/// <summary>Absolute error through the last layer's σ: row loss (1/O) Σ_o |z − y|; delta = s · (1/O) sign(z − y) · σ'(z)
/// (sign(0) = 0).</summary>
public struct AbsoluteErrorRow<TAct> : IRowLoss where TAct : struct, IActivation
{
    /// <inheritdoc/>
    public float Row(ArrayView<float> z, ArrayView<float> y, ArrayView<float> delta, int width, float gradScale)
    {
        float invW = 1f / width, sum = 0f;
        for (int o = 0; o < width; o++)
        {
            float zo = z[o];
            float d = zo - y[o];
            sum += XMath.Abs(d);
            float sign = d > 0f ? 1f : (d < 0f ? -1f : 0f);
            delta[o] = gradScale * invW * sign * default(TAct).DerivativeFromOutput(zo);
        }
        return sum * invW;
    }
}

/// <summary>Softmax cross-entropy on logits z: row loss −Σ_o y_o (z_o − max − log Σ e^(z − max)), so logits of ±1e4
/// neither overflow nor lose the answer; delta = s · (softmax(z) − y).</summary>
public struct SoftmaxCrossEntropyRow : IRowLoss
{
    /// <inheritdoc/>
    public float Row(ArrayView<float> z, ArrayView<float> y, ArrayView<float> delta, int width, float gradScale)
    {
        float max = z[0];
        for (int o = 1; o < width; o++) max = XMath.Max(max, z[o]);
        float sumExp = 0f;
        for (int o = 0; o < width; o++) sumExp += XMath.Exp(z[o] - max);
        float logSum = XMath.Log(sumExp);
        float loss = 0f;
        for (int o = 0; o < width; o++)
        {
            float shifted = z[o] - max;
            float yo = y[o];
            if (yo != 0f) loss -= yo * (shifted - logSum);
            delta[o] = gradScale * (XMath.Exp(shifted - logSum) - yo);
        }
        return loss;
    }
}

/// <summary>Binary cross-entropy on logits z (the logistic is part of the loss): row loss
/// (1/O) Σ_o [max(z, 0) − z·y + log(1 + e^(−|z|))], stable for any z; delta = s · (1/O)(σ(z) − y).</summary>
public struct BinaryCrossEntropyRow : IRowLoss
{
    /// <inheritdoc/>
    public float Row(ArrayView<float> z, ArrayView<float> y, ArrayView<float> delta, int width, float gradScale)
    {
        float invW = 1f / width, sum = 0f;
        for (int o = 0; o < width; o++)
        {
            float zo = z[o];
            float yo = y[o];
            sum += XMath.Max(zo, 0f) - zo * yo + XMath.Log(1f + XMath.Exp(-XMath.Abs(zo)));
            float p = 1f / (1f + XMath.Exp(-zo));
            delta[o] = gradScale * invW * (p - yo);
        }
        return sum * invW;
    }
}

/// <summary>Whether one row is classified correctly: with O &gt; 1 the arg-max of z and of y agree (first index on
/// ties); with O = 1, z &gt; threshold (0.5 for probabilities, 0 for logits) agrees with y &gt; 0.5.</summary>
public static class RowHit
{
    /// <summary>1 for a hit, 0 otherwise.</summary>
    public static float Of(ArrayView<float> z, ArrayView<float> y, int width, float threshold)
    {
        if (width == 1) return (z[0] > threshold) == (y[0] > 0.5f) ? 1f : 0f;
        int pz = 0, py = 0;
        float bz = z[0], by = y[0];
        for (int o = 1; o < width; o++)
        {
            float vz = z[o], vy = y[o];
            if (vz > bz) { bz = vz; pz = o; }
            if (vy > by) { by = vy; py = o; }
        }
        return pz == py ? 1f : 0f;
    }
}
