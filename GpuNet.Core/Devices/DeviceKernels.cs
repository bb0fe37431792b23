using GpuNet.Kernels;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Which GEMM kernel to run.</summary>
public enum GemmVariant
{
    /// <summary>Blocked (barrier-free) on the CPU accelerator; on GPUs the variant tuned for the shape class
    /// (<see cref="GemmTuner"/>); or the one pinned by <see cref="DeviceKernels.GemmPin"/> / <c>GPUNET_GEMM</c>.</summary>
    Auto,
    /// <summary>One dot product per output element (the reference kernel).</summary>
    Naive,
    /// <summary>Barrier-free 4×4 register blocks per thread (the CPU accelerator's kernel).</summary>
    Blocked,
    /// <summary>Shared-memory tiles, 2×2 threads × 4×4 register blocks (8×8 tile): small groups.</summary>
    Tiled8,
    /// <summary>Shared-memory tiles, 16×16 threads × 4×4 register blocks (64×64 tile): the first GPU kernel.</summary>
    Tiled64,
    /// <summary>Large-tile kernel (<see cref="GemmLarge"/>), 128×128 tiles of 256 threads with 8×8 per thread.</summary>
    Large128,
    /// <summary>Large-tile kernel with 64×64 tiles of 64 threads, for products with few tiles.</summary>
    Large64,
    /// <summary>Large-tile kernel with 16×16 tiles of 4 threads (small groups: tests, the CPU accelerator).</summary>
    Large16,
    /// <summary><see cref="Large128"/> with k split into slices summed in a fixed order (<see cref="GemmSplitK"/>).</summary>
    SplitK128,
    /// <summary><see cref="Large64"/> with k split into slices summed in a fixed order.</summary>
    SplitK64,
    /// <summary><see cref="Large16"/> with k split into slices summed in a fixed order.</summary>
    SplitK16,
}

/// <summary>Which column-sum kernel to run.</summary>
public enum ReductionVariant
{
    /// <summary>Tree on GPUs, direct on the CPU accelerator.</summary>
    Auto,
    /// <summary>Float64 partial sums combined by a tree in shared memory (GPU).</summary>
    Tree,
    /// <summary>One thread per column, float64 sum, no barriers (CPU accelerator).</summary>
    Direct,
}

/// <summary>Which loss kernel to run (see <see cref="Losses"/>).</summary>
public enum LossKernel
{
    /// <summary>Mean squared error through the output function.</summary>
    SquaredError,
    /// <summary>Mean absolute error through the output function.</summary>
    AbsoluteError,
    /// <summary>Softmax + cross-entropy on logits.</summary>
    SoftmaxCrossEntropy,
    /// <summary>Logistic + binary cross-entropy on logits.</summary>
    BinaryCrossEntropy,
}

/// <summary>
/// Launchers for every kernel on one device: each kernel is compiled on first use and its typed
/// delegate kept (never reloaded); each launcher checks its arguments, picks the launch shape from the
/// device's properties and enqueues the kernel without waiting. Launches per device are counted in
/// <see cref="LaunchCount"/>.
/// </summary>
public sealed partial class DeviceKernels
{
    private readonly Device device;
    private readonly Accelerator acc;
    private readonly int linearGroup, linearMaxGrid;
    private readonly bool smallReduce;

    private Action<KernelConfig, GemmArgs>? gemmNaive, gemmBlocked, gemmTiled8, gemmTiled64;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>?[] biasActivate = new Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int>?[4];
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>?[] backward = new Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>?[4];
    private readonly Action<KernelConfig, ArrayView<float>, long>?[] apply = new Action<KernelConfig, ArrayView<float>, long>?[4];
    private Action<KernelConfig, ArrayView<float>, long, int>? softmax;
    private readonly Action<KernelConfig, LossArgs>?[] squared = new Action<KernelConfig, LossArgs>?[4];
    private readonly Action<KernelConfig, LossArgs>?[] absolute = new Action<KernelConfig, LossArgs>?[4];
    private Action<KernelConfig, LossArgs>? softmaxCe, bce;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, long, float>? correct;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>? columnSum;
    private Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>? columnSumAcc;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, long, long, int, int, int>? columnSumDirect;
    private Action<KernelConfig, ArrayView<float>, ArrayView<double>, int, int, int>? columnSumAccDirect;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>? sgd;
    private Action<KernelConfig, ArrayView<double>, ArrayView<long>, long>? flagNonFinite;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>? momentum;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>? adam;
    private Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int, long, long>? gather;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, long>? zeroMasked;

