// Shapes: src is [sets, N, F] (the whole dataset on the device; sets = 1, or R for per-restart targets), indices is
// [N] (an epoch's order), dst is [sets, rows, F] (one batch).
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Batch assembly on the device.</summary>
public static class Gather
{
    /// <summary>dst[s, r, f] = src[s, indices[offset + r], f] for s &lt; sets (sets = 1 for features and for targets
    /// shared by all restarts; R for per-restart targets), where set s of src/dst starts at s·srcStride / s·dstStride.
    /// Launch: grid-stride loop over sets·rows·F elements, any 1-D grid and group; rows and features below 2³⁰.
    /// Four grid-stride positions an iteration, their index loads issued together and then their row loads; the
    /// coordinates (s, r, f) follow the flat position by additions (<see cref="IndexWalk"/>).</summary>
    public static void Rows(ArrayView<float> src, ArrayView<int> indices, ArrayView<float> dst,
        int offset, int rows, int features, int sets, long srcStride, long dstStride)
    {
        int start = Grid.GlobalIndex.X;
        int stride = Grid.DimX * Group.DimX;
        long total = (long)rows * features * sets;
        var at = IndexWalk.Start(start, stride, features, rows);
        long i = start;
        for (; i + 3L * stride < total; i += 4L * stride)
        {
            var at1 = at.Next();
            var at2 = at1.Next();
            var at3 = at2.Next();
            int r0 = indices[offset + at.Middle], r1 = indices[offset + at1.Middle];
            int r2 = indices[offset + at2.Middle], r3 = indices[offset + at3.Middle];
            float v0 = src[at.Outer * srcStride + (long)r0 * features + at.Inner];
            float v1 = src[at1.Outer * srcStride + (long)r1 * features + at1.Inner];
            float v2 = src[at2.Outer * srcStride + (long)r2 * features + at2.Inner];
            float v3 = src[at3.Outer * srcStride + (long)r3 * features + at3.Inner];
            dst[Target(at, features, dstStride)] = v0;
            dst[Target(at1, features, dstStride)] = v1;
            dst[Target(at2, features, dstStride)] = v2;
            dst[Target(at3, features, dstStride)] = v3;
            at = at3.Next();
        }
        for (; i < total; i += stride)
        {
            dst[Target(at, features, dstStride)] = src[at.Outer * srcStride + (long)indices[offset + at.Middle] * features + at.Inner];
            at = at.Next();
        }
    }

    private static long Target(IndexWalk at, int features, long dstStride) =>
        at.Outer * dstStride + (long)at.Middle * features + at.Inner;
}
