using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>
/// The fused restarts step: one kernel launch runs up to <see cref="MaxStepsPerRun"/> whole steps of every restart, each
/// restart's network, gradient and moments held in registers for the launch (<see cref="RestartPass"/>). It reads and
/// writes the trainer's own buffers (the network's parameters, the optimizer's moments and step count, the sums'
/// loss, hit and divergence buffers) and visits the rows in the epoch's order shared by every restart, so losses per
/// restart, the best restart, divergence, checkpoints and resuming work as with <see cref="LayeredStep"/>, whose
/// operations it performs in the same order (the thread form exactly; the warp form sums a step's rows as a tree).
/// </summary>
public sealed class PerRestartStep : ITrainingStep
{
    private readonly Network net;
    private readonly DeviceDataset data;
    private readonly ILoss loss;
    private readonly RestartPass pass;
    private bool shuffled;

    /// <summary>Steps of <paramref name="batchSize"/> rows of every restart of <paramref name="network"/> on
    /// <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller owns), in
    /// <paramref name="form"/> (null: the one <see cref="RestartPass.ChooseForm"/> picks).</summary>
    /// <exception cref="ArgumentException">The network does not fit (the message says why).</exception>
    public PerRestartStep(Network network, DeviceDataset data, ILoss loss, IOptimizer optimizer, int batchSize, RestartForm? form = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (batchSize < 1 || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"a step takes 1..{data.Count} rows of this data");
        var rule = RuleOf(optimizer) ?? throw new ArgumentException($"the per-restart step runs GpuNet's own update rules, not {optimizer.GetType().Name}");
        (net, this.data, this.loss, Optimizer, BatchSize) = (network, data, loss, optimizer, batchSize);
        MaxStepsPerRun = StepsPerLaunch(network.Device, network.Restarts, batchSize);
        pass = new RestartPass(network.Device, network.Spec.Layout, rule, data.Count, batchSize, MaxStepsPerRun, form);
        try { Sums = new LossSums(network.Device, network.Restarts, 1); }
        catch
        {
            pass.Dispose();
            throw;
        }
    }

    /// <summary>Device bytes the step allocates for <paramref name="restarts"/> restarts on <paramref name="rows"/>
    /// data rows (the moments are the optimizer's).</summary>
    public static long Bytes(int restarts, int rows) => LossSums.Bytes(restarts, 1) + RestartPass.Bytes(rows);

    /// <summary>The rule of one of GpuNet's optimizers, or null.</summary>
    internal static RestartRule? RuleOf(IOptimizer optimizer) => (optimizer as IFusedOptimizer)?.Rule;

    /// <inheritdoc/>
    public string Name => "per-restart";
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <summary>S, the steps one launch takes: as many as keep a launch near 2²² row passes (rows × restarts) on the CPU
    /// accelerator, about a second there, and 2³⁰ on a GPU; at least 1, at most <see cref="RestartPass.MaxSteps"/>.</summary>
    public int MaxStepsPerRun { get; }
    /// <summary>How the restarts map onto threads.</summary>
    public RestartForm Form => pass.Form;
    /// <summary>The restart shape the network runs in.</summary>
    public string Shape => pass.Shape;
    /// <inheritdoc/>
    ILossSums ITrainingStep.Sums => Sums;
    /// <summary>The step's sums on its device.</summary>
    public LossSums Sums { get; }
    /// <inheritdoc/>
    public IOptimizer Optimizer { get; }

    private static int StepsPerLaunch(Device device, int restarts, int batchSize)
    {
        long budget = device.IsCpu ? 1L << 22 : 1L << 30;
        return (int)Math.Clamp(budget / ((long)restarts * batchSize), 1, RestartPass.MaxSteps);
    }

    /// <inheritdoc/>
    public void BeginEpoch(int[]? rowOrder)
    {
        shuffled = rowOrder != null;
        if (rowOrder != null) pass.SetOrder(rowOrder); // one copy per epoch
    }

    /// <inheritdoc/>
    public void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep)
    {
        if (steps < 1 || steps > MaxStepsPerRun) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"a run takes 1..{MaxStepsPerRun} steps here");
        if (rates.Length < steps) throw new ArgumentException($"{rates.Length} step sizes for {steps} steps");
        if (firstRow < 0 || firstRow + (long)(steps - 1) * BatchSize >= data.Count)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{steps} steps of {BatchSize} rows from row {firstRow} run past the {data.Count} rows");
        var rows = new RestartData(data.Features, data.Targets, data.TargetStride, data.Count, data.IsClassification);
        pass.Run(net.Parameters, Optimizer, Sums, loss, rows, shuffled, firstRow, rates[..steps], firstStep);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        pass.Dispose();
        Sums.Dispose();
    }
}
