// Shapes: src is [R, B, W] row-major: R restarts, B rows to sum over, W columns.
// Sums run over B, per (restart, column): out(r, w) = Σ_b src[r, b, w].
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

/// <summary>Wide GPU shape for devices with 1024-thread groups: 8 columns × 128 row lanes. A warp reads 8 adjacent
/// columns of 4 rows (four 32-byte sectors), and a matrix of W columns gets W/8 groups rather than W/32.</summary>
public struct Reduce8x128 : IReduceShape
{
    /// <inheritdoc/>
    public int X => 8;
    /// <inheritdoc/>
    public int Y => 128;
}

/// <summary>Small shape for the CPU accelerator: 2 columns × 2 row lanes (one barrier level).</summary>
public struct Reduce2x2 : IReduceShape
{
    /// <inheritdoc/>
    public int X => 2;
    /// <inheritdoc/>
    public int Y => 2;
}

/// <summary>
/// Sums over the batch dimension, accumulated in float64, in an order fixed by the shape alone (never by the grid, the
/// device's speed or scheduling), so the same inputs give the same bits on every run. Launch: group (X, Y) of the shape;
/// any 1-D grid: groups stride over the R·W output columns (R·W at most 2³¹ − 1; W and B below 2³⁰).
/// <para>Order of a tree sum (<see cref="ColumnSum{TShape}"/>, <see cref="ColumnSumAccumulate{TShape}"/>): row lane y
/// (0 ≤ y &lt; Y) of a column adds rows y, y + Y, y + 2Y, … in that order; the Y lane sums are then combined pairwise in
/// shared memory, lane y with lane y + h for h = Y/2, Y/4, …, 1. The lanes' loops take four rows an iteration and
/// issue the four loads before the four additions, so each thread keeps several loads in flight.</para>
/// </summary>
public static class Reductions
{
    /// <summary>dst[s·dstStride + dstOffset + w] = Σ_b src[s, b, w] (written, not accumulated): the bias
    /// gradient db_l = column sums of δ_l, written straight into the flat gradient buffer.</summary>
    public static void ColumnSum<TShape>(ArrayView<float> src, ArrayView<float> dst,
        long dstOffset, long dstStride, int restarts, int rows, int width)
        where TShape : struct, IReduceShape =>
        TreeColumns<TShape, WriteColumn>(src, new WriteColumn { Dst = dst, Offset = dstOffset, Stride = dstStride }, restarts, rows, width);

    /// <summary>acc[s·width + w] += Σ_b src[s, b, w]: accumulates per-network loss sums and hit counts
    /// over an epoch in float64 on the device, so the host reads them once per epoch.</summary>
    public static void ColumnSumAccumulate<TShape>(ArrayView<float> src, ArrayView<double> acc,
        int restarts, int rows, int width)
        where TShape : struct, IReduceShape =>
        TreeColumns<TShape, AddToColumn>(src, new AddToColumn { Acc = acc }, restarts, rows, width);

    // Where a column's sum goes: column c = s·width + w, at its (restart, width) coordinates.
    private interface IColumnSink
    {
        void Put(int column, IndexWalk at, double sum);
    }

    private struct WriteColumn : IColumnSink
    {
        public ArrayView<float> Dst;
        public long Offset, Stride;
        public readonly void Put(int column, IndexWalk at, double sum) => Dst[at.Outer * Stride + Offset + at.Inner] = (float)sum;
    }

    private struct AddToColumn : IColumnSink
    {
        public ArrayView<double> Acc;
        public readonly void Put(int column, IndexWalk at, double sum) => Acc[column] += sum;
    }

    private static void TreeColumns<TShape, TSink>(ArrayView<float> src, TSink sink, int restarts, int rows, int width)
        where TShape : struct, IReduceShape
        where TSink : struct, IColumnSink
    {
        var partial = SharedMemory.Allocate<double>(default(TShape).X * default(TShape).Y);
        int sx = default(TShape).X, sy = default(TShape).Y;
        int tx = Group.IdxX, ty = Group.IdxY;
        int columns = restarts * width;
        int c0Stride = Grid.DimX * sx;
        var at = IndexWalk.Start(Grid.IdxX * sx + tx, c0Stride, width, 1);
        for (int c0 = Grid.IdxX * sx; c0 < columns; c0 += c0Stride, at = at.Next())
        {
            bool active = c0 + tx < columns;
            double sum = TreeSum(src, partial, active, (long)at.Outer * rows * width + at.Inner, width, rows, tx, ty, sx, sy);
            if (ty == 0 && active) sink.Put(c0 + tx, at, sum);
            Group.Barrier();
        }
    }

