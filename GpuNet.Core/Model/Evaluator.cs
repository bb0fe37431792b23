using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Model;

/// <summary>Loss (and accuracy, for classification) of every restart on a dataset: per restart r, Loss[r] is the mean
/// row loss and Accuracy[r] the fraction of rows classified correctly.</summary>
public sealed record Evaluation(double[] Loss, double[]? Accuracy, int Rows);

/// <summary>
/// Evaluates every restart of a network on a device dataset, in chunks of rows, with no update: the forward pass, the
/// loss and the device-side sums, then one synchronising read.
/// </summary>
public sealed class Evaluator : IDisposable
{
    private readonly Network net;
    private readonly ForwardPass forward;
    private readonly LossSums sums;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> delta;

    /// <summary>Buffers for chunks of up to <paramref name="maxRows"/> rows of <paramref name="network"/>'s restarts.</summary>
    public Evaluator(Network network, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(network);
        net = network;
        MaxRows = maxRows;
        var layout = network.Spec.Layout;
        forward = new ForwardPass(network.Device, layout, network.Restarts, maxRows);
        sums = new LossSums(network.Device, network.Restarts, maxRows);
        delta = network.Device.Allocate((long)network.Restarts * maxRows * layout.OutputSize);
    }

    /// <summary>Rows a chunk holds when evaluating <paramref name="dataRows"/> rows after training with batches of
    /// <paramref name="batchSize"/>: the batch, but at least 256, and no more than the data.</summary>
    public static int ChunkRows(int dataRows, int batchSize) => Math.Max(1, Math.Min(dataRows, Math.Max(batchSize, 256)));

    /// <summary>Device bytes an evaluator of this size allocates.</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows) =>
        ForwardPass.Bytes(layout, restarts, rows) + LossSums.Bytes(restarts, rows) + 4L * restarts * rows * layout.OutputSize;

    /// <summary>The largest chunk.</summary>
    public int MaxRows { get; }

    /// <summary>Loss and accuracy of every restart on <paramref name="data"/>, in order. With
    /// <paramref name="progress"/>, about 20 times along the way the rows done so far are reported (each a
    /// synchronisation); cancellation is checked between chunks.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Evaluation Run(DeviceDataset data, ILoss loss, IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        net.Device.Guard(() => RunCore(data, loss, progress, cancellationToken));

    private Evaluation RunCore(DeviceDataset data, ILoss loss, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        sums.Reset();
        int inW = net.Spec.InputSize, outW = net.Spec.OutputSize;
        int chunks = (data.Count + MaxRows - 1) / MaxRows, every = Math.Max(1, chunks / 20);
        progress?.Report(0);
        for (int chunk = 0, start = 0; start < data.Count; chunk++, start += MaxRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int rows = Math.Min(MaxRows, data.Count - start);
            forward.Run(net.Parameters, data.Features.From((long)start * inW), 0, rows);
            sums.Add(loss, forward.Output(rows), data.Targets.From((long)start * outW), data.TargetStride, delta.View,
                rows, outW, data.IsClassification);
            if (progress != null && (chunk + 1) % every == 0 && start + rows < data.Count)
            {
                net.Device.Synchronize();
                progress.Report(start + rows);
            }
        }
        var (lossSums, hits) = sums.Read();
        return new Evaluation(Array.ConvertAll(lossSums, s => s / data.Count),
            data.IsClassification ? Array.ConvertAll(hits, h => h / data.Count) : null, data.Count);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        forward.Dispose();
        sums.Dispose();
        delta.Dispose();
    }
}
