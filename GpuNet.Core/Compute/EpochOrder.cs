using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The order a one-device step reads the data's rows in during an epoch: a permutation of 0..rows−1 copied to the
/// device once at the epoch's start, or the data's own order. A batch's rows are <see cref="Batch"/> of it.
/// </summary>
internal sealed class EpochOrder : IDisposable
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    private bool shuffled;

    /// <summary>Room for the order of <paramref name="rows"/> data rows on <paramref name="device"/>.</summary>
    public EpochOrder(Device device, int rows) => order = device.Allocate<int>(rows);

    /// <summary>Device bytes an order of <paramref name="rows"/> rows takes.</summary>
    public static long Bytes(long rows) => 4L * rows;

    /// <summary>Sets the coming epoch's order: <paramref name="rowOrder"/> (one host→device copy, before the step loop),
    /// or the data's own order when it is null.</summary>
    /// <exception cref="ArgumentException"><paramref name="rowOrder"/> does not list one entry per data row.</exception>
    public void Begin(int[]? rowOrder)
    {
        if (rowOrder != null && rowOrder.Length != order.Length)
            throw new ArgumentException($"the order lists {rowOrder.Length} rows; the data has {order.Length}");
        shuffled = rowOrder != null;
        if (rowOrder != null) order.View.CopyFromCPU(rowOrder);
    }

    /// <summary>The rows of the batch that starts at position <paramref name="start"/> of the epoch.</summary>
    public BatchRows Batch(int start) => new(order.View, start, shuffled);

    /// <inheritdoc/>
    public void Dispose() => order.Dispose();
}
