// Shapes: parameters and optimizer moments are the flat [R, P] buffers of R restarts (restart r's block at r·P, in the
// network's own layout: per layer W_l [O, I] row-major, then b_l [O]); mask is [P] (1 = edge present) or unused;
// features are [N, I], targets [N, O] per restart at r·TargetStride (0 = shared); order is [N]; schedule is [3, S]
// (per step: step size, Adam's 1 − β₁ᵗ, 1 − β₂ᵗ); the sums are [R]. B rows a step, S steps a launch.
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuNet.Kernels;

/// <summary>Everything a fused restarts launch reads and writes: the trainer's own buffers (parameters, moments, loss
/// sums, divergence flags), the data, the epoch's order and the launch's S steps.</summary>
public struct RestartArgs
{
    /// <summary>[R, P] parameters, read at the start of the launch and written at its end.</summary>
    public ArrayView<float> Parameters;
    /// <summary>[P] connectivity mask (1 = edge present), read when <see cref="HasMask"/> is 1.</summary>
    public ArrayView<float> Mask;
    /// <summary>[R, P] first moment (momentum's velocity, Adam's m), used by rules with moments.</summary>
    public ArrayView<float> First;
    /// <summary>[R, P] second moment (Adam's v).</summary>
    public ArrayView<float> Second;
    /// <summary>[N, I] features.</summary>
    public ArrayView<float> Features;
    /// <summary>Targets: [N, O] at r·<see cref="TargetStride"/> for restart r.</summary>
    public ArrayView<float> Targets;
    /// <summary>[N] the epoch's row order, read when <see cref="Shuffled"/> is 1.</summary>
    public ArrayView<int> Order;
    /// <summary>[3, S]: row 0 the step sizes, rows 1 and 2 Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.</summary>
    public ArrayView<float> Schedule;
    /// <summary>[R] Σ row loss since the last reset (float64, accumulated).</summary>
    public ArrayView<double> LossSums;
    /// <summary>[R] Σ hits since the last reset (float64, accumulated when <see cref="CountHits"/> is 1).</summary>
    public ArrayView<double> HitSums;
    /// <summary>[R] the first step whose loss sum was not finite, or −1.</summary>
    public ArrayView<long> FirstBadSteps;
    /// <summary>R.</summary>
    public int Restarts;
    /// <summary>P of the network (its own layout, not the kernel's capacity).</summary>
    public int ParameterCount;
    /// <summary>N: rows of the data.</summary>
    public int DataRows;
    /// <summary>Position in the epoch's order of the first row of the first step.</summary>
    public int FirstRow;
    /// <summary>S: steps this launch takes (each on the next <see cref="Batch"/> rows).</summary>
    public int Steps;
    /// <summary>B: rows a step (the last step of an epoch takes what is left).</summary>
    public int Batch;
    /// <summary>The run's count of steps before this launch (recorded in <see cref="FirstBadSteps"/>).</summary>
    public long FirstStep;
    /// <summary>Distance between the targets of consecutive restarts (0 = shared).</summary>
    public long TargetStride;
    /// <summary>1 when rows are visited through <see cref="Order"/>.</summary>
    public int Shuffled;
    /// <summary>1 to count hits (classification).</summary>
    public int CountHits;
    /// <summary>1 when the mask is read.</summary>
    public int HasMask;
    /// <summary>Output above which a one-output network predicts class 1.</summary>
    public float Threshold;
    /// <summary>The loss: <see cref="RestartMath.SquaredError"/>, <see cref="RestartMath.AbsoluteError"/>,
    /// <see cref="RestartMath.CrossEntropy"/> or <see cref="RestartMath.BinaryCrossEntropy"/>.</summary>
    public int Loss;
    /// <summary>Widths of the network's layers 0..3 (layer 0 the input; those past its depth unused).</summary>
    public int Width0, Width1, Width2, Width3;
    /// <summary>Offsets of W_l and b_l in the network's parameter block.</summary>
    public int Weights1, Bias1, Weights2, Bias2, Weights3, Bias3;
    /// <summary>Functions of layers 1..3 (<see cref="RestartMath.Activate"/>'s codes).</summary>
    public int Activation1, Activation2, Activation3;
    /// <summary>Momentum μ (momentum) or β₁ (Adam).</summary>
    public float Beta1;
    /// <summary>β₂ (Adam).</summary>
    public float Beta2;
    /// <summary>ε (Adam).</summary>
    public float Epsilon;
    /// <summary>Weight decay λ (L2 for SGD and momentum, decoupled for Adam).</summary>
    public float WeightDecay;
    /// <summary>1 for Nesterov momentum.</summary>
    public int Nesterov;
    /// <summary>Warp form: log₂ of the lanes that share one restart.</summary>
    public int LaneShift;
}

