// Shapes: src is [N, F] (the whole dataset on the device), indices is [N] (an epoch's order),
// dst is [rows, F] (one batch).
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Batch assembly on the device.</summary>
public static class Gather
{
    /// <summary>dst[c, r, f] = src[c, indices[offset + r], f] for c &lt; copies (copies = 1 for a dataset shared by
    /// all networks), where the c-th copy of src/dst starts at c·srcStride / c·dstStride.
    /// Launch: grid-stride loop over copies·rows·F elements, any 1-D grid and group.</summary>
    public static void Rows(ArrayView<float> src, ArrayView<int> indices, ArrayView<float> dst,
        int offset, int rows, int features, int copies, long srcStride, long dstStride)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long perCopy = (long)rows * features;
        long total = perCopy * copies;
        for (long i = start; i < total; i += stride)
        {
            long c = i / perCopy;
            long j = i % perCopy;
            int r = (int)(j / features), f = (int)(j % features);
            dst[c * dstStride + j] = src[c * srcStride + (long)indices[offset + r] * features + f];
        }
    }
}
