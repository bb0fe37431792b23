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
public sealed class BackwardPass : LayerBuffers
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> grads;

    /// <summary>Allocates δ_1..δ_L and the gradients for <paramref name="restarts"/> networks and up to
    /// <paramref name="maxRows"/> rows.</summary>
    public BackwardPass(Device device, NetworkLayout layout, int restarts, int maxRows) : base(device, layout, restarts, maxRows)
    {
        try { grads = Device.Allocate(restarts * layout.ParameterCount); }
        catch
        {
            base.Dispose();
            throw;
        }
    }

    /// <summary>Device bytes a backward pass of this size allocates.</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows) =>
        4L * restarts * (rows * layout.Neurons + layout.ParameterCount);

    /// <summary>δ_L, [R, MaxRows, O]: where the loss writes ∂ℓ/∂a_L.</summary>
    public ArrayView<float> OutputDelta => Layer(Layout.Depth);

    /// <summary>δ_l of the last pass over <paramref name="rows"/> rows, [R, rows, n_l] (l = 1..L).</summary>
    public ArrayView<float> Delta(int layer, int rows) => Layer(layer, rows);

    /// <summary>∂ℓ/∂w of every parameter of every network, [R, P].</summary>
    public ArrayView<float> Gradients => grads.View;

    /// <summary>Enqueues the pass for the last forward pass over <paramref name="rows"/> rows of input
    /// <paramref name="x"/> (as given to <see cref="ForwardPass.Run"/>).</summary>
    public void Run(DeviceParameters parameters, ForwardPass forward, ArrayView<float> x, long xStride, int rows)
    {
        CheckRows(rows);
        var p = parameters.View;
        ArrayView<float> g = grads.View;
        long blocks = Layout.ParameterCount;
        for (int l = Layout.Depth; l >= 1; l--)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            ArrayView<float> input = l == 1 ? x : forward.Activations(l - 1, rows);
            long inStride = l == 1 ? xStride : (long)rows * inW;
            var dl = Layer(l);
            // dW_l = δ_lᵀ · Z_{l-1} : [out, rows] · [rows, in]
            Device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW, TransA = 1,
                B = input, Ldb = inW, StrideB = inStride,
                C = g.From(Layout.WeightOffset(l)), Ldc = inW, StrideC = blocks,
                M = outW, N = inW, K = rows, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            Device.Reductions.ColumnSum(dl, g, Layout.BiasOffset(l), blocks, Restarts, rows, outW);
            if (l == 1) break;
            // δ_{l-1} = δ_l · W_l : [rows, out] · [out, in], then ⊙ σ'(z_{l-1})
            var dPrev = Layer(l - 1);
            Device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks,
                C = dPrev, Ldc = inW, StrideC = (long)rows * inW,
                M = rows, N = inW, K = outW, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            Device.Elementwise.ActivationBackward(Layout.Activation(l - 1), dPrev, forward.Activations(l - 1, rows), (long)Restarts * rows * inW);
        }
    }

    /// <summary>Enqueues the fused pass (see <see cref="FusedGemmLauncher"/>) from δ_L: per layer from the last, one launch
    /// for dW_l with db_l summed as its epilogue and, above the first layer, δ_{l−1} = (δ_l·W_l) ⊙ σ'(z_{l−1}) in the same
    /// launch; the first layer's dW reads the batch's rows of <paramref name="features"/> as <paramref name="batch"/> says.</summary>
    public void RunFused(DeviceParameters parameters, ForwardPass forward, ArrayView<float> features, BatchRows batch, int rows)
    {
        CheckRows(rows);
        var p = parameters.View;
        ArrayView<float> g = grads.View;
        long blocks = Layout.ParameterCount;
        var f = batch.Fusion;
        for (int l = Layout.Depth; l >= 1; l--)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            var dl = Layer(l, rows);
            // dW_l = δ_lᵀ · Z_{l-1} : [out, rows] · [rows, in]
            var dW = new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW, TransA = 1,
                B = l == 1 ? batch.Start(features, inW) : forward.Activations(l - 1, rows), Ldb = inW, StrideB = l == 1 ? 0 : (long)rows * inW,
                C = g.From(Layout.WeightOffset(l)), Ldc = inW, StrideC = blocks,
                M = outW, N = inW, K = rows, Alpha = 1f, Beta = 0f, Count = Restarts,
            };
            var fW = f with { BiasGrad = g, BiasGradOffset = Layout.BiasOffset(l), BiasGradStride = blocks, HasBiasGrad = 1 };
            if (l == 1)
            {
                Device.FusedGemm.WeightGradient(dW, fW, ordered: batch.Ordered);
                break;
            }
            // δ_{l-1} = (δ_l · W_l) ⊙ σ'(z_{l-1}) : [rows, out] · [out, in]
            var dX = new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks,
                C = Layer(l - 1, rows), Ldc = inW, StrideC = (long)rows * inW,
                M = rows, N = inW, K = outW, Alpha = 1f, Beta = 0f, Count = Restarts,
            };
            Device.FusedGemm.BackwardPair(Layout.Activation(l - 1), dW, fW, dX, f with { Aux = forward.Activations(l - 1, rows) });
        }
    }

    /// <summary>Clears the gradients of missing edges on the device (one launch; nothing to do without a mask). The pass
    /// leaves there what the edge's gradient would be if it existed, which the optimizers ignore.</summary>
    public void MaskGradients(DeviceParameters parameters)
    {
        if (parameters.HasMask) Device.Optimizers.ZeroMasked(grads.View, parameters.Mask, Layout.ParameterCount);
    }

    /// <summary>The gradient block of restart r (a synchronising read).</summary>
    public float[] ReadGradients(int restart)
    {
        var r = new float[Layout.ParameterCount];
        Device.Counters.Synced();
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
    public override void Dispose()
    {
        base.Dispose();
        grads.Dispose();
    }
}
