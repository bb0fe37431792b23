using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;

namespace GpuNet.Compute;

/// <summary>Which of the data's rows a batch holds: rows <see cref="Order"/>[FirstRow + b] of the epoch's order when
/// <see cref="Ordered"/>, else the run FirstRow + b of the data's own order. The fused step reads them where they are,
/// with no gathered copy.</summary>
public readonly record struct BatchRows(ArrayView<int> Order, int FirstRow, bool Ordered)
{
    /// <summary>What a fused GEMM needs to read the rows through the order.</summary>
    internal GemmFusion Fusion => new() { Order = Order, FirstRow = Ordered ? FirstRow : 0 };

    /// <summary>The view a GEMM reads the batch's rows of <paramref name="data"/> (rows of <paramref name="width"/>) from:
    /// the whole data when the order is followed, else the batch's run of it.</summary>
    internal ArrayView<float> Start(ArrayView<float> data, int width) => Ordered ? data : data.From((long)FirstRow * width);
}