    internal DeviceKernels(Device device)
    {
        this.device = device;
        acc = device.Accelerator;
        int maxGroup = acc.MaxNumThreadsPerGroup;
        if (device.IsCpu)
        {
            // Few, small groups: the CPU accelerator pays per group and per thread of a group.
            linearGroup = Math.Min(maxGroup, 4);
            linearMaxGrid = acc.NumMultiprocessors;
        }
        else
        {
            linearGroup = Math.Min(maxGroup, 256);
            linearMaxGrid = acc.NumMultiprocessors * 32;
        }
        smallReduce = maxGroup < 256;
        DefaultReduction = device.IsCpu ? ReductionVariant.Direct : ReductionVariant.Tree;
        if (maxGroup < 4)
            throw new NotSupportedException($"{device.Info.Name} allows {maxGroup} threads a group; GpuNet needs at least 4");
        DefaultGemm = device.IsCpu || maxGroup < 256 ? GemmVariant.Blocked : GemmVariant.Large128;
    }

    /// <summary>The GEMM variant <see cref="GemmVariant.Auto"/> resolves to where no tuner decides (the CPU accelerator,
    /// <c>GPUNET_GEMM=fixed</c>, a product too large to tune); <see cref="GemmPin"/> overrides it.</summary>
    public GemmVariant DefaultGemm
    {
        get => defaultGemm;
        set => defaultGemm = value == GemmVariant.Auto ? throw new ArgumentException("the default GEMM must be a concrete variant") : value;
    }
    private GemmVariant defaultGemm;

    /// <summary>The reduction variant <see cref="ReductionVariant.Auto"/> resolves to on this device.</summary>
    public ReductionVariant DefaultReduction { get; }

    /// <summary>Kernel launches enqueued on this device so far, from every thread that uses it.</summary>
    public long LaunchCount => Interlocked.Read(ref launchCount);
    private long launchCount;

    /// <summary>The kernel launched last on this device, from any thread (a device fault surfaces at the next
    /// synchronisation and is reported with it).</summary>
    public string LastKernel { get => Volatile.Read(ref lastKernel); private set => Volatile.Write(ref lastKernel, value); }
    private string lastKernel = "none";

    /// <summary>Host synchronisations (waits for the device, reads of device results) made by GpuNet so far,
    /// from every thread that uses this device.</summary>
    public long SyncCount => Interlocked.Read(ref syncCount);
    private long syncCount;

    internal void CountSync() => Interlocked.Increment(ref syncCount);

    private KernelConfig Linear(string kernel, long n)
    {
        LastKernel = kernel;
        long groups = Math.Clamp((n + linearGroup - 1) / linearGroup, 1, linearMaxGrid);
        Interlocked.Increment(ref launchCount);
        return new KernelConfig((int)groups, linearGroup);
    }

    private Action<KernelConfig, T> Load<T>(ref Action<KernelConfig, T>? slot, Action<T> kernel) where T : struct =>
        slot ??= acc.LoadStreamKernel(kernel);

    // ---------------------------------------------------------------- GEMM