/// <summary>
/// The registers of one restart of a network of a fixed capacity (its widths are compile-time constants; a smaller
/// network runs in it with the extra inputs, neurons and parameters held at exactly 0, as missing edges). Each
/// implementation is straight-line code over named fields, generated per shape (<c>RestartNetworks.g.cs</c>): ILGPU
/// keeps named fields of a local struct in registers, while it neither unrolls loops nor keeps an indexed local array
/// out of local memory.
/// </summary>
public interface IRestartNetwork
{
    /// <summary>Weight layers.</summary>
    int Depth { get; }
    /// <summary>Largest width of layer l (0 = the input) this shape holds.</summary>
    int Width(int layer);
    /// <summary>Parameters of the capacity layout (padding included).</summary>
    int Capacity { get; }
    /// <summary>Reads restart r's parameters (block = r·P) and the mask into registers.</summary>
    void Load(in RestartArgs a, long block);
    /// <summary>Reads the rule's moments into registers (thread form).</summary>
    void LoadMoments<TRule>(in RestartArgs a, long block) where TRule : struct, IUpdateRule;
    /// <summary>Writes the parameters back.</summary>
    void Store(in RestartArgs a, long block);
    /// <summary>Writes the rule's moments back (thread form).</summary>
    void StoreMoments<TRule>(in RestartArgs a, long block) where TRule : struct, IUpdateRule;
    /// <summary>Zeroes the gradient accumulators.</summary>
    void ClearGradients();
    /// <summary>One row: forward pass, loss (δ_L scaled by <paramref name="scale"/> = 1/B), backward pass adding the
    /// row's gradient to the accumulators. x and y are the row's offsets in the features and targets. Returns the
    /// row's loss; <paramref name="hit"/> is 1 when the row is classified correctly.</summary>
    float Row(in RestartArgs a, long x, long y, float scale, out float hit);
    /// <summary>Sums the gradient accumulators over the lanes of the warp, which share a restart (every lane ends with
    /// the same value).</summary>
    void SumLanes();
    /// <summary>One update of every parameter with the accumulated gradient, the moments in registers (thread form).</summary>
    void Update<TRule>(in RestartArgs a, float rate, float correction1, float correction2) where TRule : struct, IUpdateRule;
    /// <summary>One update with the moments read from and written to the moment buffers (warp form): the
    /// <paramref name="leader"/> lane (lane 0) updates, then every lane takes the new parameters from it (a warp
    /// broadcast), so no lane reads a moment another lane has already replaced.</summary>
    void UpdateInMemory<TRule>(in RestartArgs a, long block, float rate, float correction1, float correction2, bool leader) where TRule : struct, IUpdateRule;
}

/// <summary>An update rule for one parameter, exactly as the optimizer kernels (<see cref="Optimizers"/>) compute it.</summary>
public interface IUpdateRule
{
    /// <summary>Moment buffers the rule keeps (0, 1 or 2).</summary>
    int Moments { get; }

    /// <summary>Updates w (and its moments m, v) with gradient g and step size <paramref name="rate"/>.</summary>
    void Apply(ref float w, ref float m, ref float v, float g, in RestartArgs a, float rate, float correction1, float correction2);
}

/// <summary>w ← w − η (g + λ w).</summary>
public struct SgdRule : IUpdateRule
{
    /// <inheritdoc/>
    public int Moments => 0;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref float w, ref float m, ref float v, float g, in RestartArgs a, float rate, float correction1, float correction2)
    {
        float wi = w;
        w = wi - rate * (g + a.WeightDecay * wi);
    }
}

/// <summary>v ← μ v + (g + λ w); w ← w − η v, or w ← w − η (g + λ w + μ v) (Nesterov); the velocity is m.</summary>
public struct MomentumRule : IUpdateRule
{
    /// <inheritdoc/>
    public int Moments => 1;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref float w, ref float m, ref float v, float g, in RestartArgs a, float rate, float correction1, float correction2)
    {
        float wi = w;
        float gi = g + a.WeightDecay * wi;
        float vi = a.Beta1 * m + gi;
        m = vi;
        w = wi - rate * (a.Nesterov != 0 ? gi + a.Beta1 * vi : vi);
    }
}

