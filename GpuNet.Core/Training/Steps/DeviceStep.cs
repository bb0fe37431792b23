using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;
using ILGPU;

namespace GpuNet.Training;

/// <summary>
/// What the one-device steps (<see cref="LayeredStep"/>, <see cref="FusedStep"/>) share: the forward and backward
/// passes and the loss sums for batches of up to <see cref="BatchSize"/> rows of every restart, the epoch's row order,
/// and the step loop. Each step of <see cref="Run"/> is the implementation's gradient half on the batch's rows (δ_L
/// scaled by 1/rows for the batch mean), then one optimizer update of the flat parameters at the step's size. An
/// implementation says only how a batch's gradients are formed.
/// </summary>
public abstract class DeviceStep : IDeviceStep
{
    private bool disposed;

    /// <summary>Buffers for steps of <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows) of every restart of
    /// <paramref name="network"/> on <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller
    /// owns: its state outlives the step).</summary>
    private protected DeviceStep(Network network, DeviceDataset data, IOptimizer optimizer, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1 || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"a step takes 1..{data.Count} rows of this data");
        Net = network;
        Data = data;
        Optimizer = optimizer;
        BatchSize = batchSize;
        var layout = network.Spec.Layout;
        Forward = new ForwardPass(network.Device, layout, network.Restarts, batchSize);
        Backward = new BackwardPass(network.Device, layout, network.Restarts, batchSize);
        DeviceSums = new LossSums(network.Device, network.Restarts, batchSize);
        Order = new EpochOrder(network.Device, data.Count);
    }

    /// <summary>Device bytes the shared buffers take for <paramref name="restarts"/> networks of <paramref name="layout"/>
    /// at <paramref name="batchSize"/> rows over <paramref name="rows"/> data rows.</summary>
    private protected static long SharedBytes(NetworkLayout layout, int restarts, int rows, int batchSize) =>
        ForwardPass.Bytes(layout, restarts, batchSize) + BackwardPass.Bytes(layout, restarts, batchSize)
        + LossSums.Bytes(restarts, batchSize) + EpochOrder.Bytes(rows);

    /// <inheritdoc/>
    public abstract string Name { get; }
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int MaxStepsPerRun => 1;
    /// <inheritdoc/>
    public ILossSums Sums => DeviceSums;
    /// <inheritdoc/>
    public IOptimizer Optimizer { get; }

    /// <summary>The network the steps train.</summary>
    private protected Network Net { get; }
    /// <summary>The training data on the network's device.</summary>
    private protected DeviceDataset Data { get; }
    /// <summary>The forward pass's activations for a batch.</summary>
    private protected ForwardPass Forward { get; }
    /// <summary>The backward pass's deltas and gradient buffer [R, P].</summary>
    private protected BackwardPass Backward { get; }
    /// <summary>The epoch's row order.</summary>
    private protected EpochOrder Order { get; }
    /// <summary>The step's sums on its device.</summary>
    private protected LossSums DeviceSums { get; }

    /// <inheritdoc/>
    public void BeginEpoch(int[]? order) => Order.Begin(order);

    /// <inheritdoc/>
    public void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep)
    {
        if (rates.Length < steps) throw new ArgumentException($"{rates.Length} step sizes for {steps} steps");
        for (int s = 0; s < steps; s++)
        {
            int start = firstRow + s * BatchSize;
            if (start >= Data.Count) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"step {s} would start past the {Data.Count} rows");
            int rows = Math.Min(BatchSize, Data.Count - start);
            Gradients(start, rows, firstStep + s, 1f / rows);
            Optimizer.Step(Net.Parameters, Backward.Gradients, rates[s]);
        }
    }

    /// <summary>The gradient half of a step on <paramref name="rows"/> rows of the epoch's order from
    /// <paramref name="start"/>: the forward pass, the loss added to the sums (step <paramref name="step"/> flagged
    /// where a sum turns non-finite) with δ_L scaled by <paramref name="gradScale"/>, and the backward pass into the
    /// gradient buffer.</summary>
    private protected abstract void Gradients(int start, int rows, long step, float gradScale);

    /// <summary>Frees what an implementation allocated beyond the shared buffers.</summary>
    private protected virtual void DisposeOwn() { }

    LossSums IDeviceStep.DeviceSums => DeviceSums;

    ArrayView<float> IDeviceStep.GradientBuffer => Backward.Gradients;

    void IDeviceStep.Gradients(int start, int rows, long step, float gradScale) => Gradients(start, rows, step, gradScale);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        DisposeOwn();
        Forward.Dispose(); Backward.Dispose(); DeviceSums.Dispose(); Order.Dispose();
        GC.SuppressFinalize(this);
    }
}
