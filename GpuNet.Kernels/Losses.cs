// Shapes: z (network output) and delta are [R, B, O]; targets are [B, O] for restart r at
// targets[k·targetStride + …] (targetStride 0 = the same targets for every restart); rowLoss is [R, B].
using ILGPU;
using ILGPU.Algorithms;

namespace GpuNet.Kernels;

/// <summary>Arguments shared by the loss kernels.</summary>
public struct LossArgs
{
    /// <summary>Network outputs z_L (after the output function), [R, B, O].</summary>
    public ArrayView<float> Output;
    /// <summary>Targets, [B, O] per network.</summary>
    public ArrayView<float> Targets;
    /// <summary>Written: ∂ℓ/∂a_L, [R, B, O], where ℓ is the batch loss.</summary>
    public ArrayView<float> Delta;
    /// <summary>Written: the loss of each sample, [R, B].</summary>
    public ArrayView<float> RowLoss;
    /// <summary>Restarts side by side (R).</summary>
    public int Restarts;
    /// <summary>Rows in the batch.</summary>
    public int Rows;
    /// <summary>Outputs per row.</summary>
    public int Width;
    /// <summary>Distance between the targets of consecutive networks (0 = shared).</summary>
    public long TargetStride;
    /// <summary>Factor of the gradient: 1 / (rows in the batch) for a batch mean.</summary>
    public float GradScale;
}

