using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The parameters of R networks of one <see cref="NetworkLayout"/> on a device, as one flat buffer [R, P] (restart r's
/// block starts at r·P), with the connectivity mask [P] (1 = the edge exists) shared by all of them, or none.
/// </summary>
public sealed class DeviceParameters : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> values, mask;
    private bool disposed;

    /// <summary>Allocates R blocks (contents undefined) and uploads the mask, if any.</summary>
    public DeviceParameters(Device device, NetworkLayout layout, int restarts, float[]? flatMask)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(layout);
        if (restarts < 1) throw new ArgumentOutOfRangeException(nameof(restarts), restarts, "at least one restart is needed");
        if (flatMask != null && flatMask.Length != layout.ParameterCount)
            throw new ArgumentException($"mask has {flatMask.Length} entries; a network has {layout.ParameterCount} parameters");
        Device = device;
        Layout = layout;
        Restarts = restarts;
        values = device.Allocate(Length);
        try
        {
            mask = device.Allocate(flatMask?.Length ?? 1);
        }
        catch
        {
            values.Dispose();
            throw;
        }
        if (flatMask != null) mask.View.CopyFromCPU(flatMask);
        HasMask = flatMask != null;
    }

    /// <summary>Device bytes R blocks and a mask take (what the constructor allocates).</summary>
    public static long Bytes(NetworkLayout layout, int restarts, bool hasMask) =>
        4L * (restarts * layout.ParameterCount + (hasMask ? layout.ParameterCount : 1));

    /// <summary>The device the parameters live on.</summary>
    public Device Device { get; }
    /// <summary>The networks' layout.</summary>
    public NetworkLayout Layout { get; }
    /// <summary>R: networks side by side.</summary>
    public int Restarts { get; }
    /// <summary>R·P floats in all.</summary>
    public long Length => Restarts * Layout.ParameterCount;
    /// <summary>True when some edges are missing (the mask is used).</summary>
    public bool HasMask { get; }

    internal ArrayView<float> View => Live(values).View;
    internal ArrayView<float> Mask => Live(mask).View;

    /// <summary>The block of restart r (P floats; a synchronising read).</summary>
    public float[] Read(int restart)
    {
        var p = new float[Layout.ParameterCount];
        Device.Counters.Synced();
        View.SubView(Block(restart), p.Length).CopyToCPU(p);
        return p;
    }

    /// <summary>Every block, [R, P] (a synchronising read).</summary>
    public float[] ReadAll()
    {
        var p = new float[Length];
        Device.Counters.Synced();
        View.CopyToCPU(p);
        return p;
    }

    /// <summary>Replaces the block of restart r.</summary>
    public void Write(int restart, float[] block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Length != Layout.ParameterCount)
            throw new ArgumentException($"parameter block has {block.Length} values; a network has {Layout.ParameterCount}");
        View.SubView(Block(restart), block.Length).CopyFromCPU(block);
    }

    /// <summary>Replaces every block at once, [R, P].</summary>
    public void WriteAll(float[] all)
    {
        ArgumentNullException.ThrowIfNull(all);
        if (all.Length != Length) throw new ArgumentException($"{all.Length} parameters given; {Restarts} restarts hold {Length}");
        View.CopyFromCPU(all);
    }

    private long Block(int restart) =>
        restart >= 0 && restart < Restarts ? restart * Layout.ParameterCount
            : throw new ArgumentOutOfRangeException(nameof(restart), restart, $"restarts are numbered 0..{Restarts - 1}");

    private T Live<T>(T buffer) where T : class
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return buffer;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        values.Dispose();
        mask.Dispose();
    }
}
