using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>One opened accelerator with its kernels (each compiled once, on first use, and reused).
/// Dispose it to release the accelerator; buffers allocated on it must be disposed first.</summary>
public sealed class Device : IDisposable
{
    internal Device(Accelerator accelerator, DeviceInfo info)
    {
        Accelerator = accelerator;
        Info = info.Kind == DeviceKind.Cpu ? info : info with { MemoryBytes = accelerator.MemorySize };
        Kernels = new DeviceKernels(this);
    }

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>What the device is.</summary>
    public DeviceInfo Info { get; }

    /// <summary>Typed, shape-checked launchers of every GpuNet kernel on this device.</summary>
    public DeviceKernels Kernels { get; }

    /// <summary>True for ILGPU's CPU accelerator, where barrier-free kernel variants are chosen.</summary>
    public bool IsCpu => Info.Kind == DeviceKind.Cpu;

    /// <summary>Waits until every launched kernel has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>Allocates a device buffer of <paramref name="length"/> floats (contents undefined).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Allocate(long length) =>
        Accelerator.Allocate1D<float>(Math.Max(1, length));

    /// <inheritdoc/>
    public override string ToString() => Info.ToString();

    /// <inheritdoc/>
    public void Dispose() => Accelerator.Dispose();
}
