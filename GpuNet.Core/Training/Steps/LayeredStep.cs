using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Training;

/// <summary>
/// The layer-by-layer step, the reference every other way of running a step is checked against: a gather of the batch
/// rows (features and targets) by the epoch's order, then per layer a GEMM and a fused bias + activation kernel; one
/// loss kernel with its sums; per layer the dW GEMM, the bias column sum and the δ GEMM with σ′; one optimizer kernel
/// over the flat parameters.
/// </summary>
public sealed class LayeredStep : IDeviceStep
{
    private readonly Network net;
    private readonly DeviceDataset data;
    private readonly ILoss loss;
    private readonly ForwardPass forward;
    private readonly BackwardPass backward;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> xBatch, yBatch;
    private bool shuffled;

    /// <summary>Buffers for steps of <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows) of every restart of
    /// <paramref name="network"/> on <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller owns:
    /// its state outlives the step).</summary>
    public LayeredStep(Network network, DeviceDataset data, ILoss loss, IOptimizer optimizer, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1 || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"a step takes 1..{data.Count} rows of this data");
        net = network;
        this.data = data;
        this.loss = loss;
        Optimizer = optimizer;
        BatchSize = batchSize;
        var device = network.Device;
        var layout = network.Spec.Layout;
        forward = new ForwardPass(device, layout, network.Restarts, BatchSize);
        backward = new BackwardPass(device, layout, network.Restarts, BatchSize);
        Sums = new LossSums(device, network.Restarts, BatchSize);
        var (orderLength, xLength, yLength) = GatherLengths(layout, data.Count, BatchSize, data.TargetSets);
        order = device.Allocate<int>(orderLength);
        xBatch = device.Allocate(xLength);
        yBatch = device.Allocate(yLength);
    }

    /// <summary>Device bytes a layered step allocates for <paramref name="restarts"/> networks of
    /// <paramref name="layout"/> at <paramref name="batchSize"/> rows over <paramref name="rows"/> data rows (the
    /// optimizer's moments not included).</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows, int batchSize, int targetSets)
    {
        var (o, x, y) = GatherLengths(layout, rows, batchSize, targetSets);
        return ForwardPass.Bytes(layout, restarts, batchSize) + BackwardPass.Bytes(layout, restarts, batchSize)
            + LossSums.Bytes(restarts, batchSize) + 4L * (o + x + y);
    }

    private static (long Order, long X, long Y) GatherLengths(NetworkLayout layout, int rows, int batchSize, int targetSets) =>
        (rows, (long)batchSize * layout.InputSize, (long)batchSize * layout.OutputSize * targetSets);

    /// <inheritdoc/>
    public string Name => "layered";
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int MaxStepsPerRun => 1;
    /// <inheritdoc/>
    ILossSums ITrainingStep.Sums => Sums;

    /// <summary>The step's sums on its device.</summary>
    public LossSums Sums { get; }
    /// <inheritdoc/>
    public IOptimizer Optimizer { get; }

    /// <inheritdoc/>
    public void BeginEpoch(int[]? rowOrder)
    {
        shuffled = rowOrder != null;
        if (rowOrder == null) return;
        if (rowOrder.Length != data.Count) throw new ArgumentException($"the order lists {rowOrder.Length} rows; the data has {data.Count}");
        order.View.CopyFromCPU(rowOrder); // one copy per epoch, before the step loop
    }

    /// <inheritdoc/>
    public void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep) =>
        DeviceSteps.Run(this, net.Parameters, data.Count, firstRow, steps, rates, firstStep);

    /// <inheritdoc/>
    LossSums IDeviceStep.DeviceSums => Sums;

    /// <inheritdoc/>
    ArrayView<float> IDeviceStep.GradientBuffer => backward.Gradients;

    /// <inheritdoc/>
    void IDeviceStep.Gradients(int start, int rows, long step, float gradScale) => Gradients(start, rows, step, gradScale);

    /// <summary>The gradient half of a step: the gather of the batch's rows, the forward pass, the loss (δ_L scaled by
    /// <paramref name="gradScale"/>) and the backward pass.</summary>
    private void Gradients(int start, int rows, long step, float gradScale)
    {
        var device = net.Device;
        int inW = net.Spec.InputSize, outW = net.Spec.OutputSize;
        ArrayView<float> x, y;
        long yStride;
        if (shuffled)
        {
            device.Gather.Rows(data.Features, order.View, xBatch.View, start, rows, inW);
            device.Gather.Rows(data.Targets, order.View, yBatch.View, start, rows, outW, data.TargetSets, data.TargetStride, (long)rows * outW);
            (x, y, yStride) = (xBatch.View, yBatch.View, data.TargetSets > 1 ? (long)rows * outW : 0);
        }
        else
        {
            (x, y, yStride) = (data.Features.From((long)start * inW), data.Targets.From((long)start * outW), data.TargetStride);
        }
        forward.Run(net.Parameters, x, 0, rows);
        Sums.Add(loss, forward.Output(rows), y, yStride, backward.OutputDelta, rows, outW, data.IsClassification, gradScale);
        Sums.FlagNonFinite(step);
        backward.Run(net.Parameters, forward, x, 0, rows);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        forward.Dispose(); backward.Dispose(); Sums.Dispose(); order.Dispose(); xBatch.Dispose(); yBatch.Dispose();
    }
}
