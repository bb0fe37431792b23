// Shapes: z (the last layer's output) and delta are [R, B, O]; the data's targets are [N, O] per restart at
// r·TargetStride (0 = one set for every restart); the batch's row b is the data's row Order[FirstRow + b] (or
// FirstRow + b in the data's own order); the sums and divergence flags are [R].
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Arguments of the fused step's loss kernels.</summary>
public struct StepLossArgs
{
    /// <summary>The last layer's outputs z_L, [R, B, O].</summary>
    public ArrayView<float> Output;
    /// <summary>Written: ∂ℓ/∂a_L, [R, B, O].</summary>
    public ArrayView<float> Delta;
    /// <summary>The data's targets, [N, O] per restart.</summary>
    public ArrayView<float> Targets;
    /// <summary>The epoch's row order (read when <see cref="Gathered"/> is 1).</summary>
    public ArrayView<int> Order;
    /// <summary>Per restart: the epoch's loss sum, hit sum (added to) and first non-finite step (set once).</summary>
    public ArrayView<double> LossSum, HitSum;
    /// <summary>Per restart: the first step whose loss sum was not finite, or −1.</summary>
    public ArrayView<long> FirstBad;
    /// <summary>This step's number, recorded in <see cref="FirstBad"/>.</summary>
    public long Step;
    /// <summary>Distance between consecutive restarts' target sets (0 = shared).</summary>
    public long TargetStride;
    /// <summary>R, B and O.</summary>
    public int Restarts, Rows, Width;
    /// <summary>The batch's first row in the epoch's order; 1 when rows are read through <see cref="Order"/>.</summary>
    public int FirstRow, Gathered;
    /// <summary>1 to count hits.</summary>
    public int CountHits;
    /// <summary>Factor of the gradient (1/B for a batch mean) and the one-output class threshold.</summary>
    public float GradScale, Threshold;
}

/// <summary>Compile-time group size of <see cref="StepLoss.Grouped{TRow, TGroup}"/>.</summary>
public interface IStepLossGroup
{
    /// <summary>Threads a group.</summary>
    int Threads { get; }
}

/// <summary>128 threads: the GPU shape.</summary>
public struct StepLossGroup128 : IStepLossGroup
{
    /// <inheritdoc/>
    public int Threads => 128;
}

/// <summary>4 threads: the CPU accelerator's group, for tests of the grouped kernel.</summary>
public struct StepLossGroup4 : IStepLossGroup
{
    /// <inheritdoc/>
    public int Threads => 4;
}

/// <summary>
/// The fused step's loss: in one launch, every row's loss and δ_L (<see cref="IRowLoss"/>, the same code as
/// <see cref="Losses"/>), the hits, the batch's sums added to the epoch's per restart, and the divergence flag. Sums are
/// float64 and their order is fixed by the kernel's shape alone.
/// </summary>
public static class StepLoss
{
    /// <summary>One thread per restart, its rows in order, no barriers: the CPU accelerator's kernel. Its sums add the
    /// rows in row order, as the layer-by-layer sums do there, so both give the same bits. Launch: any 1-D grid and
    /// group; a grid-stride loop over the restarts.</summary>
    public static void PerRestart<TRow>(StepLossArgs a) where TRow : struct, IRowLoss
    {
        int start = Grid.GlobalIndex.X, stride = Grid.DimX * Group.DimX;
        for (int r = start; r < a.Restarts; r += stride)
        {
            double loss = 0.0, hits = 0.0;
            for (int b = 0; b < a.Rows; b++)
            {
                var (l, h) = RowOf<TRow>(a, r, b);
                loss += l;
                hits += h;
            }
            Accumulate(a, r, loss, hits);
        }
    }

    /// <summary>One group per restart (grid-stride over restarts), rows on threads: thread t adds rows t, t + T, … in
    /// order, then the T partial sums are combined by a fixed pairwise tree in shared memory. Launch: 1-D groups of
    /// exactly TGroup.Threads threads, any grid.</summary>
    public static void Grouped<TRow, TGroup>(StepLossArgs a) where TRow : struct, IRowLoss where TGroup : struct, IStepLossGroup
    {
        var lossPart = SharedMemory.Allocate<double>(default(TGroup).Threads);
        var hitPart = SharedMemory.Allocate<double>(default(TGroup).Threads);
        int t = Group.IdxX, threads = default(TGroup).Threads;
        for (int r = Grid.IdxX; r < a.Restarts; r += Grid.DimX)
        {
            double loss = 0.0, hits = 0.0;
            for (int b = t; b < a.Rows; b += threads)
            {
                var (l, h) = RowOf<TRow>(a, r, b);
                loss += l;
                hits += h;
            }
            lossPart[t] = loss;
            hitPart[t] = hits;
            Group.Barrier();
            for (int half = threads / 2; half > 0; half /= 2)
            {
                if (t < half)
                {
                    lossPart[t] += lossPart[t + half];
                    hitPart[t] += hitPart[t + half];
                }
                Group.Barrier();
            }
            if (t == 0) Accumulate(a, r, lossPart[0], hitPart[0]);
            Group.Barrier();
        }
    }

    /// <summary>Row b of restart r: writes its δ and returns its loss and hit (0 when hits are not counted).</summary>
    private static (float Loss, float Hit) RowOf<TRow>(StepLossArgs a, int r, int b) where TRow : struct, IRowLoss
    {
        int w = a.Width;
        long row = (long)r * a.Rows + b;
        int dataRow = a.Gathered != 0 ? a.Order[a.FirstRow + b] : a.FirstRow + b;
        var z = a.Output.SubView(row * w, w);
        var y = a.Targets.SubView(r * a.TargetStride + (long)dataRow * w, w);
        float loss = default(TRow).Row(z, y, a.Delta.SubView(row * w, w), w, a.GradScale);
        return (loss, a.CountHits != 0 ? RowHit.Of(z, y, w, a.Threshold) : 0f);
    }

    private static void Accumulate(StepLossArgs a, int r, double loss, double hits)
    {
        double sum = a.LossSum[r] + loss;
        a.LossSum[r] = sum;
        if (a.CountHits != 0) a.HitSum[r] += hits;
        if (a.FirstBad[r] < 0 && (double.IsNaN(sum) || double.IsInfinity(sum))) a.FirstBad[r] = a.Step;
    }
}
