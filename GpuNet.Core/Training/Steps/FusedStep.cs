using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Training;

/// <summary>
/// The step with the element-wise work fused into the GEMMs, 2·L + 2 launches for L layers: per layer one GEMM whose
/// epilogue adds the bias and applies σ, the first reading the batch's rows through the epoch's order (no gather);
/// one loss kernel for the loss, δ_L, hits, the epoch's sums and the divergence flag; per layer above the first one
/// launch for both dW (the bias gradient summed as its epilogue) and δ_{l−1} = (δ_l·W_l) ⊙ σ'; one for the first
/// layer's dW; one optimizer kernel over the flat parameters. On the CPU accelerator it computes what
/// <see cref="LayeredStep"/> computes, in the same order, so both give the same bits.
/// </summary>
public sealed class FusedStep : IDeviceStep
{
    private readonly Network net;
    private readonly DeviceDataset data;
    private readonly LossFunction loss;
    private readonly ForwardPass forward;
    private readonly BackwardPass backward;
    private readonly LossSums sums;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    private bool shuffled;

    /// <summary>Buffers for steps of <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows) of every restart of
    /// <paramref name="network"/> on <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller
    /// owns).</summary>
    public FusedStep(Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1 || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"a step takes 1..{data.Count} rows of this data");
        loss.CheckLastLayer(network.Spec.Layers[^1].Activation);
        net = network;
        this.data = data;
        this.loss = loss;
        Optimizer = optimizer;
        BatchSize = batchSize;
        var layout = network.Spec.Layout;
        forward = new ForwardPass(network.Device, layout, network.Restarts, batchSize);
        backward = new BackwardPass(network.Device, layout, network.Restarts, batchSize);
        sums = new LossSums(network.Device, network.Restarts, batchSize);
        order = network.Device.Allocate<int>(data.Count);
    }

    /// <summary>Device bytes a fused step allocates (the optimizer's moments not included).</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows, int batchSize) =>
        ForwardPass.Bytes(layout, restarts, batchSize) + BackwardPass.Bytes(layout, restarts, batchSize)
        + LossSums.Bytes(restarts, batchSize) + 4L * rows;

    /// <summary>Kernel launches a step takes for a network of <paramref name="layers"/> layers.</summary>
    public static int LaunchesPerStep(int layers) => 2 * layers + 2;

    /// <inheritdoc/>
    public string Name => "fused";
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int MaxStepsPerRun => 1;
    /// <inheritdoc/>
    public ILossSums Sums => sums;
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
    LossSums IDeviceStep.DeviceSums => sums;

    /// <inheritdoc/>
    ArrayView<float> IDeviceStep.GradientBuffer => backward.Gradients;

    /// <inheritdoc/>
    void IDeviceStep.Gradients(int start, int rows, long step, float gradScale) => Gradients(start, rows, step, gradScale);

    private void Gradients(int start, int rows, long step, float gradScale)
    {
        // The batch's rows: through the epoch's order, or a run of the data in its own order.
        var batch = new BatchRows(order.View, start, shuffled);
        forward.RunFused(net.Parameters, data.Features, batch, rows);
        sums.AddFused(loss, net.Spec.Layers[^1].Activation, forward.Output(rows), backward.Delta(net.Spec.Layers.Count, rows),
            data.Targets, data.TargetStride, batch, rows, data.IsClassification, step, gradScale);
        backward.RunFused(net.Parameters, forward, data.Features, batch, rows);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        forward.Dispose(); backward.Dispose(); sums.Dispose(); order.Dispose();
    }
}
