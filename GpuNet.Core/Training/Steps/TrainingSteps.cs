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
        return kind switch
        {
            StepKind.Auto or StepKind.Layered => new LayeredStep(network, data, lossOnDevice, optimizer, batchSize),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown step kind"),
        };
    }
}
