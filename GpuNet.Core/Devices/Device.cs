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
        Info = info;
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
    public void Synchronize()
    {
        Kernels.CountSync();
        Accelerator.Synchronize();
    }

    /// <summary>Allocates a device buffer of <paramref name="length"/> floats (contents undefined).</summary>
    /// <exception cref="DeviceMemoryException">The device cannot hold it; the message gives the bytes asked for and available.</exception>
    public MemoryBuffer1D<float, Stride1D.Dense> Allocate(long length) => Allocate<float>(length);

    /// <summary>Allocates a device buffer of <paramref name="length"/> elements (contents undefined).</summary>
    /// <exception cref="DeviceMemoryException">The device cannot hold it; the message gives the bytes asked for and available.</exception>
    public unsafe MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
    {
        long count = Math.Max(1, length);
        long bytes = count > long.MaxValue / sizeof(T) ? long.MaxValue : count * sizeof(T);
        if (bytes > Info.MemoryBytes) throw new DeviceMemoryException(bytes, Info);
        try
        {
            return Accelerator.Allocate1D<T>(count);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            throw new DeviceMemoryException(bytes, Info, e);
        }
    }

    /// <summary>Runs device work, turning a device or compiler error into a <see cref="KernelFailedException"/> that names
    /// the kernel launched last.</summary>
    internal T Guard<T>(Func<T> work)
    {
        try { return work(); }
        catch (Exception e) when (KernelFailedException.IsDeviceError(e)) { throw new KernelFailedException(Kernels.LastKernel, Info.Name, e); }
    }

    /// <inheritdoc/>
    public override string ToString() => Info.ToString();

    /// <inheritdoc/>
    public void Dispose()
    {
        Kernels.ReleaseGemmWorkspace();
        Accelerator.Dispose();
    }
}

/// <summary>A kernel failed to compile or to run on a device; the message names the kernel.</summary>
public sealed class KernelFailedException(string kernel, string device, Exception inner)
    : GpuNetException($"kernel {kernel} failed on {device}: {inner.Message}", inner)
{
    /// <summary>The kernel launched last before the failure showed.</summary>
    public string Kernel { get; } = kernel;

    /// <summary>True for the errors a device or ILGPU's compiler raises (rather than GpuNet's own checks).</summary>
    internal static bool IsDeviceError(Exception e) =>
        e is AcceleratorException or InternalCompilerException or CapabilityNotSupportedException
            or InvalidKernelOperationException or ILGPU.Backends.NotSupportedIntrinsicException;
}

/// <summary>A buffer does not fit in the device's memory.</summary>
public sealed class DeviceMemoryException : GpuNetException
{
    internal DeviceMemoryException(long bytes, DeviceInfo device, Exception? inner = null, string? what = null)
        : base((what == null ? $"{device.Name} cannot allocate {bytes:N0} bytes" : $"{what} needs {bytes:N0} bytes of {device.Name}") +
               $" ({bytes / 1048576.0:F1} MiB); the device has {device.MemoryBytes:N0} bytes " +
               $"({device.MemoryBytes / 1048576.0:F0} MiB) available in all. Use a smaller --batch, fewer --restarts or a smaller network" +
               (inner == null ? "." : $". ({inner.Message})"), inner ?? new OutOfMemoryException())
    {
        Bytes = bytes;
    }

    /// <summary>Bytes asked for.</summary>
    public long Bytes { get; }
}
