using GpuNet.Compute;
using GpuNet.Devices;
using GpuNet.Data;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>Which implementation of <see cref="ITrainingStep"/> runs a training run's steps.</summary>
public enum StepKind
{
    /// <summary>The best one that applies to the network and device.</summary>
    Auto,
    /// <summary><see cref="LayeredStep"/>: one GEMM and one element-wise kernel per layer (the reference).</summary>
    Layered,
    /// <summary><see cref="FusedStep"/>: the element-wise work fused into the GEMMs, 2·L + 2 launches a step.</summary>
    Fused,
    /// <summary><see cref="PerRestartStep"/>: one fused kernel trains every restart of a small network, many steps a
    /// launch, each restart in registers ("per-restart").</summary>
    PerRestart,
}

/// <summary>Makes the training step for a network, its data and options: the one place where a way of running a step
/// is chosen.</summary>
public static class TrainingSteps
{
    /// <summary>The step of <paramref name="kind"/> (the best that applies for <see cref="StepKind.Auto"/>) for every
    /// restart of <paramref name="network"/> on <paramref name="data"/>, with <paramref name="loss"/>,
    /// <paramref name="optimizer"/> (its state belongs to the caller and outlives the step) and batches of
    /// <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows).</summary>
    public static ITrainingStep Create(Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize,
        StepKind kind = StepKind.Auto)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(optimizer);
        var lossOnDevice = Loss.Create(network.Device, loss, network.Spec.Layers[^1].Activation);
        // A rule of the caller's own runs in the layered or fused step, which call it; never in the per-restart kernel.
        var chosen = PerRestartStep.RuleOf(optimizer) != null ? Choose(kind, network.Spec, network.Restarts, batchSize, KindOf(optimizer)).Kind
            : kind == StepKind.PerRestart ? throw new ArgumentException($"the per-restart step runs GpuNet's own update rules, not {optimizer.GetType().Name}")
            : kind == StepKind.Auto ? StepKind.Fused : kind;
        return chosen switch
        {
            StepKind.Layered => new LayeredStep(network, data, lossOnDevice, optimizer, batchSize),
            StepKind.Fused => new FusedStep(network, data, loss, optimizer, batchSize),
            StepKind.PerRestart => new PerRestartStep(network, data, lossOnDevice, optimizer, batchSize),
            var k => throw new ArgumentOutOfRangeException(nameof(kind), k, "unknown step kind"),
        };
    }

    /// <summary>The implementation <paramref name="requested"/> resolves to for <paramref name="restarts"/> networks of
    /// <paramref name="spec"/> at <paramref name="batchSize"/> rows a step, updated by <paramref name="optimizer"/> (its
    /// state decides what fits a fused kernel's registers), and why: <see cref="StepKind.Auto"/> picks the fastest that
    /// applies; a forced kind that cannot run this network is refused, naming the reason. Auto takes the per-restart
    /// step when the network fits it and there are at least <see cref="PerRestartFrom"/> restarts.</summary>
    /// <exception cref="ArgumentException">A forced kind does not apply.</exception>
    public static (StepKind Kind, string Reason) Choose(StepKind requested, NetworkSpec spec, int restarts, int batchSize,
        OptimizerKind optimizer = OptimizerKind.Adam)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (shape, fit) = RestartPass.Fit(spec.Layout, RuleOf(optimizer));
        return requested switch
        {
            StepKind.Layered or StepKind.Fused => (requested, "as asked"),
            StepKind.PerRestart when shape >= 0 => (StepKind.PerRestart, $"as asked; {fit}"),
            StepKind.PerRestart => throw new ArgumentException($"the per-restart step cannot run this network: {fit}"),
            StepKind.Auto when shape >= 0 && restarts >= PerRestartFrom => (StepKind.PerRestart,
                $"{restarts:N0} restarts of a network that fits {fit}: each restart trains in registers, many steps a launch"),
            StepKind.Auto => (StepKind.Fused, $"{FusedStep.LaunchesPerStep(spec.Layers.Count)} launches a step, the element-wise work inside the GEMMs; " +
                (shape >= 0 ? $"{restarts} restart{(restarts == 1 ? "" : "s")}, the per-restart step starts at {PerRestartFrom}"
                    : $"the per-restart step does not apply: {fit}")),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "unknown step kind"),
        };
    }

    /// <summary>Restarts from which <see cref="StepKind.Auto"/> takes the per-restart step for a network that fits it.</summary>
    public const int PerRestartFrom = 2;

    /// <summary>Device bytes a step of <paramref name="kind"/> (as <see cref="Choose"/> resolved it) allocates for
    /// <paramref name="restarts"/> networks of <paramref name="layout"/> at <paramref name="batchSize"/> rows over
    /// <paramref name="rows"/> data rows with <paramref name="targetSets"/> target sets (the optimizer's moments not
    /// included).</summary>
    public static long Bytes(StepKind kind, NetworkLayout layout, int restarts, int rows, int batchSize, int targetSets) => kind switch
    {
        StepKind.Fused => FusedStep.Bytes(layout, restarts, rows, batchSize),
        StepKind.PerRestart => PerRestartStep.Bytes(restarts, rows),
        _ => LayeredStep.Bytes(layout, restarts, rows, batchSize, targetSets),
    };

    private static RestartRule RuleOf(OptimizerKind kind) => kind switch
    {
        OptimizerKind.Sgd => RestartRule.Sgd,
        OptimizerKind.Momentum => RestartRule.Momentum,
        _ => RestartRule.Adam,
    };

    private static OptimizerKind KindOf(IOptimizer optimizer) => PerRestartStep.RuleOf(optimizer) switch
    {
        RestartRule.Sgd => OptimizerKind.Sgd,
        RestartRule.Momentum => OptimizerKind.Momentum,
        _ => OptimizerKind.Adam,
    };

    /// <summary>Lower-case name of a kind, as the command and --json write it ("per-restart" for
    /// <see cref="StepKind.PerRestart"/>).</summary>
    public static string Name(this StepKind kind) => kind == StepKind.PerRestart ? "per-restart" : kind.ToString().ToLowerInvariant();
}
