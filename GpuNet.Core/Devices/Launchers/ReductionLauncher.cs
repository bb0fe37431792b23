using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Which column-sum kernel to run.</summary>
public enum ReductionVariant
{
    /// <summary>Tree on GPUs, direct on the CPU accelerator.</summary>
    Auto,
    /// <summary>Float64 partial sums combined by a tree in shared memory (GPU).</summary>
    Tree,
    /// <summary>One thread per column, float64 sum, no barriers (CPU accelerator).</summary>
    Direct,
}

/// <summary>Launches the column sums (<see cref="Reductions"/>): bias gradients, loss and hit sums, parameter sums.</summary>
public sealed class ReductionLauncher : Launcher
{
    private readonly bool small;

    internal ReductionLauncher(Device device) : base(device)
    {
        small = Accelerator.MaxNumThreadsPerGroup < 256;
        DefaultVariant = device.IsCpu ? ReductionVariant.Direct : ReductionVariant.Tree;
    }

    /// <summary>The variant <see cref="ReductionVariant.Auto"/> resolves to on this device.</summary>
    public ReductionVariant DefaultVariant { get; }

    /// <summary>dst[s·dstStride + dstOffset + w] = Σ_b src[s, b, w] for s &lt; segments (written, float64 sums).</summary>
    public void ColumnSum(ArrayView<float> src, ArrayView<float> dst, long dstOffset, long dstStride,
        int segments, int rows, int width, ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)segments * width == 0) return;
        if (src.Length < (long)segments * rows * width) throw new ArgumentException($"column sum of {segments}×{rows}×{width}: source holds {src.Length}");
        if ((segments - 1) * dstStride + dstOffset + width > dst.Length) throw new ArgumentException("column sum: destination too small");
        var k = Resolve(variant) == ReductionVariant.Direct ? KernelRegistry.ColumnSumDirect
            : small ? KernelRegistry.ColumnSumSmall : KernelRegistry.ColumnSumLarge;
        Kernel(k)(Config(k, (long)segments * width), src, dst, dstOffset, dstStride, segments, rows, width);
    }

    /// <summary>sums[s·width + w] += Σ_b src[s, b, w] (float64).</summary>
    public void ColumnSumAccumulate(ArrayView<float> src, ArrayView<double> sums, int segments, int rows, int width,
        ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)segments * width == 0) return;
        if (src.Length < (long)segments * rows * width) throw new ArgumentException($"column sum of {segments}×{rows}×{width}: source holds {src.Length}");
        if (sums.Length < (long)segments * width) throw new ArgumentException("column sum: accumulator too small");
        var k = Resolve(variant) == ReductionVariant.Direct ? KernelRegistry.ColumnSumAccumulateDirect
            : small ? KernelRegistry.ColumnSumAccumulateSmall : KernelRegistry.ColumnSumAccumulateLarge;
        Kernel(k)(Config(k, (long)segments * width), src, sums, segments, rows, width);
    }

    private ReductionVariant Resolve(ReductionVariant v) => v == ReductionVariant.Auto ? DefaultVariant : v;

    /// <summary>Direct sums are grid-stride loops; tree sums take one group of the reduce shape per column block.</summary>
    private KernelConfig Config(KernelEntry kernel, long columns)
    {
        if (kernel == KernelRegistry.ColumnSumDirect || kernel == KernelRegistry.ColumnSumAccumulateDirect)
            return Linear(kernel.Name, columns);
        int x = small ? default(Reduce2x2).X : default(Reduce32x8).X;
        int y = small ? default(Reduce2x2).Y : default(Reduce32x8).Y;
        long groups = Math.Clamp((columns + x - 1) / x, 1, small ? Accelerator.NumMultiprocessors : Accelerator.NumMultiprocessors * 8L);
        return Count(kernel.Name, new KernelConfig(new Index3D((int)groups, 1, 1), new Index3D(x, y, 1)));
    }
}
