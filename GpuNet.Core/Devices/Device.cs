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
        if (accelerator.MaxNumThreadsPerGroup < 4)
            throw new NotSupportedException($"{info.Name} allows {accelerator.MaxNumThreadsPerGroup} threads a group; GpuNet needs at least 4");
        loaded = new Delegate?[KernelRegistry.All.Count];
        Gemm = new GemmLauncher(this);
        Elementwise = new ElementwiseLauncher(this);
        Losses = new LossLauncher(this);
        Reductions = new ReductionLauncher(this);
        Optimizers = new OptimizerLauncher(this);
        Gather = new GatherLauncher(this);
        StepLoss = new StepLossLauncher(this);
        FusedGemm = new FusedGemmLauncher(this);
    }

    private readonly Delegate?[] loaded;

    /// <summary>The ILGPU accelerator.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>What the device is.</summary>
    public DeviceInfo Info { get; }

    /// <summary>Launches and synchronisations counted on this device.</summary>
    public KernelCounters Counters { get; } = new();

    /// <summary>GEMM launcher.</summary>
    public GemmLauncher Gemm { get; }
    /// <summary>Launcher of the layers' element-wise kernels.</summary>
    public ElementwiseLauncher Elementwise { get; }
    /// <summary>Launcher of the loss kernels.</summary>
    public LossLauncher Losses { get; }
    /// <summary>Launcher of the column sums.</summary>
    public ReductionLauncher Reductions { get; }
    /// <summary>Launcher of the optimizer kernels.</summary>
    public OptimizerLauncher Optimizers { get; }
    /// <summary>Launcher of the batch gather.</summary>
    public GatherLauncher Gather { get; }
    /// <summary>Launcher of the fused step's GEMMs.</summary>
    public FusedGemmLauncher FusedGemm { get; }
    /// <summary>Launcher of the fused step's loss.</summary>
    public StepLossLauncher StepLoss { get; }

    /// <summary>The typed launcher of a registered kernel, compiled for this device on first use and kept.</summary>
    internal TLauncher Load<TLauncher>(KernelEntry<TLauncher> kernel) where TLauncher : Delegate =>
        (TLauncher)(loaded[kernel.Id] ??= kernel.Load(Accelerator));

    /// <summary>True for ILGPU's CPU accelerator, where barrier-free kernel variants are chosen.</summary>
    public bool IsCpu => Info.Kind == DeviceKind.Cpu;

    /// <summary>Waits until every launched kernel has finished.</summary>
    public void Synchronize()
    {
        Counters.Synced();
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
        catch (Exception e) when (KernelFailedException.IsDeviceError(e)) { throw new KernelFailedException(Counters.LastKernel, Info.Name, e); }
    }

    /// <inheritdoc/>
    public override string ToString() => Info.ToString();

    /// <inheritdoc/>
    public void Dispose()
    {
        Gemm.ReleaseWorkspace();
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
    private readonly string body;
    private readonly Exception? cause;

    internal DeviceMemoryException(long bytes, DeviceInfo device, Exception? inner = null, string? what = null)
        : base(Body(bytes, device, what) + Advice("batch", "restarts", inner), inner ?? new OutOfMemoryException())
    {
        body = Body(bytes, device, what);
        cause = inner;
        Bytes = bytes;
    }

    /// <summary>Bytes asked for.</summary>
    public long Bytes { get; }

    /// <summary>The message with its advice naming the settings that shrink a run as <paramref name="batch"/> and
    /// <paramref name="restarts"/> (the command names its options).</summary>
    public string MessageNaming(string batch, string restarts) => body + Advice(batch, restarts, cause);

    private static string Body(long bytes, DeviceInfo device, string? what) =>
        (what == null ? $"{device.Name} cannot allocate {bytes:N0} bytes" : $"{what} needs {bytes:N0} bytes of {device.Name}") +
        $" ({bytes / 1048576.0:F1} MiB); the device has {device.MemoryBytes:N0} bytes ({device.MemoryBytes / 1048576.0:F0} MiB) available in all";

    private static string Advice(string batch, string restarts, Exception? inner) =>
        $". Use a smaller {batch}, fewer {restarts} or a smaller network" + (inner == null ? "." : $". ({inner.Message})");
}
