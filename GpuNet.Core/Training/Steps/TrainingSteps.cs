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
        return Choose(kind, network.Spec, network.Restarts, batchSize).Kind switch
        {
            StepKind.Layered => new LayeredStep(network, data, lossOnDevice, optimizer, batchSize),
            var k => throw new ArgumentOutOfRangeException(nameof(kind), k, "unknown step kind"),
        };
    }

    /// <summary>The implementation <paramref name="requested"/> resolves to for <paramref name="restarts"/> networks of
    /// <paramref name="spec"/> at <paramref name="batchSize"/> rows a step, and why: <see cref="StepKind.Auto"/> picks the
    /// fastest that applies; a forced kind that cannot run this network is refused, naming the reason.</summary>
    /// <exception cref="ArgumentException">A forced kind does not apply.</exception>
    public static (StepKind Kind, string Reason) Choose(StepKind requested, NetworkSpec spec, int restarts, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return requested switch
        {
            StepKind.Auto or StepKind.Layered => (StepKind.Layered, requested == StepKind.Auto ? "the only way that applies" : "as asked"),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "unknown step kind"),
        };
    }

    /// <summary>Lower-case name of a kind, as the command and --json write it.</summary>
    public static string Name(this StepKind kind) => kind.ToString().ToLowerInvariant();
}
