using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The forward pass of R networks for batches of up to <see cref="LayerBuffers.MaxRows"/> rows, layer by layer: per layer one GEMM
/// A_l = Z_{l−1}·W_lᵀ and one fused kernel Z_l = σ_l(A_l + b_l). Keeps every Z_l [R, rows, n_l], which is all the
/// backward pass needs (σ' is written in terms of z). Its buffers are allocated once, here.
/// </summary>
public sealed class ForwardPass : LayerBuffers
{
    /// <summary>Allocates Z_1..Z_L for <paramref name="restarts"/> networks and batches of up to <paramref name="maxRows"/> rows.</summary>
    public ForwardPass(Device device, NetworkLayout layout, int restarts, int maxRows) : base(device, layout, restarts, maxRows) { }

    /// <summary>Device bytes a forward pass of this size allocates.</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows) => 4L * restarts * rows * layout.Neurons;

    /// <summary>Z_l of the last pass over <paramref name="rows"/> rows: [R, rows, n_l] (l = 1..L).</summary>
    public ArrayView<float> Activations(int layer, int rows) => Layer(layer, rows);

    /// <summary>Z_L of the last pass: [R, rows, O].</summary>
    public ArrayView<float> Output(int rows) => Activations(Layout.Depth, rows);

    /// <summary>Enqueues the pass. x is [rows, I] per network, network r's rows at r·xStride (0: one input shared by
    /// every network).</summary>
    public void Run(DeviceParameters parameters, ArrayView<float> x, long xStride, int rows)
    {
        CheckRows(rows);
        var p = parameters.View;
        long blocks = Layout.ParameterCount;
        for (int l = 1; l <= Layout.Depth; l++)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            ArrayView<float> input = l == 1 ? x : Layer(l - 1);
            var zl = Activations(l, rows);
            // A_l = Z_{l-1} · W_lᵀ : [rows, in] · [in, out]
            Device.Gemm.Run(new GemmArgs
            {
                A = input, Lda = inW, StrideA = l == 1 ? xStride : (long)rows * inW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks, TransB = 1,
                C = zl, Ldc = outW, StrideC = (long)rows * outW,
                M = rows, N = outW, K = inW, Alpha = 1f, Beta = 0f, Count = Restarts,
            });
            Device.Elementwise.BiasActivate(Layout.Activation(l), zl, p, Layout.BiasOffset(l), blocks, rows, outW);
        }
    }

    /// <summary>Enqueues the fused pass (<see cref="FusedGemmLauncher.Forward"/>): per layer one GEMM whose epilogue adds
    /// the bias and applies σ, the first reading the batch's rows of <paramref name="features"/> (all the data's rows,
    /// [N, I]) as <paramref name="batch"/> says. It computes what <see cref="Run"/> computes from the gathered rows.</summary>
    public void RunFused(DeviceParameters parameters, ArrayView<float> features, BatchRows batch, int rows)
    {
        CheckRows(rows);
        var p = parameters.View;
        long blocks = Layout.ParameterCount;
        var f = batch.Fusion;
        for (int l = 1; l <= Layout.Depth; l++)
        {
            int inW = Layout.Width(l - 1), outW = Layout.Width(l);
            var g = new GemmArgs
            {
                A = l == 1 ? batch.Start(features, inW) : Activations(l - 1, rows), Lda = inW, StrideA = l == 1 ? 0 : (long)rows * inW,
                B = p.From(Layout.WeightOffset(l)), Ldb = inW, StrideB = blocks, TransB = 1,
                C = Activations(l, rows), Ldc = outW, StrideC = (long)rows * outW,
                M = rows, N = outW, K = inW, Alpha = 1f, Beta = 0f, Count = Restarts,
            };
            // Only the first layer's product may be split in k (its K is the data's width, the deepest of a step): one
            // launch more at most, so a step stays within 2·L + 3 launches.
            Device.FusedGemm.Forward(Layout.Activation(l), g, f with { Bias = p, BiasOffset = Layout.BiasOffset(l), BiasStride = blocks },
                ordered: l == 1 && batch.Ordered, split: l == 1);
        }
    }
}

/// <summary>What the forward and backward passes share: one device buffer per layer 1..L of [R, MaxRows, n_l] floats,
/// allocated once (none is leaked when an allocation fails), and the size of the batches they take.</summary>
public abstract class LayerBuffers : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>?[] layers;

    private protected LayerBuffers(Device device, NetworkLayout layout, int restarts, int maxRows)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(layout);
        if (maxRows < 1) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "a batch holds at least one row");
        Device = device;
        Layout = layout;
        Restarts = restarts;
        MaxRows = maxRows;
        layers = new MemoryBuffer1D<float, Stride1D.Dense>?[layout.Depth + 1];
        try
        {
            for (int l = 1; l <= layout.Depth; l++) layers[l] = device.Allocate((long)restarts * maxRows * layout.Width(l));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The device the buffers live on.</summary>
    private protected Device Device { get; }
    /// <summary>The networks' layout.</summary>
    public NetworkLayout Layout { get; }
    /// <summary>R: networks side by side.</summary>
    public int Restarts { get; }
    /// <summary>The largest batch a pass takes.</summary>
    public int MaxRows { get; }

    /// <summary>Layer l's whole buffer, [R, MaxRows, n_l].</summary>
    private protected ArrayView<float> Layer(int l) => layers[l]!.View;

    /// <summary>Layer l's values for a batch of <paramref name="rows"/> rows, [R, rows, n_l].</summary>
    private protected ArrayView<float> Layer(int l, int rows) => Layer(l).SubView(0, (long)Restarts * rows * Layout.Width(l));

    private protected void CheckRows(int rows)
    {
        if (rows < 1 || rows > MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a batch holds 1..{MaxRows} rows here");
    }

    /// <inheritdoc/>
    public virtual void Dispose()
    {
        foreach (var b in layers) b?.Dispose();
        GC.SuppressFinalize(this);
    }
}
