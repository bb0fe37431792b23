using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// The fused restarts kernel (<see cref="Restarts"/>) bound to a network layout, an update rule and a batch size: each
/// <see cref="Run"/> is one launch of S whole steps of every restart, reading and writing the network's parameters, the
/// optimizer's moments and the sums' buffers. A layout fits when a restart shape (<see cref="RestartNetworks.Shapes"/>)
/// of the same depth is at least as wide in every layer and has a kernel for the rule (<see cref="RestartLimits"/>).
/// </summary>
public sealed class RestartPass : IDisposable
{
    private readonly Device device;
    private readonly NetworkLayout layout;
    private readonly int shape;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> schedule;
    private readonly float[] hostSchedule;

    /// <summary>The most steps one launch takes.</summary>
    public const int MaxSteps = 1024;

    /// <summary>A pass for networks of <paramref name="layout"/> updated by <paramref name="rule"/>, over data of
    /// <paramref name="rows"/> rows in batches of <paramref name="batchSize"/>, in <paramref name="form"/> (null:
    /// <see cref="ChooseForm"/>'s), launching up to <paramref name="maxSteps"/> steps at once.</summary>
    /// <exception cref="ArgumentException">The layout does not fit (the message says why), or the form has no kernel.</exception>
    public RestartPass(Device device, NetworkLayout layout, RestartRule rule, int rows, int batchSize, int maxSteps, RestartForm? form = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(layout);
        if (maxSteps < 1 || maxSteps > MaxSteps) throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps, $"a launch takes 1..{MaxSteps} steps");
        var (fit, why) = Fit(layout, rule);
        shape = fit >= 0 ? fit : throw new ArgumentException(why);
        Form = form ?? ChooseForm(device, shape, rule, batchSize);
        if (KernelRegistry.Restarts[shape, rule, Form] == null)
            throw new ArgumentException($"restart shape {ShapeName(shape)} has no {Form} kernel for {rule}");
        (this.device, this.layout, Rule, BatchSize) = (device, layout, rule, batchSize);
        order = device.Allocate<int>(rows);
        try { schedule = device.Allocate(3L * maxSteps); }
        catch
        {
            order.Dispose();
            throw;
        }
        hostSchedule = new float[3 * maxSteps];
    }

    /// <summary>Device bytes a pass over <paramref name="rows"/> data rows allocates (the order and the schedule).</summary>
    public static long Bytes(int rows) => 4L * rows + 4L * 3 * MaxSteps;

    /// <summary>How the restarts map onto threads.</summary>
    public RestartForm Form { get; }
    /// <summary>The update rule.</summary>
    public RestartRule Rule { get; }
    /// <summary>B: rows a step.</summary>
    public int BatchSize { get; }
    /// <summary>The restart shape the network runs in, e.g. "1-2-2-1".</summary>
    public string Shape => ShapeName(shape);

    /// <summary>The restart shape that holds <paramref name="layout"/> with <paramref name="rule"/> (the one with the
    /// fewest parameters), or −1 and the reason none does.</summary>
    public static (int Shape, string Reason) Fit(NetworkLayout layout, RestartRule rule)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var holding = Enumerable.Range(0, RestartNetworks.Shapes.Length).Where(s => Holds(RestartNetworks.Shapes[s], layout))
            .OrderBy(RestartLimits.Capacity).ToList();
        if (holding.Count == 0)
            return (-1, $"no restart shape holds a {Widths(layout)} network (the shapes, input first: " +
                $"{string.Join(", ", Enumerable.Range(0, RestartNetworks.Shapes.Length).Select(ShapeName))}; every layer at most as wide, as many layers)");
        foreach (int s in holding)
            if (Enum.GetValues<RestartForm>().Any(f => RestartLimits.Fits(s, rule, f))) return (s, $"restart shape {ShapeName(s)}");
        var rules = Enum.GetValues<RestartRule>().Where(r => Enum.GetValues<RestartForm>().Any(f => RestartLimits.Fits(holding[0], r, f)));
        return (-1, $"restart shape {ShapeName(holding[0])} ({RestartLimits.Capacity(holding[0])} parameters) holds the network but not " +
            $"{rule}'s state in registers; it runs {string.Join(" and ", rules).ToLowerInvariant()}");
    }

    /// <summary>The form for a batch of <paramref name="batchSize"/> rows: one thread per restart when a step has at
    /// most 16 rows or on the CPU accelerator (where each shuffle waits for the warp's OS threads), one warp per restart
    /// otherwise; whichever has a kernel when only one does.</summary>
    public static RestartForm ChooseForm(Device device, int shape, RestartRule rule, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(device);
        bool thread = RestartLimits.Fits(shape, rule, RestartForm.ThreadPerRestart);
        bool warp = RestartLimits.Fits(shape, rule, RestartForm.WarpPerRestart) && device.Restarts.Lanes > 0;
        if (thread && (!warp || device.IsCpu || batchSize <= 16)) return RestartForm.ThreadPerRestart;
        return warp ? RestartForm.WarpPerRestart : throw new ArgumentException($"restart shape {ShapeName(shape)} has no kernel for {rule} on {device.Info.Name}");
    }

    private static bool Holds(int[] capacity, NetworkLayout layout)
    {
        if (capacity.Length != layout.Depth + 1) return false;
        for (int l = 0; l <= layout.Depth; l++)
            if (layout.Width(l) > capacity[l]) return false;
        return true;
    }

    private static string ShapeName(int shape) => string.Join("-", RestartNetworks.Shapes[shape]);

    private static string Widths(NetworkLayout layout) => string.Join("-", Enumerable.Range(0, layout.Depth + 1).Select(layout.Width));

    /// <summary>Sets the order of the coming epoch's rows (one host→device copy).</summary>
    public void SetOrder(int[] rowOrder)
    {
        ArgumentNullException.ThrowIfNull(rowOrder);
        if (rowOrder.Length != order.Length) throw new ArgumentException($"the order lists {rowOrder.Length} rows; the data has {order.Length}");
        order.View.CopyFromCPU(rowOrder);
    }

    /// <summary>Enqueues <paramref name="rates"/>.Length steps (one schedule copy, one launch): the first on the rows
    /// from <paramref name="firstRow"/> of the order set by <see cref="SetOrder"/> (when <paramref name="shuffled"/>) or
    /// of the data's own order, each on the next B rows; the optimizer counts the steps.</summary>
    public void Run(DeviceParameters parameters, IOptimizer optimizer, LossSums sums, ILoss loss, RestartData data,
        bool shuffled, int firstRow, ReadOnlySpan<float> rates, long firstStep)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var fused = optimizer as IFusedOptimizer ?? throw new ArgumentException($"the fused step runs GpuNet's own update rules, not {optimizer.GetType().Name}");
        if (fused.Rule != Rule) throw new ArgumentException($"the pass was made for {Rule}, the optimizer is {fused.Rule}");
        int steps = rates.Length;
        if (steps < 1 || 3 * steps > hostSchedule.Length) throw new ArgumentOutOfRangeException(nameof(rates), steps, $"a launch takes 1..{hostSchedule.Length / 3} steps here");
        var s = hostSchedule.AsSpan(0, 3 * steps);
        rates.CopyTo(s);
        fused.TakeSteps(s.Slice(steps, steps), s.Slice(2 * steps, steps));
        ((ArrayView<float>)schedule.View).SubView(0, 3 * steps).CopyFromCPU(s);
        var a = Arguments(parameters, sums, loss, data);
        (a.Shuffled, a.FirstRow, a.Steps, a.Batch, a.FirstStep, a.Schedule) = (shuffled ? 1 : 0, firstRow, steps, BatchSize, firstStep, schedule.View);
        fused.Describe(ref a, parameters.View);
        device.Restarts.Train(shape, Rule, Form, a);
    }

    private RestartArgs Arguments(DeviceParameters p, LossSums sums, ILoss loss, RestartData data)
    {
        if (p.Layout != layout) throw new ArgumentException("the parameters belong to another layout");
        var a = new RestartArgs
        {
            Parameters = p.View, Mask = p.Mask, HasMask = p.HasMask ? 1 : 0, Restarts = p.Restarts, ParameterCount = (int)layout.ParameterCount,
            Features = data.Features, Targets = data.Targets, TargetStride = data.TargetStride, DataRows = data.Rows, Order = order.View,
            LossSums = sums.LossView, HitSums = sums.HitView, FirstBadSteps = sums.FirstBadStepView,
            CountHits = data.Classification ? 1 : 0, Threshold = loss.AccuracyThreshold, Loss = LossCode(loss.Function),
            Width0 = layout.Width(0), Width1 = layout.Width(1),
            Weights1 = (int)layout.WeightOffset(1), Bias1 = (int)layout.BiasOffset(1), Activation1 = ActivationCode(layout.Activation(1)),
        };
        if (layout.Depth >= 2)
            (a.Width2, a.Weights2, a.Bias2, a.Activation2) = (layout.Width(2), (int)layout.WeightOffset(2), (int)layout.BiasOffset(2), ActivationCode(layout.Activation(2)));
        if (layout.Depth >= 3)
            (a.Width3, a.Weights3, a.Bias3, a.Activation3) = (layout.Width(3), (int)layout.WeightOffset(3), (int)layout.BiasOffset(3), ActivationCode(layout.Activation(3)));
        return a;
    }

    private static int LossCode(LossFunction f) => f switch
    {
        LossFunction.MeanSquaredError => RestartMath.SquaredError,
        LossFunction.MeanAbsoluteError => RestartMath.AbsoluteError,
        LossFunction.CrossEntropy => RestartMath.CrossEntropy,
        LossFunction.BinaryCrossEntropy => RestartMath.BinaryCrossEntropy,
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown loss"),
    };

    private static int ActivationCode(Activation a) => a switch
    {
        Activation.Identity => RestartMath.Identity,
        Activation.Logistic => RestartMath.Logistic,
        Activation.Tanh => RestartMath.Tanh,
        Activation.Relu => RestartMath.Relu,
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "unknown activation"),
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        order.Dispose();
        schedule.Dispose();
    }
}

/// <summary>The training data as a fused pass reads it: features [N, I], targets [N, O] per restart at
/// r·<paramref name="TargetStride"/> (0: shared), whether hits are counted.</summary>
public readonly record struct RestartData(ArrayView<float> Features, ArrayView<float> Targets, long TargetStride, int Rows, bool Classification);
