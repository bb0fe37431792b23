using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>Zeroed moment buffers of an optimizer, [R, P] each, and their saving and restoring.</summary>
internal sealed class Moments : IDisposable
{
    private readonly Device device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] buffers;

    public Moments(Device device, long length, int count)
    {
        this.device = device;
        buffers = new MemoryBuffer1D<float, Stride1D.Dense>[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                buffers[i] = device.Allocate(length);
                buffers[i].MemSetToZero();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Length = length;
    }

    /// <summary>Device bytes <paramref name="count"/> moment buffers over <paramref name="length"/> parameters take.</summary>
    public static long Bytes(long length, int count) => 4L * length * count;

    public long Length { get; }

    public ArrayView<float> this[int i] => buffers[i].View;

    public long Steps { get; set; }

    public OptimizerState Read()
    {
        device.Counters.Synced();
        var read = buffers.Select(b => b.GetAsArray1D()).ToArray();
        return new OptimizerState(Steps, read.Length > 0 ? read[0] : null, read.Length > 1 ? read[1] : null);
    }

    public void Restore(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Steps < 0) throw new ArgumentException($"the optimizer state has {state.Steps} steps");
        float[]?[] given = [state.First, state.Second];
        for (int i = 0; i < 2; i++)
        {
            if (given[i] is not { } m) continue;
            if (i >= buffers.Length)
                throw new ArgumentException($"the saved optimizer state has {i + 1} moment buffers; this optimizer has {buffers.Length}");
            if (m.Length != Length) throw new ArgumentException($"saved optimizer moments hold {m.Length} values, not {Length}");
            buffers[i].View.CopyFromCPU(m);
        }
        Steps = state.Steps;
    }

    public void Dispose()
    {
        foreach (var b in buffers) b?.Dispose();
    }
}
