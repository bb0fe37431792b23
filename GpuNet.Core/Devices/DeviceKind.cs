namespace GpuNet.Devices;

/// <summary>The kind of accelerator a kernel runs on.</summary>
public enum DeviceKind
{
    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
    /// <summary>A GPU (or other device) through OpenCL.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: runs the same kernels on CPU threads (a correctness tool, slow).</summary>
    Cpu,
}

/// <summary>What GpuNet knows about one accelerator.</summary>
/// <remarks>Index is the position in <see cref="Gpu.List"/> (and for <c>--device INDEX</c>); -1 for a CPU accelerator opened with a custom shape.</remarks>
public sealed record DeviceInfo(int Index, DeviceKind Kind, string Name, long MemoryBytes, int WarpSize,
    int MaxThreadsPerGroup, int Multiprocessors)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"[{Index}] {Kind.ToString().ToLowerInvariant()}: {Name} ({MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB, " +
        $"warp {WarpSize}, {MaxThreadsPerGroup} threads/group, {Multiprocessors} multiprocessors)";
}
