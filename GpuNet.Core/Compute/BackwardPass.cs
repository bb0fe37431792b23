using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The backward pass of R networks from δ_L = ∂ℓ/∂a_L (written by a loss into <see cref="OutputDelta"/>): per layer
/// l = L … 1, dW_l = δ_lᵀ·Z_{l−1} (GEMM), db_l = Σ_rows δ_l (column sum) and, below the first layer,
/// δ_{l−1} = (δ_l·W_l) ⊙ σ'(z_{l−1}) (GEMM and one element-wise kernel). Fills the gradient buffer [R, P], which mirrors
/// the flat parameters. Its buffers are allocated once, here.
/// </summary>
public sealed class BackwardPass : IDisposable
{
    private readonly Device device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] delta;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> grads;

    /// <summary>Allocates δ_1..δ_L and the gradients for <paramref name="restarts"/> networks and up to
    /// <paramref name="maxRows"/> rows.</summary>
    public BackwardPass(Device device, NetworkLayout layout, int restarts, int maxRows)
    {
        if (maxRows < 1) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "a batch holds at least one row");
        this.device = device;
        Layout = layout;
        Restarts = restarts;
        MaxRows = maxRows;
        delta = Buffers.Allocate(device, layout, l => (long)restarts * maxRows * layout.Width(l));
        try { grads = device.Allocate(restarts * layout.ParameterCount); }
        catch
        {
            Buffers.Dispose(delta);
            throw;
        }
    }

    /// <summary>Device bytes a backward pass of this size allocates.</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows) =>
        4L * restarts * (rows * layout.Neurons + layout.ParameterCount);

    /// <summary>The networks' layout.</summary>
    public NetworkLayout Layout { get; }
    /// <summary>R: networks side by side.</summary>
    public int Restarts { get; }
    /// <summary>The largest batch a pass takes.</summary>
    public int MaxRows { get; }

    /// <summary>δ_L, [R, MaxRows, O]: where the loss writes ∂ℓ/∂a_L.</summary>
    public ArrayView<float> OutputDelta => delta[Layout.Depth].View;

    /// <summary>∂ℓ/∂w of every parameter of every network, [R, P].</summary>
    public ArrayView<float> Gradients => grads.View;

    /// <summary>Enqueues the pass for the last forward pass over <paramref name="rows"/> rows of input
    /// <paramref name="x"/> (as given to <see cref="ForwardPass.Run"/>).</summary>
    public void Run(DeviceParameters parameters, ForwardPass forward, ArrayView<float> x, long xStride, int rows)
    {
        Buffers.CheckRows(rows, MaxRows);
        var p = parameters.View;
        ArrayView<float> g = grads.View;
        long blocks = Layout.ParameterCount;
        for (int l = Layout.Depth; l >= 1; l--)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            ArrayView<float> input = l == 1 ? x : forward.Activations(l - 1, rows);
            long inStride = l == 1 ? xStride : (long)rows * inW;
            var dl = delta[l].View;
            // dW_l = δ_lᵀ · Z_{l-1} : [out, rows] · [rows, in]
            device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW, TransA = 1,
                B = input, Ldb = inW, StrideB = inStride,
                C = g.From(Layout.WeightOffset(l)), Ldc = inW, StrideC = blocks,
                M = outW, N = inW, K = rows, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            device.Reductions.ColumnSum(dl, g, Layout.BiasOffset(l), blocks, Restarts, rows, outW);
            if (l == 1) break;
            // δ_{l-1} = δ_l · W_l : [rows, out] · [out, in], then ⊙ σ'(z_{l-1})
            var dPrev = delta[l - 1].View;
            device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks,
                C = dPrev, Ldc = inW, StrideC = (long)rows * inW,
                M = rows, N = inW, K = outW, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            device.Elementwise.ActivationBackward(Layout.Activation(l - 1), dPrev, forward.Activations(l - 1, rows), (long)Restarts * rows * inW);
        }
    }

    /// <summary>Clears the gradients of missing edges on the device (one launch; nothing to do without a mask). The pass
    /// leaves there what the edge's gradient would be if it existed, which the optimizers ignore.</summary>
    public void MaskGradients(DeviceParameters parameters)
    {
        if (parameters.HasMask) device.Optimizers.ZeroMasked(grads.View, parameters.Mask, Layout.ParameterCount);
    }

    /// <summary>The gradient block of restart r (a synchronising read).</summary>
    public float[] ReadGradients(int restart)
    {
        var r = new float[Layout.ParameterCount];
        device.Counters.Synced();
        grads.View.SubView(restart * Layout.ParameterCount, Layout.ParameterCount).CopyToCPU(r);
        return r;
    }

    /// <summary>Fills the gradients with NaN, so a gradient the pass fails to write shows.</summary>
    public void PoisonGradients()
    {
        var nan = new float[grads.Length];
        Array.Fill(nan, float.NaN);
        grads.View.CopyFromCPU(nan);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Buffers.Dispose(delta);
        grads.Dispose();
    }
}
