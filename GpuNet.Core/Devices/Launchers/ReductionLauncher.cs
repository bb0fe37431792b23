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

/// <summary>Launches the column sums (<see cref="Reductions"/>): bias gradients, loss and hit sums, parameter sums.
/// Tree sums use the device's reduction shape: 2×2 where groups are small (the CPU accelerator), 8 columns × 128 row
/// lanes where a group may hold 1024 threads (four times the groups of 32 × 8 for a given width, and each warp reads
/// whole 32-byte sectors), else 32 × 8. Sums of width 1 (contiguous runs) take one group a run.</summary>
public sealed class ReductionLauncher : Launcher
{
    private readonly int threads; // 4, 256 or 1024: Reduce2x2, Reduce32x8 or Reduce8x128
    private readonly (int X, int Y) shape;

    internal ReductionLauncher(Device device) : base(device)
    {
        int max = Accelerator.MaxNumThreadsPerGroup;
        threads = max >= 1024 ? 1024 : max >= 256 ? 256 : 4;
        shape = ByShape((default(Reduce2x2).X, default(Reduce2x2).Y), (default(Reduce32x8).X, default(Reduce32x8).Y),
            (default(Reduce8x128).X, default(Reduce8x128).Y));
        DefaultVariant = device.IsCpu ? ReductionVariant.Direct : ReductionVariant.Tree;
    }

    /// <summary>The variant <see cref="ReductionVariant.Auto"/> resolves to on this device.</summary>
    public ReductionVariant DefaultVariant { get; }

    /// <summary>dst[s·dstStride + dstOffset + w] = Σ_b src[s, b, w] for s &lt; restarts (written, float64 sums).</summary>
    public void ColumnSum(ArrayView<float> src, ArrayView<float> dst, long dstOffset, long dstStride,
        int restarts, int rows, int width, ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)restarts * width == 0) return;
        if (src.Length < (long)restarts * rows * width) throw new ArgumentException($"column sum of {restarts}×{rows}×{width}: source holds {src.Length}");
        if ((restarts - 1) * dstStride + dstOffset + width > dst.Length) throw new ArgumentException("column sum: destination too small");
        CheckColumns(restarts, rows, width);
        var k = Resolve(variant) == ReductionVariant.Direct ? KernelRegistry.ColumnSumDirect
            : ByShape(KernelRegistry.ColumnSumSmall, KernelRegistry.ColumnSumLarge, KernelRegistry.ColumnSumWide);
        Kernel(k)(Config(k, (long)restarts * width), src, dst, dstOffset, dstStride, restarts, rows, width);
    }

    /// <summary>sums[s·width + w] += Σ_b src[s, b, w] (float64).</summary>
    public void ColumnSumAccumulate(ArrayView<float> src, ArrayView<double> sums, int restarts, int rows, int width,
        ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)restarts * width == 0) return;
        if (src.Length < (long)restarts * rows * width) throw new ArgumentException($"column sum of {restarts}×{rows}×{width}: source holds {src.Length}");
        if (sums.Length < (long)restarts * width) throw new ArgumentException("column sum: accumulator too small");
        CheckColumns(restarts, rows, width);
        if (Resolve(variant) == ReductionVariant.Direct)
        {
            var direct = KernelRegistry.ColumnSumAccumulateDirect;
            Kernel(direct)(Config(direct, (long)restarts * width), src, sums, restarts, rows, width);
        }
        else if (width == 1)
        {
            // Contiguous runs: one group a run, its threads side by side along it, rather than one thread of X a column.
            var run = ByShape(KernelRegistry.SegmentSumSmall, KernelRegistry.SegmentSumLarge, KernelRegistry.SegmentSumWide);
            Kernel(run)(Config(run, (long)restarts * shape.X), src, sums, restarts, rows);
        }
        else
        {
            var k = ByShape(KernelRegistry.ColumnSumAccumulateSmall, KernelRegistry.ColumnSumAccumulateLarge, KernelRegistry.ColumnSumAccumulateWide);
            Kernel(k)(Config(k, (long)restarts * width), src, sums, restarts, rows, width);
        }
    }

    private static void CheckColumns(int restarts, int rows, int width)
    {
        CheckIndexSize("column sum", "the width", width);
        CheckIndexSize("column sum", "the rows", rows);
        if ((long)restarts * width > int.MaxValue) throw new ArgumentException($"column sum over {restarts}×{width} columns; at most {int.MaxValue}");
    }

    private T ByShape<T>(T small, T medium, T wide) => threads == 4 ? small : threads == 256 ? medium : wide;

    private ReductionVariant Resolve(ReductionVariant v) => v == ReductionVariant.Auto ? DefaultVariant : v;

    /// <summary>Direct sums are grid-stride loops; tree sums take one group of the reduce shape per column block.</summary>
    private KernelConfig Config(KernelEntry kernel, long columns)
    {
        if (kernel == KernelRegistry.ColumnSumDirect || kernel == KernelRegistry.ColumnSumAccumulateDirect)
            return Linear(kernel.Name, columns);
        var (x, y) = shape;
        long groups = Math.Clamp((columns + x - 1) / x, 1, threads == 4 ? Accelerator.NumMultiprocessors : Accelerator.NumMultiprocessors * 8L);
        return Count(kernel.Name, new KernelConfig(new Index3D((int)groups, 1, 1), new Index3D(x, y, 1)));
    }
}
