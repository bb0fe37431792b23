using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Training;

/// <summary>
/// The device work of one network set for batches of up to <see cref="MaxRows"/> rows: forward pass,
/// loss, backward pass and optimizer updates, every one a kernel launch with no host copy, no
/// synchronisation and no allocation. All buffers are allocated once, here.
/// Shapes: activations z_l and deltas δ_l are [K, rows, n_l]; gradients mirror the flat [K, P] parameters.
/// </summary>
internal sealed class Engine : IDisposable
{
    private readonly Network net;
    private readonly Device device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] z, delta;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> grads, rowLoss, hits;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> lossSum, hitSum, parameterSum;
    private readonly MemoryBuffer1D<long, Stride1D.Dense> firstBadStep;
    private MemoryBuffer1D<float, Stride1D.Dense>? moment1, moment2;
    private readonly int layers, copies;
    private readonly long paramsPerNet;
    private long optimizerSteps;

    public Engine(Network net, int maxRows)
    {
        if (maxRows < 1) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "batch must hold at least one row");
        this.net = net;
        device = net.Device;
        MaxRows = maxRows;
        layers = net.Spec.Layers.Count;
        copies = net.Copies;
        paramsPerNet = net.Spec.ParameterCount;
        z = new MemoryBuffer1D<float, Stride1D.Dense>[layers + 1];
        delta = new MemoryBuffer1D<float, Stride1D.Dense>[layers + 1];
        for (int l = 1; l <= layers; l++)
        {
            long n = (long)copies * maxRows * net.Spec.Layers[l - 1].Size;
            z[l] = net.Device.Allocate(n);
            delta[l] = net.Device.Allocate(n);
        }
        grads = net.Device.Allocate(copies * paramsPerNet);
        rowLoss = net.Device.Allocate((long)copies * maxRows);
        hits = net.Device.Allocate((long)copies * maxRows);
        lossSum = net.Device.Allocate<double>(copies);
        hitSum = net.Device.Allocate<double>(copies);
        parameterSum = net.Device.Allocate<double>(copies);
        firstBadStep = net.Device.Allocate<long>(copies);
        ResetSums();
    }

    public int MaxRows { get; }

    /// <summary>Device bytes an engine for <paramref name="copies"/> copies of <paramref name="spec"/> and batches of
    /// <paramref name="rows"/> rows allocates (activations, deltas, gradients, per-row losses and sums; no moments).</summary>
    public static long DeviceBytes(NetworkSpec spec, int copies, int rows)
    {
        long neurons = spec.Layers.Sum(l => (long)l.Size);
        return 4L * copies * (2L * rows * neurons + spec.ParameterCount + 2L * rows) + 8L * 3 * copies;
    }

    private int Width(int l) => l == 0 ? net.Spec.InputSize : net.Spec.Layers[l - 1].Size;

    /// <summary>z_L for the last forward pass of <paramref name="rows"/> rows: [K, rows, O].</summary>
    public ArrayView<float> Output(int rows) => z[layers].View.SubView(0, (long)copies * rows * Width(layers));

    /// <summary>Forward pass. x is [rows, I] per network, network k's rows at k·xStride (0 = shared input).</summary>
    public void Forward(ArrayView<float> x, long xStride, int rows)
    {
        CheckRows(rows);
        var p = net.ParameterView;
        for (int l = 1; l <= layers; l++)
        {
            int inW = Width(l - 1), outW = Width(l);
            ArrayView<float> input = l == 1 ? x : z[l - 1].View;
            long inStride = l == 1 ? xStride : (long)rows * inW;
            var zl = z[l].View.SubView(0, (long)copies * rows * outW);
            // A_l = Z_{l-1} · W_lᵀ : [rows, in] · [in, out]
            device.Gemm.Run(new GemmArgs
            {
                A = input, Lda = inW, StrideA = inStride,
                B = p.From(net.Spec.WeightOffset(l)), Ldb = inW, StrideB = paramsPerNet, TransB = 1,
                C = zl, Ldc = outW, StrideC = (long)rows * outW,
                M = rows, N = outW, K = inW, Alpha = 1f, Beta = 0f, Count = copies,
            });
            device.Elementwise.BiasActivate(net.Spec.Layers[l - 1].Activation, zl, p, net.Spec.BiasOffset(l), paramsPerNet, rows, outW);
        }
    }

    /// <summary>Per-sample loss and δ_L for the last forward pass; adds the batch's loss sum to the epoch sums.
    /// Targets are [rows, O] per network at k·targetStride (0 = shared).</summary>
    public void Loss(LossFunction loss, ArrayView<float> targets, long targetStride, int rows, bool countHits)
    {
        CheckRows(rows);
        int outW = Width(layers);
        var output = Output(rows);
        device.Losses.Compute(loss, net.Spec.Layers[^1].Activation, new LossArgs
        {
            Output = output,
            Targets = targets,
            Delta = delta[layers].View,
            RowLoss = rowLoss.View,
            Restarts = copies,
            Rows = rows,
            Width = outW,
            TargetStride = targetStride,
            GradScale = 1f / rows,
        });
        device.Reductions.ColumnSumAccumulate(rowLoss.View, lossSum.View, copies, rows, 1);
        if (countHits)
        {
            device.Losses.Correct(output, targets, hits.View, copies, rows, outW, targetStride, loss.AccuracyThreshold());
            device.Reductions.ColumnSumAccumulate(hits.View, hitSum.View, copies, rows, 1);
        }
    }

    /// <summary>Backward pass from δ_L: fills the gradient buffer [K, P] (dW_l = δ_lᵀ Z_{l−1}, db_l = Σ_b δ_l,
    /// δ_{l−1} = (δ_l W_l) ⊙ σ'_{l−1}).</summary>
    public void Backward(ArrayView<float> x, long xStride, int rows)
    {
        CheckRows(rows);
        var p = net.ParameterView;
        ArrayView<float> g = grads.View;
        for (int l = layers; l >= 1; l--)
        {
            int inW = Width(l - 1), outW = Width(l);
            ArrayView<float> input = l == 1 ? x : z[l - 1].View;
            long inStride = l == 1 ? xStride : (long)rows * inW;
            var dl = delta[l].View;
            // dW_l = δ_lᵀ · Z_{l-1} : [out, rows] · [rows, in]
            device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW, TransA = 1,
                B = input, Ldb = inW, StrideB = inStride,
                C = g.From(net.Spec.WeightOffset(l)), Ldc = inW, StrideC = paramsPerNet,
                M = outW, N = inW, K = rows, Alpha = 1f, Beta = 0f, Count = copies,
            });
            device.Reductions.ColumnSum(dl, g, net.Spec.BiasOffset(l), paramsPerNet, copies, rows, outW);
            if (l == 1) break;
            // δ_{l-1} = δ_l · W_l : [rows, out] · [out, in], then ⊙ σ'(z_{l-1})
            var dPrev = delta[l - 1].View;
            device.Gemm.Run(new GemmArgs
            {
                A = dl, Lda = outW, StrideA = (long)rows * outW,
                B = p.From(net.Spec.WeightOffset(l)), Ldb = inW, StrideB = paramsPerNet,
                C = dPrev, Ldc = inW, StrideC = (long)rows * inW,
                M = rows, N = inW, K = outW, Alpha = 1f, Beta = 0f, Count = copies,
            });
            device.Elementwise.ActivationBackward(net.Spec.Layers[l - 2].Activation, dPrev, z[l - 1].View, (long)copies * rows * inW);
        }
    }

    /// <summary>Clears the gradients of missing edges on the device (one launch; nothing to do without a mask). The
    /// backward pass leaves there what the edge's gradient would be if it existed, which the optimizers ignore.</summary>
    public void MaskGradients()
    {
        if (net.HasMask) device.Optimizers.ZeroMasked(grads.View, net.MaskView, paramsPerNet);
    }

    /// <summary>One optimizer update of every copy's parameters from the current gradients.</summary>
    public void Update(OptimizerOptions opt, float learningRate)
    {
        optimizerSteps++;
        var s = new OptimizerStep
        {
            LearningRate = learningRate,
            WeightDecay = opt.WeightDecay,
            ParamsPerNet = paramsPerNet,
            HasMask = net.HasMask ? 1 : 0,
        };
        var w = net.ParameterView;
        switch (opt.Kind)
        {
            case OptimizerKind.Sgd:
                device.Optimizers.Sgd(w, grads.View, net.MaskView, s);
                break;
            case OptimizerKind.Momentum:
                EnsureMoments(second: false);
                s.Beta1 = opt.Momentum;
                s.Nesterov = opt.Nesterov ? 1 : 0;
                device.Optimizers.Momentum(w, grads.View, moment1!.View, net.MaskView, s);
                break;
            case OptimizerKind.Adam:
                EnsureMoments(second: true);
                s.Beta1 = opt.Beta1;
                s.Beta2 = opt.Beta2;
                s.Epsilon = opt.Epsilon;
                s.Correction1 = (float)(1 - Math.Pow(opt.Beta1, optimizerSteps));
                s.Correction2 = (float)(1 - Math.Pow(opt.Beta2, optimizerSteps));
                device.Optimizers.Adam(w, grads.View, moment1!.View, moment2!.View, net.MaskView, s);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(opt), opt.Kind, "unknown optimizer");
        }
    }

    private void EnsureMoments(bool second)
    {
        if (moment1 == null)
        {
            moment1 = net.Device.Allocate(copies * paramsPerNet);
            moment1.MemSetToZero();
        }
        if (second && moment2 == null)
        {
            moment2 = net.Device.Allocate(copies * paramsPerNet);
            moment2.MemSetToZero();
        }
    }

    /// <summary>Zeroes the device-side loss and hit sums.</summary>
    public void ResetSums()
    {
        lossSum.MemSetToZero();
        hitSum.MemSetToZero();
        var none = new long[copies];
        Array.Fill(none, -1L);
        firstBadStep.View.CopyFromCPU(none);
    }

    /// <summary>Records <paramref name="step"/> for every copy whose loss sum just became NaN or infinite (one launch, no sync).</summary>
    public void WatchDivergence(long step) => device.Losses.FlagNonFinite(lossSum.View, firstBadStep.View, step);

    /// <summary>Per copy, the first step (since the last reset) whose loss was not finite, or −1 (a synchronising read).</summary>
    public long[] ReadFirstBadSteps()
    {
        device.Counters.Synced();
        return firstBadStep.GetAsArray1D();
    }

    /// <summary>Reads the sums (one synchronising copy): per-copy Σ sample loss and Σ hits.</summary>
    public (double[] Loss, double[] Hits) ReadSums()
    {
        device.Counters.Synced();
        return (lossSum.GetAsArray1D(), hitSum.GetAsArray1D());
    }

    /// <summary>Per copy, whether every parameter is finite: a float64 sum of each copy's parameters on the device
    /// (finite floats cannot overflow it, so it is NaN or infinite exactly when a parameter is), read back with the
    /// loss sums (one synchronising read). The loss of a step is taken before its update, so this catches an update
    /// that broke the weights in the epoch's last step, which no loss of the epoch shows.</summary>
    public (double[] Loss, double[] Hits, bool[] WeightsFinite) ReadEpochSums()
    {
        parameterSum.MemSetToZero();
        device.Reductions.ColumnSumAccumulate(net.ParameterView, parameterSum.View, copies, checked((int)paramsPerNet), 1);
        device.Counters.Synced();
        var sums = parameterSum.GetAsArray1D();
        return (lossSum.GetAsArray1D(), hitSum.GetAsArray1D(), Array.ConvertAll(sums, double.IsFinite));
    }

    /// <summary>The optimizer moments (momentum or Adam's m and v), or null where the optimizer has none yet.</summary>
    public (float[]? First, float[]? Second) ReadMoments()
    {
        device.Counters.Synced();
        return (moment1?.GetAsArray1D(), moment2?.GetAsArray1D());
    }

    /// <summary>Puts saved moments back and sets the optimizer's step count (Adam's bias corrections depend on it).</summary>
    public void RestoreMoments(float[]? first, float[]? second, long steps)
    {
        long n = copies * paramsPerNet;
        if ((first != null && first.Length != n) || (second != null && second.Length != n))
            throw new ArgumentException($"saved optimizer moments do not hold {n} values");
        if (first != null) { EnsureMoments(second: false); moment1!.View.CopyFromCPU(first); }
        if (second != null) { EnsureMoments(second: true); moment2!.View.CopyFromCPU(second); }
        optimizerSteps = steps;
    }

    /// <summary>Sets the device-side loss and hit sums (resuming inside an epoch).</summary>
    public void SetSums(double[] loss, double[] hits)
    {
        lossSum.View.CopyFromCPU(loss);
        hitSum.View.CopyFromCPU(hits);
    }

    /// <summary>Copies the gradient block of one copy to the host (for tests and tools; a synchronising read).</summary>
    public float[] Gradients(int copy)
    {
        device.Counters.Synced();
        var r = new float[paramsPerNet];
        grads.View.SubView(copy * paramsPerNet, paramsPerNet).CopyToCPU(r);
        return r;
    }

    /// <summary>Fills the gradient buffer with NaN, so a gradient the backward pass fails to write shows.</summary>
    internal void PoisonGradients()
    {
        var nan = new float[grads.Length];
        Array.Fill(nan, float.NaN);
        grads.View.CopyFromCPU(nan);
    }

    private void CheckRows(int rows)
    {
        if (rows < 1 || rows > MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a batch holds 1..{MaxRows} rows here");
    }

    public void Dispose()
    {
        for (int l = 1; l <= layers; l++) { z[l].Dispose(); delta[l].Dispose(); }
        grads.Dispose(); rowLoss.Dispose(); hits.Dispose(); lossSum.Dispose(); hitSum.Dispose(); parameterSum.Dispose(); firstBadStep.Dispose();
        moment1?.Dispose(); moment2?.Dispose();
    }
}