/// <summary>Adam with decoupled weight decay: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// w ← w − ηλw − η (m/c₁) / (√(v/c₂) + ε).</summary>
public struct AdamRule : IUpdateRule
{
    /// <inheritdoc/>
    public int Moments => 2;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref float w, ref float m, ref float v, float g, in RestartArgs a, float rate, float correction1, float correction2)
    {
        float mi = a.Beta1 * m + (1f - a.Beta1) * g;
        float vi = a.Beta2 * v + (1f - a.Beta2) * g * g;
        m = mi;
        v = vi;
        float wi = w;
        wi -= rate * a.WeightDecay * wi;
        w = wi - rate * (mi / correction1) / (XMath.Sqrt(vi / correction2) + a.Epsilon);
    }
}

/// <summary>The per-neuron functions and the loss codes of the fused restarts kernels, with the same arithmetic as the
/// layer-by-layer kernels (<see cref="Activations"/>, <see cref="Losses"/>).</summary>
public static class RestartMath
{
    /// <summary>Loss codes of <see cref="RestartArgs.Loss"/>.</summary>
    public const int SquaredError = 0, AbsoluteError = 1, CrossEntropy = 2, BinaryCrossEntropy = 3;

    /// <summary>Activation codes: 0 identity, 1 logistic, 2 tanh, 3 ReLU.</summary>
    public const int Identity = 0, Logistic = 1, Tanh = 2, Relu = 3;

    /// <summary>σ(s) of activation <paramref name="kind"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Activate(int kind, float s) => kind switch
    {
        Logistic => default(Kernels.Logistic).Forward(s),
        Tanh => default(Kernels.Tanh).Forward(s),
        Relu => default(Kernels.Relu).Forward(s),
        _ => default(Kernels.Identity).Forward(s),
    };

    /// <summary>σ′ of activation <paramref name="kind"/> written through its output z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(int kind, float z) => kind switch
    {
        Logistic => default(Kernels.Logistic).DerivativeFromOutput(z),
        Tanh => default(Kernels.Tanh).DerivativeFromOutput(z),
        Relu => default(Kernels.Relu).DerivativeFromOutput(z),
        _ => default(Kernels.Identity).DerivativeFromOutput(z),
    };

    /// <summary>sign(d): 1, −1, or 0 for 0 (and NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sign(float d) => d > 0f ? 1f : (d < 0f ? -1f : 0f);

    /// <summary>log(1 + e^(−|z|)) + max(z, 0) − z·y: the logistic cross-entropy of logit z, stable for any z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LogisticLoss(float z, float y) => XMath.Max(z, 0f) - z * y + XMath.Log(1f + XMath.Exp(-XMath.Abs(z)));

    /// <summary>1 / (1 + e^(−z)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float z) => 1f / (1f + XMath.Exp(-z));

    /// <summary>Σ over the lanes of the warp, which share a restart; every lane gets the same value (a butterfly of
    /// shuffles on CUDA, sub_group_reduce_add in OpenCL).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SumLanes(float v) => WarpExtensions.AllReduce<float, AddFloat>(v);

    /// <inheritdoc cref="SumLanes(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumLanes(double v) => WarpExtensions.AllReduce<double, AddDouble>(v);
}

