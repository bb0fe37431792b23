using GpuNet.Devices;
using GpuNet.Compute;
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
    /// <summary><see cref="ReplicatedStep"/>: every device (and process) a replica taking a slice of each batch, the
    /// gradients all-reduced.</summary>
    Replicated,
    /// <summary><see cref="SpreadStep"/>: the restarts spread over the devices of one process, no all-reduce.</summary>
    Spread,
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
    /// <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows). With <paramref name="placement"/> the step runs
    /// on its devices and processes (null: the network's device alone); the other devices update with rules made from
    /// <paramref name="optimizerOptions"/>, which must then be given.</summary>
    public static ITrainingStep Create(Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize,
        StepKind kind = StepKind.Auto, Placement? placement = null, OptimizerOptions? optimizerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(optimizer);
        // A rule of the caller's own runs in the layered or fused step, which call it; never in the per-restart kernel.
        bool ownRule = PerRestartStep.RuleOf(optimizer) == null;
        if (ownRule && kind == StepKind.PerRestart)
            throw new ArgumentException($"the per-restart step runs GpuNet's own update rules, not {optimizer.GetType().Name}");
        var chosen = Choose(kind, network.Spec, network.Restarts, batchSize, placement?.Devices.Count ?? 1, placement?.ProcessCount ?? 1,
            KindOf(optimizer)).Kind;
        if (ownRule && chosen == StepKind.PerRestart) chosen = StepKind.Fused;
        if (chosen == StepKind.Spread || (chosen == StepKind.Replicated && placement?.Devices.Count > 1))
            ArgumentNullException.ThrowIfNull(optimizerOptions);
        placement ??= new Placement([network.Device]);
        return chosen switch
        {
            StepKind.Layered or StepKind.Fused => OnDevice(chosen, network, data, loss, optimizer, batchSize),
            StepKind.PerRestart => new PerRestartStep(network, data, Loss.Create(network.Device, loss, network.Spec.Layers[^1].Activation), optimizer, batchSize),
            StepKind.Replicated => new ReplicatedStep(network, data, loss, optimizer, batchSize, placement, optimizerOptions ?? new OptimizerOptions(), EachDevice),
            StepKind.Spread => new SpreadStep(network, data, loss, batchSize, placement, optimizerOptions!, EachDevice),
            var k => throw new ArgumentOutOfRangeException(nameof(kind), k, "unknown step kind"),
        };
    }

    /// <summary>The one-device step that the replicated and spread steps run on each of their devices: the one a single
    /// device runs by default (<see cref="StepKind.Fused"/>), so that several devices compute what one would, each on its
    /// part.</summary>
    public static StepKind EachDevice => StepKind.Fused;

    /// <summary>A one-device step of <paramref name="kind"/> (<see cref="StepKind.Layered"/> or
    /// <see cref="StepKind.Fused"/>).</summary>
    internal static IDeviceStep OnDevice(StepKind kind, Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize) => kind switch
    {
        StepKind.Layered => new LayeredStep(network, data, Loss.Create(network.Device, loss, network.Spec.Layers[^1].Activation), optimizer, batchSize),
        StepKind.Fused => new FusedStep(network, data, loss, optimizer, batchSize),
        _ => throw new ArgumentException($"each device runs a one-device step (layered or fused), not {kind.Name()}", nameof(kind)),
    };

    /// <summary>The implementation <paramref name="requested"/> resolves to for <paramref name="restarts"/> networks of
    /// <paramref name="spec"/> at <paramref name="batchSize"/> rows a step on <paramref name="devices"/> devices in each
    /// of <paramref name="processes"/> processes, updated by <paramref name="optimizer"/> (its state decides what fits
    /// the per-restart kernel's registers), and why: <see cref="StepKind.Auto"/> picks the fastest that applies; a forced
    /// kind that cannot run this network is refused, naming the reason. Auto's rule: on one device and process,
    /// <see cref="StepKind.PerRestart"/> when the network fits it and there are at least <see cref="PerRestartFrom"/>
    /// restarts, else <see cref="StepKind.Fused"/>; several devices of one process, <see cref="StepKind.Spread"/> when
    /// there are at least as many restarts as devices (no all-reduce, and each restart computes exactly what it would
    /// on one device), else <see cref="StepKind.Replicated"/>; several processes, <see cref="StepKind.Replicated"/> (one
    /// model, data-parallel).</summary>
    /// <exception cref="ArgumentException">A forced kind does not apply, or a batch has fewer rows than the replicas.</exception>
    public static (StepKind Kind, string Reason) Choose(StepKind requested, NetworkSpec spec, int restarts, int batchSize,
        int devices = 1, int processes = 1, OptimizerKind optimizer = OptimizerKind.Adam)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(processes, 1);
        int replicas = devices * processes;
        if (replicas == 1) return OnOneDevice(requested, spec, restarts, optimizer);
        string where = processes > 1 ? $"{processes} processes × {devices} device{(devices == 1 ? "" : "s")}" : $"{devices} devices";
        var (kind, reason) = requested switch
        {
            StepKind.Auto when processes == 1 && restarts >= devices =>
                (StepKind.Spread, $"{restarts} restarts over {devices} devices, no all-reduce; each device runs the {EachDevice.Name()} step"),
            StepKind.Auto => (StepKind.Replicated, $"one replica on each of {where}, gradients all-reduced; each runs the {EachDevice.Name()} step on its slice"),
            StepKind.Layered or StepKind.Fused or StepKind.PerRestart =>
                throw new ArgumentException($"{requested.Name()} runs on one device; {where} take replicated or spread"),
            StepKind.Spread when processes > 1 => throw new ArgumentException("spread shares the restarts among the devices of one process; across processes the network is replicated"),
            StepKind.Spread when restarts < devices => throw new ArgumentException($"{restarts} restart{(restarts == 1 ? "" : "s")} cannot be spread over {devices} devices: each needs one at least"),
            StepKind.Replicated or StepKind.Spread => (requested, $"as asked; each device runs the {EachDevice.Name()} step"),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "unknown step kind"),
        };
        if (kind == StepKind.Replicated && batchSize < replicas)
            throw new ArgumentException($"a batch of {batchSize} rows cannot be split over {replicas} replicas: each takes a slice of every batch; use batches of {replicas} rows or more");
        return (kind, reason);
    }

    /// <summary><see cref="Choose"/> for one device and one process.</summary>
    private static (StepKind Kind, string Reason) OnOneDevice(StepKind requested, NetworkSpec spec, int restarts, OptimizerKind optimizer)
    {
        var (shape, fit) = RestartPass.Fit(spec.Layout, RuleOf(optimizer));
        return requested switch
        {
            StepKind.Layered or StepKind.Fused or StepKind.Replicated or StepKind.Spread => (requested, "as asked"),
            StepKind.PerRestart when shape >= 0 => (StepKind.PerRestart, $"as asked; {fit}"),
            StepKind.PerRestart => throw new ArgumentException($"the per-restart step cannot run this network: {fit}"),
            StepKind.Auto when shape >= 0 && restarts >= PerRestartFrom => (StepKind.PerRestart,
                $"{restarts:N0} restarts of a network that fits {fit}: each restart trains in registers, many steps a launch"),
            // One restart never takes the per-restart step, so the reason says nothing of it then.
            StepKind.Auto when restarts < PerRestartFrom =>
                (StepKind.Fused, $"{FusedStep.LaunchesPerStep(spec.Layers.Count)} launches a step, the element-wise work inside the GEMMs"),
            StepKind.Auto => (StepKind.Fused, $"{FusedStep.LaunchesPerStep(spec.Layers.Count)} launches a step, the element-wise work inside the GEMMs; " +
                $"the per-restart step does not apply: {fit}"),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "unknown step kind"),
        };
    }

    /// <summary>Restarts from which <see cref="StepKind.Auto"/> takes the per-restart step for a network that fits it.</summary>
    public const int PerRestartFrom = 2;

    /// <summary>Device bytes a step of <paramref name="kind"/> allocates on its first device (the one that holds the most)
    /// for <paramref name="restarts"/> networks of <paramref name="layout"/> at <paramref name="batchSize"/> rows over
    /// <paramref name="rows"/> data rows with <paramref name="targetSets"/> target sets, on <paramref name="devices"/>
    /// devices of each of <paramref name="processes"/> processes (the optimizer's moments not included): a replicated
    /// step's device runs <see cref="EachDevice"/> on slices of ⌈B / replicas⌉ rows; a spread step's first device runs it
    /// on its share of ⌈R / D⌉ restarts (whose own weights <see cref="SpreadShare"/> gives).</summary>
    public static long Bytes(StepKind kind, NetworkLayout layout, int restarts, int rows, int batchSize, int targetSets,
        int devices = 1, int processes = 1) => kind switch
    {
        StepKind.Fused => FusedStep.Bytes(layout, restarts, rows, batchSize),
        StepKind.PerRestart => PerRestartStep.Bytes(restarts, rows),
        StepKind.Replicated => Bytes(EachDevice, layout, restarts, rows, (batchSize + devices * processes - 1) / (devices * processes), targetSets),
        StepKind.Spread => Bytes(EachDevice, layout, SpreadShare(restarts, devices), rows, batchSize, targetSets),
        _ => LayeredStep.Bytes(layout, restarts, rows, batchSize, targetSets),
    };

    /// <summary>Restarts the first of <paramref name="devices"/> devices trains when <paramref name="restarts"/> are
    /// spread over them: ⌈R / D⌉.</summary>
    public static int SpreadShare(int restarts, int devices) => (restarts + devices - 1) / devices;

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