/// <summary>Loss kernels: each fuses the per-sample loss, ∂ℓ/∂z and the output function's
/// derivative into one pass. Launch: explicitly grouped grid-stride loop over R·B rows, any 1-D
/// grid and group; B below 2³⁰. The row's network and position in the batch follow the row index by additions
/// (<see cref="IndexWalk"/>), with no division per row.</summary>
public static class Losses
{
    /// <summary>Squared error. Sample loss (1/O) Σ_o (z − y)²; batch loss is the mean of the sample
    /// losses (the mean over all B·O elements); delta = GradScale · (2/O)(z − y) · σ'(z).</summary>
    public static void SquaredError<TAct>(LossArgs a) where TAct : struct, IActivation
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long rows = (long)a.Restarts * a.Rows;
        var at = IndexWalk.Start(start, stride, a.Rows, 1);
        int w = a.Width;
        float invW = 1f / w;
        for (long r = start; r < rows; r += stride, at = at.Next())
        {
            ArrayView<float> zr = Row(a.Output, r, w), yr = TargetRow(a, at), dr = Row(a.Delta, r, w);
            float sum = 0f;
            for (int o = 0; o < w; o++)
            {
                float z = zr[o];
                float d = z - yr[o];
                sum += d * d;
                dr[o] = a.GradScale * 2f * invW * d * default(TAct).DerivativeFromOutput(z);
            }
            a.RowLoss[r] = sum * invW;
        }
    }

    /// <summary>Absolute error. Sample loss (1/O) Σ_o |z − y|; delta = GradScale · (1/O) sign(z − y) · σ'(z)
    /// (sign(0) = 0).</summary>
    public static void AbsoluteError<TAct>(LossArgs a) where TAct : struct, IActivation
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long rows = (long)a.Restarts * a.Rows;
        var at = IndexWalk.Start(start, stride, a.Rows, 1);
        int w = a.Width;
        float invW = 1f / w;
        for (long r = start; r < rows; r += stride, at = at.Next())
        {
            ArrayView<float> zr = Row(a.Output, r, w), yr = TargetRow(a, at), dr = Row(a.Delta, r, w);
            float sum = 0f;
            for (int o = 0; o < w; o++)
            {
                float z = zr[o];
                float d = z - yr[o];
                sum += XMath.Abs(d);
                float sign = d > 0f ? 1f : (d < 0f ? -1f : 0f);
                dr[o] = a.GradScale * invW * sign * default(TAct).DerivativeFromOutput(z);
            }
            a.RowLoss[r] = sum * invW;
        }
    }

    /// <summary>Softmax cross-entropy on logits z (identity output). Sample loss
    /// −Σ_o y_o · log softmax(z)_o, computed as −Σ y_o (z_o − max − log Σ e^(z − max)) so logits of ±1e4
    /// neither overflow nor lose the answer; delta = GradScale · (softmax(z) − y).</summary>
    public static void SoftmaxCrossEntropy(LossArgs a)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long rows = (long)a.Restarts * a.Rows;
        var at = IndexWalk.Start(start, stride, a.Rows, 1);
        int w = a.Width;
        for (long r = start; r < rows; r += stride, at = at.Next())
        {
            ArrayView<float> zr = Row(a.Output, r, w), yr = TargetRow(a, at), dr = Row(a.Delta, r, w);
            float max = zr[0];
            for (int o = 1; o < w; o++) max = XMath.Max(max, zr[o]);
            float sumExp = 0f;
            for (int o = 0; o < w; o++) sumExp += XMath.Exp(zr[o] - max);
            float logSum = XMath.Log(sumExp);
            float loss = 0f;
            for (int o = 0; o < w; o++)
            {
                float shifted = zr[o] - max;
                float y = yr[o];
                if (y != 0f) loss -= y * (shifted - logSum);
                dr[o] = a.GradScale * (XMath.Exp(shifted - logSum) - y);
            }
            a.RowLoss[r] = loss;
        }
    }

    /// <summary>Binary cross-entropy on logits z (the logistic is part of the loss). Sample loss
    /// (1/O) Σ_o [max(z, 0) − z·y + log(1 + e^(−|z|))], stable for any z;
    /// delta = GradScale · (1/O)(σ(z) − y).</summary>
    public static void BinaryCrossEntropy(LossArgs a)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long rows = (long)a.Restarts * a.Rows;
        var at = IndexWalk.Start(start, stride, a.Rows, 1);
        int w = a.Width;
        float invW = 1f / w;
        for (long r = start; r < rows; r += stride, at = at.Next())
        {
            ArrayView<float> zr = Row(a.Output, r, w), yr = TargetRow(a, at), dr = Row(a.Delta, r, w);
            float sum = 0f;
            for (int o = 0; o < w; o++)
            {
                float z = zr[o];
                float y = yr[o];
                sum += XMath.Max(z, 0f) - z * y + XMath.Log(1f + XMath.Exp(-XMath.Abs(z)));
                float p = 1f / (1f + XMath.Exp(-z));
                dr[o] = a.GradScale * invW * (p - y);
            }
            a.RowLoss[r] = sum * invW;
        }
    }

    // Row r of a [·, w] matrix, and the targets of the row at (network at.Outer, batch row at.Inner).
    private static ArrayView<float> Row(ArrayView<float> m, long r, int w) => m.SubView(r * w, w);

    private static ArrayView<float> TargetRow(LossArgs a, IndexWalk at) =>
        a.Targets.SubView(at.Outer * a.TargetStride + (long)at.Inner * a.Width, a.Width);

    /// <summary>Classification hits: correct[k,b] = 1 when the prediction matches the target, else 0.
    /// With O &gt; 1 the prediction and the label are the arg-max of z and of y (first index on ties);
    /// with O = 1 both are thresholded at <paramref name="threshold"/> (0.5 for probabilities, 0 for logits).
    /// Launch: grid-stride loop over R·B rows.</summary>
    public static void Correct(ArrayView<float> output, ArrayView<float> targets, ArrayView<float> correct,
        int networks, int rows, int width, long targetStride, float threshold)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long total = (long)networks * rows;
        var at = IndexWalk.Start(start, stride, rows, 1);
        for (long r = start; r < total; r += stride, at = at.Next())
        {
            var zr = Row(output, r, width);
            var yr = targets.SubView(at.Outer * targetStride + (long)at.Inner * width, width);
            bool hit;
            if (width == 1)
            {
                hit = (zr[0] > threshold) == (yr[0] > 0.5f);
            }
            else
            {
                int pz = 0, py = 0;
                float bz = zr[0], by = yr[0];
                for (int o = 1; o < width; o++)
                {
                    float vz = zr[o], vy = yr[o];
                    if (vz > bz) { bz = vz; pz = o; }
                    if (vy > by) { by = vy; py = o; }
                }
                hit = pz == py;
            }
            correct[r] = hit ? 1f : 0f;
        }
    }

    /// <summary>Divergence watch: firstBad[k] ← step where sums[k] is NaN or ±∞ and firstBad[k] &lt; 0. The loss sums
    /// accumulate over the epoch, so once non-finite they stay so and the first such step is kept.
    /// Launch: grid-stride loop over the R restarts.</summary>
    public static void FlagNonFinite(ArrayView<double> sums, ArrayView<long> firstBad, long step)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long n = sums.Length;
        for (long k = start; k < n; k += stride)
        {
            double v = sums[k];
            if (firstBad[k] < 0 && (double.IsNaN(v) || double.IsInfinity(v))) firstBad[k] = step;
        }
    }
}
