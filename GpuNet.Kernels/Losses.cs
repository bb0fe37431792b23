// Shapes: z (network output) and delta are [R, B, O]; targets are [B, O] for restart r at
// targets[r·targetStride + …] (targetStride 0 = the same targets for every restart); rowLoss is [R, B].
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
    /// <summary>Squared error (<see cref="SquaredErrorRow{TAct}"/>); the batch loss is the mean of the row losses (the
    /// mean over all B·O elements).</summary>
    public static void SquaredError<TAct>(LossArgs a) where TAct : struct, IActivation => Rows<SquaredErrorRow<TAct>>(a);

    /// <summary>Absolute error (<see cref="AbsoluteErrorRow{TAct}"/>).</summary>
    public static void AbsoluteError<TAct>(LossArgs a) where TAct : struct, IActivation => Rows<AbsoluteErrorRow<TAct>>(a);

    /// <summary>Softmax cross-entropy on logits (<see cref="SoftmaxCrossEntropyRow"/>).</summary>
    public static void SoftmaxCrossEntropy(LossArgs a) => Rows<SoftmaxCrossEntropyRow>(a);

    /// <summary>Binary cross-entropy on logits (<see cref="BinaryCrossEntropyRow"/>).</summary>
    public static void BinaryCrossEntropy(LossArgs a) => Rows<BinaryCrossEntropyRow>(a);

    /// <summary>RowLoss[r] and delta of every row r of the R·B rows, in a grid-stride loop.</summary>
    private static void Rows<TRow>(LossArgs a) where TRow : struct, IRowLoss
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long rows = (long)a.Restarts * a.Rows;
        var at = IndexWalk.Start(start, stride, a.Rows, 1);
        int w = a.Width;
        for (long r = start; r < rows; r += stride, at = at.Next())
            a.RowLoss[r] = default(TRow).Row(Row(a.Output, r, w), TargetRow(a, at), Row(a.Delta, r, w), w, a.GradScale);
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
            correct[r] = RowHit.Of(Row(output, r, width), targets.SubView(at.Outer * targetStride + (long)at.Inner * width, width), width, threshold);
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
