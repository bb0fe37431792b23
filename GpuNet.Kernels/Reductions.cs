// Shapes: src is [S, B, W] row-major: S segments (networks), B rows to sum over, W columns.
// Sums run over B, per (segment, column): out(s, w) = Σ_b src[s, b, w].
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Compile-time shape of a reduction group: X threads across columns (coalesced reads),
/// Y threads along the summed rows (combined by a tree in shared memory). Y must be a power of 2.</summary>
public interface IReduceShape
{
    /// <summary>Threads across columns.</summary>
    int X { get; }
    /// <summary>Threads along the summed dimension (power of 2).</summary>
    int Y { get; }
}

/// <summary>GPU shape: 32 columns × 8 row lanes (256 threads).</summary>
public struct Reduce32x8 : IReduceShape
{
    /// <inheritdoc/>
    public int X => 32;
    /// <inheritdoc/>
    public int Y => 8;
}

/// <summary>Small shape for the CPU accelerator: 2 columns × 2 row lanes (one barrier level).</summary>
public struct Reduce2x2 : IReduceShape
{
    /// <inheritdoc/>
    public int X => 2;
    /// <inheritdoc/>
    public int Y => 2;
}

/// <summary>Sums over the batch dimension, accumulated in float64: each thread sums every Y-th row
/// in float64, then the Y partial sums are combined pairwise in shared memory, so no long float32
/// running sum ever forms. Launch: group (X, Y) of the shape; any 1-D grid: groups stride over the
/// S·W output columns.</summary>
public static class Reductions
{
    /// <summary>dst[s·dstStride + dstOffset + w] = Σ_b src[s, b, w] (written, not accumulated): the bias
    /// gradient db_l = column sums of δ_l, written straight into the flat gradient buffer.</summary>
    public static void ColumnSum<TShape>(ArrayView<float> src, ArrayView<float> dst,
        long dstOffset, long dstStride, int segments, int rows, int width)
        where TShape : struct, IReduceShape
    {
        var partial = SharedMemory.Allocate<double>(default(TShape).X * default(TShape).Y);
        int sx = default(TShape).X, sy = default(TShape).Y;
        int tx = Group.IdxX, ty = Group.IdxY;
        long columns = (long)segments * width;
        long c0Start = (long)Grid.IdxX * sx, c0Stride = (long)Grid.DimX * sx;
        for (long c0 = c0Start; c0 < columns; c0 += c0Stride)
        {
            long c = c0 + tx;
            long s = c / width;
            int w = (int)(c % width);
            double sum = TreeSum(src, partial, c < columns, s * rows * width + w, width, rows, tx, ty, sx, sy);
            if (ty == 0 && c < columns)
                dst[s * dstStride + dstOffset + w] = (float)sum;
            Group.Barrier();
        }
    }

    /// <summary>acc[s·width + w] += Σ_b src[s, b, w]: accumulates per-network loss sums and hit counts
    /// over an epoch in float64 on the device, so the host reads them once per epoch.</summary>
    public static void ColumnSumAccumulate<TShape>(ArrayView<float> src, ArrayView<double> acc,
        int segments, int rows, int width)
        where TShape : struct, IReduceShape
    {
        var partial = SharedMemory.Allocate<double>(default(TShape).X * default(TShape).Y);
        int sx = default(TShape).X, sy = default(TShape).Y;
        int tx = Group.IdxX, ty = Group.IdxY;
        long columns = (long)segments * width;
        long c0Start = (long)Grid.IdxX * sx, c0Stride = (long)Grid.DimX * sx;
        for (long c0 = c0Start; c0 < columns; c0 += c0Stride)
        {
            long c = c0 + tx;
            long s = c / width;
            int w = (int)(c % width);
            double sum = TreeSum(src, partial, c < columns, s * rows * width + w, width, rows, tx, ty, sx, sy);
            if (ty == 0 && c < columns)
                acc[c] += sum;
            Group.Barrier();
        }
    }

    /// <summary>Barrier-free variant of <see cref="ColumnSum{TShape}"/>: one thread per output column, summing its
    /// rows in float64 in a grid-stride loop over columns. The CPU accelerator's path (barriers cost ~10 µs per thread
    /// there). Launch: any 1-D grid and group.</summary>
    public static void ColumnSumDirect(ArrayView<float> src, ArrayView<float> dst,
        long dstOffset, long dstStride, int segments, int rows, int width)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long columns = (long)segments * width;
        for (long c = start; c < columns; c += stride)
        {
            long s = c / width;
            int w = (int)(c % width);
            dst[s * dstStride + dstOffset + w] = (float)SerialSum(src, s * rows * width + w, width, rows);
        }
    }

    /// <summary>Barrier-free variant of <see cref="ColumnSumAccumulate{TShape}"/> (see <see cref="ColumnSumDirect"/>).</summary>
    public static void ColumnSumAccumulateDirect(ArrayView<float> src, ArrayView<double> acc,
        int segments, int rows, int width)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long columns = (long)segments * width;
        for (long c = start; c < columns; c += stride)
        {
            long s = c / width;
            int w = (int)(c % width);
            acc[c] += SerialSum(src, s * rows * width + w, width, rows);
        }
    }

    private static double SerialSum(ArrayView<float> src, long first, int step, int rows)
    {
        double sum = 0.0;
        for (int b = 0; b < rows; b++) sum += src[first + (long)b * step];
        return sum;
    }

    // Every thread of the group must call this (it holds barriers). Returns the column's sum on ty == 0.
    private static double TreeSum(ArrayView<float> src, ArrayView<double> partial, bool active,
        long first, int step, int rows, int tx, int ty, int sx, int sy)
    {
        double sum = 0.0;
        if (active)
            for (int b = ty; b < rows; b += sy)
                sum += src[first + (long)b * step];
        partial[ty * sx + tx] = sum;
        Group.Barrier();
        for (int half = sy / 2; half > 0; half /= 2)
        {
            if (ty < half)
                partial[ty * sx + tx] += partial[(ty + half) * sx + tx];
            Group.Barrier();
        }
        return partial[tx];
    }
}
