using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>What the trainer reads of a training step's running sums, per restart r: Σ row loss and Σ hits since the
/// last reset, and the first step whose loss sum was not finite. <see cref="LossSums"/> keeps them on one device; a step
/// spread over several devices combines its parts in a fixed order.</summary>
public interface ILossSums
{
    /// <summary>Zeroes the sums and clears the divergence flags.</summary>
    void Reset();

    /// <summary>Sets the sums (resuming inside an epoch).</summary>
    void Set(double[] loss, double[] hits);

    /// <summary>Per restart Σ row loss and Σ hits (one synchronising read).</summary>
    (double[] Loss, double[] Hits) Read();

    /// <summary>Per restart, the first step (since the last reset) whose loss was not finite, or −1 (a synchronising read).</summary>
    long[] ReadFirstBadSteps();

    /// <summary>The sums and, per restart, whether every one of <paramref name="parameters"/> is finite, in one
    /// synchronising read.</summary>
    (double[] Loss, double[] Hits, bool[] WeightsFinite) ReadEpoch(DeviceParameters parameters);
}

/// <summary>
/// Per restart, on the device: the loss summed over the rows seen since the last reset, the hits (rows classified
/// correctly) and the first step whose loss sum was not finite. Sums are float64 and added in a fixed order, batch by
/// batch; the host reads them once per epoch or progress tick, never once per step.
/// </summary>
public sealed class LossSums : ILossSums, IDisposable
{
    private readonly Device device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> rowLoss, hits;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> lossSum, hitSum, parameterSum;
    private readonly MemoryBuffer1D<long, Stride1D.Dense> firstBadStep;

    /// <summary>Sums for <paramref name="restarts"/> networks and batches of up to <paramref name="maxRows"/> rows.</summary>
    public LossSums(Device device, int restarts, int maxRows)
    {
        this.device = device;
        Restarts = restarts;
        MaxRows = maxRows;
        rowLoss = device.Allocate((long)restarts * maxRows);
        hits = device.Allocate((long)restarts * maxRows);
        lossSum = device.Allocate<double>(restarts);
        hitSum = device.Allocate<double>(restarts);
        parameterSum = device.Allocate<double>(restarts);
        firstBadStep = device.Allocate<long>(restarts);
        Reset();
    }

    /// <summary>Device bytes the sums of this size allocate.</summary>
    public static long Bytes(int restarts, int rows) => 4L * restarts * 2L * rows + 8L * 4 * restarts;

    /// <summary>R: networks side by side.</summary>
    public int Restarts { get; }
    /// <summary>The largest batch added at once.</summary>
    public int MaxRows { get; }

    /// <summary>Σ row loss per restart, [R] (a fused step accumulates into it directly).</summary>
    internal ArrayView<double> LossView => lossSum.View;
    /// <summary>Σ hits per restart, [R].</summary>
    internal ArrayView<double> HitView => hitSum.View;
    /// <summary>The first non-finite step per restart, [R].</summary>
    internal ArrayView<long> FirstBadStepView => firstBadStep.View;

