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
        var chosen = Choose(kind, network.Spec, network.Restarts, batchSize, placement?.Devices.Count ?? 1, placement?.ProcessCount ?? 1).Kind;
        if (chosen == StepKind.Spread || (chosen == StepKind.Replicated && placement?.Devices.Count > 1))
            ArgumentNullException.ThrowIfNull(optimizerOptions);
        placement ??= new Placement([network.Device]);
        return chosen switch
        {
            StepKind.Layered => new LayeredStep(network, data, Loss.Create(network.Device, loss, network.Spec.Layers[^1].Activation), optimizer, batchSize),
            StepKind.Fused => new FusedStep(network, data, loss, optimizer, batchSize),
            StepKind.Replicated => new ReplicatedStep(network, data, loss, optimizer, batchSize, placement, optimizerOptions ?? new OptimizerOptions()),
            StepKind.Spread => new SpreadStep(network, data, loss, batchSize, placement, optimizerOptions!),
            var k => throw new ArgumentOutOfRangeException(nameof(kind), k, "unknown step kind"),
        };
    }

    /// <summary>The implementation <paramref name="requested"/> resolves to for <paramref name="restarts"/> networks of
    /// <paramref name="spec"/> at <paramref name="batchSize"/> rows a step on <paramref name="devices"/> devices in each
    /// of <paramref name="processes"/> processes, and why: <see cref="StepKind.Auto"/> picks the fastest that applies; a
    /// forced kind that cannot run this network is refused, naming the reason. Auto's rule: one device and process,
    /// <see cref="StepKind.Fused"/>; several devices of one process, <see cref="StepKind.Spread"/> when there are at
    /// least as many restarts as devices (no all-reduce, and each restart computes exactly what it would on one device),
    /// else <see cref="StepKind.Replicated"/>; several processes, <see cref="StepKind.Replicated"/> (one model,
    /// data-parallel).</summary>
    /// <exception cref="ArgumentException">A forced kind does not apply, or a batch has fewer rows than the replicas.</exception>
    public static (StepKind Kind, string Reason) Choose(StepKind requested, NetworkSpec spec, int restarts, int batchSize,
        int devices = 1, int processes = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(devices, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(processes, 1);
        int replicas = devices * processes;
        string where = processes > 1 ? $"{processes} processes × {devices} device{(devices == 1 ? "" : "s")}" : $"{devices} devices";
        var (kind, reason) = requested switch
        {
            StepKind.Auto when replicas == 1 =>
                (StepKind.Fused, $"{FusedStep.LaunchesPerStep(spec.Layers.Count)} launches a step, the element-wise work inside the GEMMs"),
            StepKind.Auto when processes == 1 && restarts >= devices =>
                (StepKind.Spread, $"{restarts} restarts over {devices} devices, no all-reduce"),
            StepKind.Auto => (StepKind.Replicated, $"one replica on each of {where}, gradients all-reduced"),
            StepKind.Layered or StepKind.Fused when replicas > 1 =>
                throw new ArgumentException($"{requested.Name()} runs on one device; {where} take replicated or spread"),
            StepKind.Spread when processes > 1 => throw new ArgumentException("spread shares the restarts among the devices of one process; across processes the network is replicated"),
            StepKind.Spread when restarts < devices => throw new ArgumentException($"{restarts} restart{(restarts == 1 ? "" : "s")} cannot be spread over {devices} devices: each needs one at least"),
            StepKind.Layered or StepKind.Fused or StepKind.Replicated or StepKind.Spread => (requested, "as asked"),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "unknown step kind"),
        };
        if (kind == StepKind.Replicated && batchSize < replicas)
            throw new ArgumentException($"a batch of {batchSize} rows cannot be split over {replicas} replicas: each takes a slice of every batch; use batches of {replicas} rows or more");
        return (kind, reason);
    }

    /// <summary>Device bytes a step of <paramref name="kind"/> allocates for <paramref name="restarts"/> networks of
    /// <paramref name="layout"/> at <paramref name="batchSize"/> rows over <paramref name="rows"/> data rows with
    /// <paramref name="targetSets"/> target sets (the optimizer's moments not included).</summary>
    public static long Bytes(StepKind kind, NetworkLayout layout, int restarts, int rows, int batchSize, int targetSets) => kind switch
    {
        StepKind.Fused => FusedStep.Bytes(layout, restarts, rows, batchSize),
        _ => LayeredStep.Bytes(layout, restarts, rows, batchSize, targetSets),
    };

    /// <summary>Lower-case name of a kind, as the command and --json write it.</summary>
    public static string Name(this StepKind kind) => kind.ToString().ToLowerInvariant();
}
