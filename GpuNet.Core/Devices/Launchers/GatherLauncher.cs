using GpuNet.Kernels;
using ILGPU;

namespace GpuNet.Devices;

/// <summary>Launches the row gather (<see cref="Gather"/>) that assembles a batch by the epoch's permutation.</summary>
public sealed class GatherLauncher : Launcher
{
    internal GatherLauncher(Device device) : base(device) { }

    /// <summary>dst[s, r, :] = src[s, indices[offset + r], :] for r &lt; rows and each of <paramref name="sets"/> target
    /// sets s (1 for features and shared targets).</summary>
    public void Rows(ArrayView<float> src, ArrayView<int> indices, ArrayView<float> dst, int offset, int rows,
        int features, int sets = 1, long srcStride = 0, long dstStride = 0)
    {
        long n = (long)rows * features * sets;
        if (n == 0) return;
        if (offset < 0 || offset + rows > indices.Length) throw new ArgumentException($"rows {offset}..{offset + rows} outside the {indices.Length} indices");
        if ((sets - 1) * dstStride + (long)rows * features > dst.Length) throw new ArgumentException("gather: destination too small");
        CheckIndexSize("gather", "the rows", rows);
        CheckIndexSize("gather", "the features", features);
        var k = KernelRegistry.GatherRows;
        Kernel(k)(Linear(k.Name, n), src, indices, dst, offset, rows, features, sets, srcStride, dstStride);
    }
}