    /// <summary>Enqueues <paramref name="loss"/> on the last layer's outputs [R, rows, O], writing δ_L into
    /// <paramref name="delta"/>, and adds the batch's losses (and, when <paramref name="countHits"/>, its hits) to the
    /// sums. Targets are [rows, O] per restart at r·<paramref name="targetStride"/> (0: shared). δ_L is scaled by
    /// <paramref name="gradScale"/>, 1/rows when not given (the mean over the batch); a replica that takes a slice of a
    /// larger batch gives 1/(the batch's rows), so that the slices' gradients add up to the batch's.</summary>
    public void Add(ILoss loss, ArrayView<float> output, ArrayView<float> targets, long targetStride, ArrayView<float> delta,
        int rows, int width, bool countHits, float? gradScale = null)
    {
        if (rows < 1 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a batch holds 1..{MaxRows} rows here");
        loss.Evaluate(new LossArgs
        {
            Output = output, Targets = targets, Delta = delta, RowLoss = rowLoss.View,
            Restarts = Restarts, Rows = rows, Width = width, TargetStride = targetStride, GradScale = gradScale ?? 1f / rows,
        });
        device.Reductions.ColumnSumAccumulate(rowLoss.View, lossSum.View, Restarts, rows, 1);
        if (!countHits) return;
        device.Losses.Correct(output, targets, hits.View, Restarts, rows, width, targetStride, loss.AccuracyThreshold);
        device.Reductions.ColumnSumAccumulate(hits.View, hitSum.View, Restarts, rows, 1);
    }

    /// <summary>The fused form of <see cref="Add"/> and <see cref="FlagNonFinite"/> in one launch
    /// (<see cref="StepLossLauncher"/>): the loss <paramref name="loss"/> of a last layer applying
    /// <paramref name="lastLayer"/> on outputs [R, rows, O], δ_L into <paramref name="delta"/>, the targets read from all of
    /// the data's <paramref name="targets"/> (a set of [N, O] per restart at r·<paramref name="targetStride"/>) as
    /// <paramref name="batch"/> says, the hits when <paramref name="countHits"/>, and step <paramref name="step"/>
    /// recorded where a restart's sum becomes non-finite; δ_L is scaled by <paramref name="gradScale"/> (null: 1/rows,
    /// the batch mean).</summary>
    public void AddFused(LossFunction loss, Activation lastLayer, ArrayView<float> output, ArrayView<float> delta, ArrayView<float> targets,
        long targetStride, BatchRows batch, int rows, bool countHits, long step, float? gradScale = null)
    {
        if (rows < 1 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a batch holds 1..{MaxRows} rows here");
        device.StepLoss.Run(loss, lastLayer, new StepLossArgs
        {
            Output = output, Delta = delta, Targets = targets, Order = batch.Order, FirstRow = batch.FirstRow, Gathered = batch.Ordered ? 1 : 0,
            LossSum = lossSum.View, HitSum = hitSum.View, FirstBad = firstBadStep.View, Step = step, TargetStride = targetStride,
            Restarts = Restarts, Rows = rows, Width = (int)(output.Length / ((long)Restarts * rows)), CountHits = countHits ? 1 : 0,
            GradScale = gradScale ?? 1f / rows, Threshold = loss.AccuracyThreshold(),
        });
    }

    /// <summary>Records <paramref name="step"/> for every restart whose loss sum just became NaN or infinite (one
    /// launch, no synchronisation).</summary>
    public void FlagNonFinite(long step) => device.Losses.FlagNonFinite(lossSum.View, firstBadStep.View, step);

    /// <summary>Zeroes the sums and clears the divergence flags.</summary>
    public void Reset()
    {
        lossSum.MemSetToZero();
        hitSum.MemSetToZero();
        var none = new long[Restarts];
        Array.Fill(none, -1L);
        firstBadStep.View.CopyFromCPU(none);
    }

    /// <summary>Sets the sums (resuming inside an epoch).</summary>
    public void Set(double[] loss, double[] hitCounts)
    {
        if (loss.Length != Restarts || hitCounts.Length != Restarts)
            throw new ArgumentException($"sums for {loss.Length} and {hitCounts.Length} restarts given; there are {Restarts}");
        lossSum.View.CopyFromCPU(loss);
        hitSum.View.CopyFromCPU(hitCounts);
    }

    /// <summary>Per restart Σ row loss and Σ hits (one synchronising read).</summary>
    public (double[] Loss, double[] Hits) Read()
    {
        device.Counters.Synced();
        return (lossSum.GetAsArray1D(), hitSum.GetAsArray1D());
    }

    /// <summary>Per restart, the first step (since the last reset) whose loss was not finite, or −1 (a synchronising read).</summary>
    public long[] ReadFirstBadSteps()
    {
        device.Counters.Synced();
        return firstBadStep.GetAsArray1D();
    }

    /// <summary>The sums and, per restart, whether every parameter is finite: a float64 sum of each restart's parameters
    /// on the device (finite floats cannot overflow it, so it is NaN or infinite exactly when a parameter is), read back
    /// with the sums (one synchronising read). A step's loss is taken before its update, so this catches an update that
    /// broke the weights in the epoch's last step, which no loss of the epoch shows.</summary>
    public (double[] Loss, double[] Hits, bool[] WeightsFinite) ReadEpoch(DeviceParameters parameters)
    {
        parameterSum.MemSetToZero();
        device.Reductions.ColumnSumAccumulate(parameters.View, parameterSum.View, Restarts, checked((int)parameters.Layout.ParameterCount), 1);
        device.Counters.Synced();
        var sums = parameterSum.GetAsArray1D();
        return (lossSum.GetAsArray1D(), hitSum.GetAsArray1D(), Array.ConvertAll(sums, double.IsFinite));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        rowLoss.Dispose(); hits.Dispose(); lossSum.Dispose(); hitSum.Dispose(); parameterSum.Dispose(); firstBadStep.Dispose();
    }
}
