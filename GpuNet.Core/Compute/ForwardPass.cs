using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The forward pass of R networks for batches of up to <see cref="MaxRows"/> rows, layer by layer: per layer one GEMM
/// A_l = Z_{l−1}·W_lᵀ and one fused kernel Z_l = σ_l(A_l + b_l). Keeps every Z_l [R, rows, n_l], which is all the
/// backward pass needs (σ' is written in terms of z). Its buffers are allocated once, here.
/// </summary>
public sealed class ForwardPass : IDisposable
{
    private readonly Device device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] z;

    /// <summary>Allocates Z_1..Z_L for <paramref name="restarts"/> networks and batches of up to <paramref name="maxRows"/> rows.</summary>
    public ForwardPass(Device device, NetworkLayout layout, int restarts, int maxRows)
    {
        if (maxRows < 1) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "a batch holds at least one row");
        this.device = device;
        Layout = layout;
        Restarts = restarts;
        MaxRows = maxRows;
        z = Buffers.Allocate(device, layout, l => (long)restarts * maxRows * layout.Width(l));
    }

    /// <summary>Device bytes a forward pass of this size allocates.</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows) => 4L * restarts * rows * layout.Neurons;

    /// <summary>The networks' layout.</summary>
    public NetworkLayout Layout { get; }
    /// <summary>R: networks side by side.</summary>
    public int Restarts { get; }
    /// <summary>The largest batch a pass takes.</summary>
    public int MaxRows { get; }

    /// <summary>Z_l of the last pass over <paramref name="rows"/> rows: [R, rows, n_l] (l = 1..L).</summary>
    public ArrayView<float> Activations(int layer, int rows) => z[layer].View.SubView(0, (long)Restarts * rows * Layout.Width(layer));

    /// <summary>Z_L of the last pass: [R, rows, O].</summary>
    public ArrayView<float> Output(int rows) => Activations(Layout.Depth, rows);

    /// <summary>Enqueues the pass. x is [rows, I] per network, network r's rows at r·xStride (0: one input shared by
    /// every network).</summary>
    public void Run(DeviceParameters parameters, ArrayView<float> x, long xStride, int rows)
    {
        Buffers.CheckRows(rows, MaxRows);
        var p = parameters.View;
        long blocks = Layout.ParameterCount;
        for (int l = 1; l <= Layout.Depth; l++)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            ArrayView<float> input = l == 1 ? x : z[l - 1].View;
            var zl = Activations(l, rows);
            // A_l = Z_{l-1} · W_lᵀ : [rows, in] · [in, out]
            device.Gemm.Run(new GemmArgs
            {
                A = input, Lda = inW, StrideA = l == 1 ? xStride : (long)rows * inW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks, TransB = 1,
                C = zl, Ldc = outW, StrideC = (long)rows * outW,
                M = rows, N = outW, K = inW, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            device.Elementwise.BiasActivate(Layout.Activation(l), zl, p, Layout.BiasOffset(l), blocks, rows, outW);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Buffers.Dispose(z);
}

/// <summary>Per-layer device buffers of the passes.</summary>
internal static class Buffers
{
    /// <summary>One buffer per layer 1..L of <paramref name="elements"/>(l) floats (index 0 unused); none is leaked when
    /// an allocation fails.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense>[] Allocate(Device device, NetworkLayout layout, Func<int, long> elements)
    {
        var buffers = new MemoryBuffer1D<float, Stride1D.Dense>[layout.Depth + 1];
        try
        {
            for (int l = 1; l <= layout.Depth; l++) buffers[l] = device.Allocate(elements(l));
        }
        catch
        {
            Dispose(buffers);
            throw;
        }
        return buffers;
    }

    public static void Dispose(MemoryBuffer1D<float, Stride1D.Dense>?[] buffers)
    {
        foreach (var b in buffers) b?.Dispose();
    }

    public static void CheckRows(int rows, int maxRows)
    {
        if (rows < 1 || rows > maxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a batch holds 1..{maxRows} rows here");
    }
}