    /// <summary>acc[s] += Σ_i src[s·length + i] for s &lt; restarts: the sums of contiguous runs (a column sum of width 1:
    /// per-network loss sums, hit counts, parameter sums), one group a run, its threads side by side along the run
    /// (coalesced). Launch: group (X, Y) of the shape, taken as T = X·Y threads in a row (T a power of 2); any 1-D grid:
    /// groups stride over the runs. Order, fixed by the shape: thread t adds elements t, t + T, t + 2T, … in that order;
    /// the T thread sums are combined pairwise in shared memory, thread t with thread t + h for h = T/2, T/4, …, 1.</summary>
    public static void SegmentSumAccumulate<TShape>(ArrayView<float> src, ArrayView<double> acc, int restarts, int length)
        where TShape : struct, IReduceShape
    {
        var partial = SharedMemory.Allocate<double>(default(TShape).X * default(TShape).Y);
        int threads = default(TShape).X * default(TShape).Y;
        int t = Group.IdxY * default(TShape).X + Group.IdxX;
        for (int s = Grid.IdxX; s < restarts; s += Grid.DimX)
        {
            partial[t] = StridedSum(src, (long)s * length, t, threads, length);
            Group.Barrier();
            for (int half = threads / 2; half > 0; half /= 2)
            {
                if (t < half) partial[t] += partial[t + half];
                Group.Barrier();
            }
            if (t == 0) acc[s] += partial[0];
            Group.Barrier();
        }
    }

    // Σ of src[first + t + step·i] for t + step·i < count, added in index order; four loads issued before the adds.
    private static double StridedSum(ArrayView<float> src, long first, int t, int step, int count)
    {
        double sum = 0.0;
        int i = t;
        for (; i + 3 * step < count; i += 4 * step)
        {
            float v0 = src[first + i], v1 = src[first + i + step], v2 = src[first + i + 2 * step], v3 = src[first + i + 3 * step];
            sum += v0;
            sum += v1;
            sum += v2;
            sum += v3;
        }
        for (; i < count; i += step) sum += src[first + i];
        return sum;
    }

    /// <summary>Barrier-free variant of <see cref="ColumnSum{TShape}"/>: one thread per output column, summing its
    /// rows in float64 in row order, in a grid-stride loop over columns. The CPU accelerator's path (barriers cost
    /// ~10 µs per thread there). Launch: any 1-D grid and group.</summary>
    public static void ColumnSumDirect(ArrayView<float> src, ArrayView<float> dst,
        long dstOffset, long dstStride, int restarts, int rows, int width)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        int columns = restarts * width;
        var at = IndexWalk.Start(start, stride, width, 1);
        for (int c = start; c < columns; c += stride, at = at.Next())
            dst[at.Outer * dstStride + dstOffset + at.Inner] = (float)SerialSum(src, (long)at.Outer * rows * width + at.Inner, width, rows);
    }

    /// <summary>Barrier-free variant of <see cref="ColumnSumAccumulate{TShape}"/> (see <see cref="ColumnSumDirect"/>).</summary>
    public static void ColumnSumAccumulateDirect(ArrayView<float> src, ArrayView<double> acc,
        int restarts, int rows, int width)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        int columns = restarts * width;
        var at = IndexWalk.Start(start, stride, width, 1);
        for (int c = start; c < columns; c += stride, at = at.Next())
            acc[c] += SerialSum(src, (long)at.Outer * rows * width + at.Inner, width, rows);
    }

    // Σ_b src[first + b·step] for b < rows, added in row order; four loads are issued before the four additions.
    private static double SerialSum(ArrayView<float> src, long first, int step, int rows)
    {
        double sum = 0.0;
        int b = 0;
        long at = first;
        for (; b + 3 < rows; b += 4, at += 4L * step)
        {
            float v0 = src[at], v1 = src[at + step], v2 = src[at + 2L * step], v3 = src[at + 3L * step];
            sum += v0;
            sum += v1;
            sum += v2;
            sum += v3;
        }
        for (; b < rows; b++, at += step) sum += src[at];
        return sum;
    }

    // Every thread of the group must call this (it holds barriers). Returns the column's sum on ty == 0.
    private static double TreeSum(ArrayView<float> src, ArrayView<double> partial, bool active,
        long first, int step, int rows, int tx, int ty, int sx, int sy)
    {
        double sum = 0.0;
        if (active)
        {
            long laneStep = (long)sy * step;
            long at = first + (long)ty * step;
            int b = ty;
            for (; b + 3 * sy < rows; b += 4 * sy, at += 4 * laneStep)
            {
                float v0 = src[at], v1 = src[at + laneStep], v2 = src[at + 2 * laneStep], v3 = src[at + 3 * laneStep];
                sum += v0;
                sum += v1;
                sum += v2;
                sum += v3;
            }
            for (; b < rows; b += sy, at += laneStep) sum += src[at];
        }
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