    /// <summary>C[z] = α·op(A[z])·op(B[z]) + β·C[z] for every batch entry (see <see cref="GemmArgs"/>).</summary>
    public void Gemm(in GemmArgs g, GemmVariant variant = GemmVariant.Auto)
    {
        CheckGemm(g);
        if (g.M == 0 || g.N == 0 || g.Batch == 0) return;
        if (variant == GemmVariant.Auto) variant = ResolveGemm(g);
        switch (variant)
        {
            case GemmVariant.Naive:
                Load(ref gemmNaive, Kernels.Gemm.Naive)(Linear("Gemm", (long)g.Batch * g.M * g.N), g);
                break;
            case GemmVariant.Blocked:
                Load(ref gemmBlocked, Kernels.Gemm.Blocked)(Linear("Gemm", (long)g.Batch * ((g.M + 3) / 4) * ((g.N + 3) / 4)), g);
                break;
            case GemmVariant.Tiled8:
                TiledLaunch(ref gemmTiled8, Kernels.Gemm.Tiled<GemmTile8>, default(GemmTile8), g);
                break;
            case GemmVariant.Tiled64:
                TiledLaunch(ref gemmTiled64, Kernels.Gemm.Tiled<GemmTile64>, default(GemmTile64), g);
                break;
            case var large when GemmSelection.IsLarge(large):
                LaunchLarge(g, large);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "unknown GEMM variant");
        }
    }

    private void TiledLaunch<TTile>(ref Action<KernelConfig, GemmArgs>? slot, Action<GemmArgs> kernel, TTile tile, in GemmArgs g)
        where TTile : struct, IGemmTile
    {
        int threads = tile.GroupX * tile.GroupY;
        if (threads > acc.MaxNumThreadsPerGroup)
            throw new NotSupportedException(
                $"tiled GEMM needs {threads} threads a group; {device.Info.Name} allows {acc.MaxNumThreadsPerGroup}: use a smaller variant");
        int bm = 4 * tile.GroupY, bn = 4 * tile.GroupX;
        LastKernel = "Gemm (tiled)";
        var grid = new Index3D((g.N + bn - 1) / bn, (g.M + bm - 1) / bm, Math.Min(g.Batch, 65535));
        Interlocked.Increment(ref launchCount);
        Load(ref slot, kernel)(new KernelConfig(grid, new Index3D(tile.GroupX, tile.GroupY, 1)), g);
    }

    private static void CheckGemm(in GemmArgs g)
    {
        if (g.M < 0 || g.N < 0 || g.K < 0 || g.Batch < 0)
            throw new ArgumentException($"GEMM sizes must be non-negative (M={g.M}, N={g.N}, K={g.K}, batch={g.Batch})");
        int aRows = g.TransA == 0 ? g.M : g.K, aCols = g.TransA == 0 ? g.K : g.M;
        int bRows = g.TransB == 0 ? g.K : g.N, bCols = g.TransB == 0 ? g.N : g.K;
        CheckOperand("A", g.A.Length, aRows, aCols, g.Lda, g.StrideA, g.Batch);
        CheckOperand("B", g.B.Length, bRows, bCols, g.Ldb, g.StrideB, g.Batch);
        CheckOperand("C", g.C.Length, g.M, g.N, g.Ldc, g.StrideC, g.Batch);
    }

    private static void CheckOperand(string name, long length, int rows, int cols, int ld, long stride, int batch)
    {
        if (rows == 0 || cols == 0 || batch == 0) return;
        if (ld < cols)
            throw new ArgumentException($"GEMM operand {name}: row stride {ld} is less than its {cols} columns");
        if (stride < 0)
            throw new ArgumentException($"GEMM operand {name}: negative batch stride {stride}");
        long need = (batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (need > length)
            throw new ArgumentException(
                $"GEMM operand {name} is {rows}×{cols} (row stride {ld}, batch {batch} × stride {stride}) and needs {need} elements; its buffer holds {length}");
    }

    // ---------------------------------------------------------------- element-wise

    /// <summary>In place z[k,b,o] ← σ(z[k,b,o] + bias_k[o]) over z's whole length (k = i / (rows·width)).</summary>
    public void BiasActivate(Activation act, ArrayView<float> z, ArrayView<float> parameters, long biasOffset,
        long paramStride, int rowsPerNet, int width)
    {
        if (z.Length == 0) return;
        long nets = z.Length / ((long)rowsPerNet * width);
        if (nets * rowsPerNet * width != z.Length)
            throw new ArgumentException($"z holds {z.Length} elements, not a multiple of rows {rowsPerNet} × width {width}");
        if ((nets - 1) * paramStride + biasOffset + width > parameters.Length)
            throw new ArgumentException("bias lies outside the parameter buffer");
        var k = biasActivate[(int)act] ??= act switch
        {
            Activation.Identity => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int>(Activations.BiasActivate<Identity>),
            Activation.Logistic => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int>(Activations.BiasActivate<Logistic>),
            Activation.Tanh => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int>(Activations.BiasActivate<Tanh>),
            Activation.Relu => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int>(Activations.BiasActivate<Relu>),
            _ => throw new ArgumentOutOfRangeException(nameof(act)),
        };
        k(Linear("BiasActivate", z.Length), z, parameters, biasOffset, paramStride, rowsPerNet, width);
    }

    /// <summary>In place delta[i] ← delta[i] · σ'(z[i]) for i &lt; n.</summary>
    public void ActivationBackward(Activation act, ArrayView<float> delta, ArrayView<float> z, long n)
    {
        if (n == 0 || act == Activation.Identity) return; // σ' = 1: nothing to do
        if (delta.Length < n || z.Length < n) throw new ArgumentException($"activation backward over {n} elements: buffers hold {delta.Length} and {z.Length}");
        var k = backward[(int)act] ??= act switch
        {
            Activation.Logistic => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Activations.Backward<Logistic>),
            Activation.Tanh => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Activations.Backward<Tanh>),
            Activation.Relu => acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Activations.Backward<Relu>),
            _ => throw new ArgumentOutOfRangeException(nameof(act)),
        };
        k(Linear("ActivationBackward", n), delta, z, n);
    }

    /// <summary>In place z[i] ← σ(z[i]) for i &lt; n.</summary>
    public void Apply(Activation act, ArrayView<float> z, long n)
    {
        if (n == 0 || act == Activation.Identity) return;
        if (z.Length < n) throw new ArgumentException($"activation over {n} elements: buffer holds {z.Length}");
        var k = apply[(int)act] ??= act switch
        {
            Activation.Logistic => acc.LoadStreamKernel<ArrayView<float>, long>(Activations.Apply<Logistic>),
            Activation.Tanh => acc.LoadStreamKernel<ArrayView<float>, long>(Activations.Apply<Tanh>),
            Activation.Relu => acc.LoadStreamKernel<ArrayView<float>, long>(Activations.Apply<Relu>),
            _ => throw new ArgumentOutOfRangeException(nameof(act)),
        };
        k(Linear("Apply", n), z, n);
    }

    /// <summary>In place row-wise softmax of a [rows, width] matrix.</summary>
    public void SoftmaxRows(ArrayView<float> z, long rows, int width)
    {
        if (rows == 0) return;
        if (z.Length < rows * width) throw new ArgumentException($"softmax over {rows}×{width}: buffer holds {z.Length}");
        softmax ??= acc.LoadStreamKernel<ArrayView<float>, long, int>(Activations.SoftmaxRows);
        softmax(Linear("SoftmaxRows", rows), z, rows, width);
    }

    // ---------------------------------------------------------------- losses

    /// <summary>Per-sample loss and ∂ℓ/∂a_L (see <see cref="Losses"/>); <paramref name="output"/> is the
    /// output function (it must be <see cref="Activation.Identity"/> for the two losses on logits).</summary>
    public void Loss(LossKernel loss, Activation output, in LossArgs a)
    {
        long rows = (long)a.Networks * a.Rows;
        if (rows == 0) return;
        long n = rows * a.Width;
        if (a.Output.Length < n || a.Delta.Length < n || a.RowLoss.Length < rows)
            throw new ArgumentException($"loss over {a.Networks}×{a.Rows}×{a.Width}: output {a.Output.Length}, delta {a.Delta.Length}, row loss {a.RowLoss.Length} elements");
        if ((a.Networks - 1) * a.TargetStride + (long)a.Rows * a.Width > a.Targets.Length)
            throw new ArgumentException($"targets hold {a.Targets.Length} elements; {a.Rows}×{a.Width} per network needed");
        Action<KernelConfig, LossArgs> k;
        switch (loss)
        {
            case LossKernel.SquaredError:
                k = squared[(int)output] ??= output switch
                {
                    Activation.Identity => acc.LoadStreamKernel<LossArgs>(Losses.SquaredError<Identity>),
                    Activation.Logistic => acc.LoadStreamKernel<LossArgs>(Losses.SquaredError<Logistic>),
                    Activation.Tanh => acc.LoadStreamKernel<LossArgs>(Losses.SquaredError<Tanh>),
                    Activation.Relu => acc.LoadStreamKernel<LossArgs>(Losses.SquaredError<Relu>),
                    _ => throw new ArgumentOutOfRangeException(nameof(output)),
                };
                break;
            case LossKernel.AbsoluteError:
                k = absolute[(int)output] ??= output switch
                {
                    Activation.Identity => acc.LoadStreamKernel<LossArgs>(Losses.AbsoluteError<Identity>),
                    Activation.Logistic => acc.LoadStreamKernel<LossArgs>(Losses.AbsoluteError<Logistic>),
                    Activation.Tanh => acc.LoadStreamKernel<LossArgs>(Losses.AbsoluteError<Tanh>),
                    Activation.Relu => acc.LoadStreamKernel<LossArgs>(Losses.AbsoluteError<Relu>),
                    _ => throw new ArgumentOutOfRangeException(nameof(output)),
                };
                break;
            case LossKernel.SoftmaxCrossEntropy:
                RequireLogits(loss, output);
                k = Load(ref softmaxCe, Losses.SoftmaxCrossEntropy);
                break;
            case LossKernel.BinaryCrossEntropy:
                RequireLogits(loss, output);
                k = Load(ref bce, Losses.BinaryCrossEntropy);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(loss));
        }
        k(Linear("Loss", rows), a);
    }

    private static void RequireLogits(LossKernel loss, Activation output)
    {
        if (output != Activation.Identity)
            throw new ArgumentException($"{loss} takes logits: the last layer must be identity, not {output.Name()} (the loss applies its own output function)");
    }

    /// <summary>correct[k,b] ← 1 where the prediction matches the target, else 0 (see <see cref="Losses.Correct"/>).</summary>
    public void Correct(ArrayView<float> output, ArrayView<float> targets, ArrayView<float> hits,
        int networks, int rows, int width, long targetStride, float threshold)
    {
        long n = (long)networks * rows;
        if (n == 0) return;
        if (hits.Length < n || output.Length < n * width)
            throw new ArgumentException("correct: buffers too small");
        correct ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, long, float>(Losses.Correct);
        correct(Linear("Correct", n), output, targets, hits, networks, rows, width, targetStride, threshold);
    }

    /// <summary>firstBad[k] ← step where sums[k] is not finite and no step was recorded yet (see <see cref="Losses.FlagNonFinite"/>).</summary>
    public void FlagNonFinite(ArrayView<double> sums, ArrayView<long> firstBad, long step)
    {
        if (sums.Length == 0) return;
        if (firstBad.Length < sums.Length) throw new ArgumentException("flag buffer shorter than the sums");
        flagNonFinite ??= acc.LoadStreamKernel<ArrayView<double>, ArrayView<long>, long>(Losses.FlagNonFinite);
        flagNonFinite(Linear("FlagNonFinite", sums.Length), sums, firstBad, step);
    }

    // ---------------------------------------------------------------- reductions

    private ReductionVariant Resolve(ReductionVariant v) => v == ReductionVariant.Auto ? DefaultReduction : v;

    private KernelConfig ReduceConfig(string kernel, long columns, out bool small)
    {
        LastKernel = kernel;
        small = smallReduce;
        int x = small ? default(Reduce2x2).X : default(Reduce32x8).X;
        int y = small ? default(Reduce2x2).Y : default(Reduce32x8).Y;
        long groups = Math.Clamp((columns + x - 1) / x, 1, small ? acc.NumMultiprocessors : acc.NumMultiprocessors * 8L);
        Interlocked.Increment(ref launchCount);
        return new KernelConfig(new Index3D((int)groups, 1, 1), new Index3D(x, y, 1));
    }

    /// <summary>dst[s·dstStride + dstOffset + w] = Σ_b src[s, b, w] for s &lt; segments (written, float64 tree sums).</summary>
    public void ColumnSum(ArrayView<float> src, ArrayView<float> dst, long dstOffset, long dstStride,
        int segments, int rows, int width, ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)segments * width == 0) return;
        if (src.Length < (long)segments * rows * width) throw new ArgumentException($"column sum of {segments}×{rows}×{width}: source holds {src.Length}");
        if ((segments - 1) * dstStride + dstOffset + width > dst.Length) throw new ArgumentException("column sum: destination too small");
        if (Resolve(variant) == ReductionVariant.Direct)
        {
            columnSumDirect ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSumDirect);
            columnSumDirect(Linear("ColumnSum", (long)segments * width), src, dst, dstOffset, dstStride, segments, rows, width);
            return;
        }
        var cfg = ReduceConfig("ColumnSum", (long)segments * width, out bool small);
        columnSum ??= small
            ? acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSum<Reduce2x2>)
            : acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long, long, int, int, int>(Reductions.ColumnSum<Reduce32x8>);
        columnSum(cfg, src, dst, dstOffset, dstStride, segments, rows, width);
    }

    /// <summary>acc[s·width + w] += Σ_b src[s, b, w] (float64).</summary>
    public void ColumnSumAccumulate(ArrayView<float> src, ArrayView<double> sums, int segments, int rows, int width,
        ReductionVariant variant = ReductionVariant.Auto)
    {
        if ((long)segments * width == 0) return;
        if (src.Length < (long)segments * rows * width) throw new ArgumentException($"column sum of {segments}×{rows}×{width}: source holds {src.Length}");
        if (sums.Length < (long)segments * width) throw new ArgumentException("column sum: accumulator too small");
        if (Resolve(variant) == ReductionVariant.Direct)
        {
            columnSumAccDirect ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulateDirect);
            columnSumAccDirect(Linear("ColumnSumAccumulate", (long)segments * width), src, sums, segments, rows, width);
            return;
        }
        var cfg = ReduceConfig("ColumnSumAccumulate", (long)segments * width, out bool small);
        columnSumAcc ??= small
            ? acc.LoadStreamKernel<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulate<Reduce2x2>)
            : acc.LoadStreamKernel<ArrayView<float>, ArrayView<double>, int, int, int>(Reductions.ColumnSumAccumulate<Reduce32x8>);
        columnSumAcc(cfg, src, sums, segments, rows, width);
    }

    // ---------------------------------------------------------------- optimizers and data

    /// <summary>w ← w − η(g + λw), masked entries set to 0.</summary>
    public void Sgd(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, in OptimizerStep s)
    {
        CheckOptimizer(w, g, mask, s);
        sgd ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Sgd);
        sgd(Linear("Sgd", w.Length), w, g, mask, s);
    }

    /// <summary>Momentum (or Nesterov) step; see <see cref="Optimizers.Momentum"/>.</summary>
    public void Momentum(ArrayView<float> w, ArrayView<float> g, ArrayView<float> v, ArrayView<float> mask, in OptimizerStep s)
    {
        CheckOptimizer(w, g, mask, s);
        if (v.Length != w.Length) throw new ArgumentException("momentum buffer differs in length from the parameters");
        momentum ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Momentum);
        momentum(Linear("Momentum", w.Length), w, g, v, mask, s);
    }

    /// <summary>Adam / AdamW step; see <see cref="Optimizers.Adam"/>.</summary>
    public void Adam(ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> mask, in OptimizerStep s)
    {
        CheckOptimizer(w, g, mask, s);
        if (m.Length != w.Length || v.Length != w.Length) throw new ArgumentException("Adam moment buffers differ in length from the parameters");
        adam ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerStep>(Optimizers.Adam);
        adam(Linear("Adam", w.Length), w, g, m, v, mask, s);
    }

    /// <summary>Sets the entries of missing edges to 0 in a flat [K, P] gradient buffer (mask [P]); see <see cref="Optimizers.ZeroMasked"/>.</summary>
    public void ZeroMasked(ArrayView<float> g, ArrayView<float> mask, long paramsPerNet)
    {
        if (paramsPerNet <= 0 || g.Length % paramsPerNet != 0) throw new ArgumentException($"gradients ({g.Length}) are not a whole number of networks of {paramsPerNet}");
        if (mask.Length != paramsPerNet) throw new ArgumentException($"mask holds {mask.Length} entries, a network {paramsPerNet}");
        zeroMasked ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, long>(Optimizers.ZeroMasked);
        zeroMasked(Linear("ZeroMasked", g.Length), g, mask, paramsPerNet);
    }

    private static void CheckOptimizer(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, in OptimizerStep s)
    {
        if (g.Length != w.Length) throw new ArgumentException($"gradient holds {g.Length} elements, parameters {w.Length}");
        if (s.ParamsPerNet <= 0 || w.Length % s.ParamsPerNet != 0) throw new ArgumentException($"parameters ({w.Length}) are not a whole number of networks of {s.ParamsPerNet}");
        if (s.HasMask != 0 && mask.Length != s.ParamsPerNet) throw new ArgumentException($"mask holds {mask.Length} entries, a network {s.ParamsPerNet}");
    }

    /// <summary>dst[c, r, :] = src[c, indices[offset + r], :] for r &lt; rows, c &lt; copies.</summary>
    public void GatherRows(ArrayView<float> src, ArrayView<int> indices, ArrayView<float> dst, int offset, int rows,
        int features, int copies = 1, long srcStride = 0, long dstStride = 0)
    {
        long n = (long)rows * features * copies;
        if (n == 0) return;
        if (offset < 0 || offset + rows > indices.Length) throw new ArgumentException($"rows {offset}..{offset + rows} outside the {indices.Length} indices");
        if ((copies - 1) * dstStride + (long)rows * features > dst.Length) throw new ArgumentException("gather: destination too small");
        gather ??= acc.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int, long, long>(Kernels.Gather.Rows);
        gather(Linear("GatherRows", n), src, indices, dst, offset, rows, features, copies, srcStride, dstStride);
    }
}