/// <summary>
/// Fused restarts: each restart runs S whole training steps (its rows by the epoch's order, forward, loss, backward,
/// update) in one launch, its network held in registers from the first step to the last. The loss sums, hits and
/// divergence flags are accumulated exactly as <see cref="Losses"/> and <see cref="Reductions"/> accumulate them for the
/// layer-by-layer step (float64, the batch's rows summed in order, then added). The kernels and the shapes' per-step
/// methods are marked for full optimisation: on the CPU accelerator one call of a kernel runs a whole launch, which
/// tiered compilation would leave in its first, unoptimised code.
/// </summary>
public static class Restarts
{
    /// <summary>Thread form: one thread trains one restart (rows one after another), everything in registers, no
    /// barrier and no shuffle. Launch: any 1-D grid and group (a grid-stride loop over the R restarts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ThreadPerRestart<TNet, TRule>(RestartArgs a)
        where TNet : struct, IRestartNetwork where TRule : struct, IUpdateRule
    {
        long first = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        int outputs = Outputs(a);
        for (long r = first; r < a.Restarts; r += stride)
        {
            long block = r * a.ParameterCount, targets = r * a.TargetStride;
            TNet net = default;
            net.Load(a, block);
            net.LoadMoments<TRule>(a, block);
            double loss = a.LossSums[r], hits = a.HitSums[r];
            long bad = a.FirstBadSteps[r];
            for (int s = 0; s < a.Steps; s++)
            {
                int start = a.FirstRow + s * a.Batch;
                int rows = XMath.Min(a.Batch, a.DataRows - start);
                float scale = 1f / rows;
                net.ClearGradients();
                double stepLoss = 0.0, stepHits = 0.0;
                for (int b = 0; b < rows; b++)
                {
                    int row = a.Shuffled != 0 ? a.Order[start + b] : start + b;
                    stepLoss += net.Row(a, (long)row * a.Width0, targets + (long)row * outputs, scale, out float hit);
                    stepHits += hit;
                }
                loss += stepLoss;
                if (a.CountHits != 0) hits += stepHits;
                if (bad < 0 && (double.IsNaN(loss) || double.IsInfinity(loss))) bad = a.FirstStep + s;
                net.Update<TRule>(a, a.Schedule[s], a.Schedule[a.Steps + s], a.Schedule[2 * a.Steps + s]);
            }
            net.Store(a, block);
            net.StoreMoments<TRule>(a, block);
            a.LossSums[r] = loss;
            a.HitSums[r] = hits;
            a.FirstBadSteps[r] = bad;
        }
    }

    /// <summary>Warp form: the lanes of a warp (2^LaneShift of them, the warp size) share one restart, each taking every
    /// 2^LaneShift-th row of a step; the gradients, losses and hits are summed over the warp (shuffles on CUDA, no
    /// barrier), and every lane then makes the same update, the moments read from and written to their buffers.
    /// Launch: groups of whole warps, any 1-D grid (a grid-stride loop over the restarts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WarpPerRestart<TNet, TRule>(RestartArgs a)
        where TNet : struct, IRestartNetwork where TRule : struct, IUpdateRule
    {
        long thread = Grid.GlobalIndex.X;
        long threads = (long)Grid.DimX * Group.DimX;
        int shift = a.LaneShift, lanes = 1 << shift;
        int lane = (int)(thread & (lanes - 1));
        int outputs = Outputs(a);
        for (long r = thread >> shift; r < a.Restarts; r += threads >> shift)
        {
            long block = r * a.ParameterCount, targets = r * a.TargetStride;
            TNet net = default;
            net.Load(a, block);
            double loss = a.LossSums[r], hits = a.HitSums[r];
            long bad = a.FirstBadSteps[r];
            for (int s = 0; s < a.Steps; s++)
            {
                int start = a.FirstRow + s * a.Batch;
                int rows = XMath.Min(a.Batch, a.DataRows - start);
                float scale = 1f / rows;
                net.ClearGradients();
                double stepLoss = 0.0, stepHits = 0.0;
                for (int b = lane; b < rows; b += lanes)
                {
                    int row = a.Shuffled != 0 ? a.Order[start + b] : start + b;
                    stepLoss += net.Row(a, (long)row * a.Width0, targets + (long)row * outputs, scale, out float hit);
                    stepHits += hit;
                }
                net.SumLanes();
                loss += RestartMath.SumLanes(stepLoss);
                stepHits = RestartMath.SumLanes(stepHits);
                if (a.CountHits != 0) hits += stepHits;
                if (bad < 0 && (double.IsNaN(loss) || double.IsInfinity(loss))) bad = a.FirstStep + s;
                net.UpdateInMemory<TRule>(a, block, a.Schedule[s], a.Schedule[a.Steps + s], a.Schedule[2 * a.Steps + s], lane == 0);
            }
            if (lane == 0)
            {
                net.Store(a, block);
                a.LossSums[r] = loss;
                a.HitSums[r] = hits;
                a.FirstBadSteps[r] = bad;
            }
        }
    }

    /// <summary>O: the width of the last layer (the widths past the network's depth are 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Outputs(in RestartArgs a) => a.Width3 > 0 ? a.Width3 : a.Width2 > 0 ? a.Width2 : a.Width1;
}
