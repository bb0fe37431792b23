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
public sealed class LayeredStep : DeviceStep
{
    private readonly ILoss loss;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> xBatch, yBatch;

    /// <summary>Buffers for steps of <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows) of every restart of
    /// <paramref name="network"/> on <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller owns:
    /// its state outlives the step).</summary>
    public LayeredStep(Network network, DeviceDataset data, ILoss loss, IOptimizer optimizer, int batchSize)
        : base(network, data, optimizer, batchSize)
    {
        this.loss = loss;
        var (xLength, yLength) = GatherLengths(network.Spec.Layout, batchSize, data.TargetSets);
        xBatch = network.Device.Allocate(xLength);
        yBatch = network.Device.Allocate(yLength);
    }

    /// <summary>Device bytes a layered step allocates for <paramref name="restarts"/> networks of
    /// <paramref name="layout"/> at <paramref name="batchSize"/> rows over <paramref name="rows"/> data rows (the
    /// optimizer's moments not included).</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows, int batchSize, int targetSets)
    {
        var (x, y) = GatherLengths(layout, batchSize, targetSets);
        return SharedBytes(layout, restarts, rows, batchSize) + 4L * (x + y);
    }

    private static (long X, long Y) GatherLengths(NetworkLayout layout, int batchSize, int targetSets) =>
        ((long)batchSize * layout.InputSize, (long)batchSize * layout.OutputSize * targetSets);

    /// <inheritdoc/>
    public override string Name => "layered";

    /// <summary>The gradient half of a step: the gather of the batch's rows, the forward pass, the loss (δ_L scaled by
    /// <paramref name="gradScale"/>) and the backward pass.</summary>
    private protected override void Gradients(int start, int rows, long step, float gradScale)
    {
        var device = Net.Device;
        int inW = Net.Spec.InputSize, outW = Net.Spec.OutputSize;
        ArrayView<float> x, y;
        long yStride;
        var batch = Order.Batch(start);
        if (batch.Ordered)
        {
            device.Gather.Rows(Data.Features, batch.Order, xBatch.View, start, rows, inW);
            device.Gather.Rows(Data.Targets, batch.Order, yBatch.View, start, rows, outW, Data.TargetSets, Data.TargetStride, (long)rows * outW);
            (x, y, yStride) = (xBatch.View, yBatch.View, Data.TargetSets > 1 ? (long)rows * outW : 0);
        }
        else
        {
            (x, y, yStride) = (Data.Features.From((long)start * inW), Data.Targets.From((long)start * outW), Data.TargetStride);
        }
        Forward.Run(Net.Parameters, x, 0, rows);
        DeviceSums.Add(loss, Forward.Output(rows), y, yStride, Backward.OutputDelta, rows, outW, Data.IsClassification, gradScale);
        DeviceSums.FlagNonFinite(step);
        Backward.Run(Net.Parameters, Forward, x, 0, rows);
    }

    private protected override void DisposeOwn()
    {
        xBatch.Dispose(); yBatch.Dispose();
    }
}
