using GpuNet.Kernels;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>
/// A training loss on the device: from the last layer's outputs z_L and the targets, each row's loss and
/// δ_L = ∂ℓ/∂a_L, where ℓ is the batch loss (the mean of the row losses; see <see cref="LossFunction"/>). One
/// implementation per loss; <see cref="Loss.Create"/> picks it.
/// </summary>
public interface ILoss
{
    /// <summary>Which loss this is.</summary>
    LossFunction Function { get; }

    /// <summary>Output above which a one-output network predicts class 1 (0 for logits, 0.5 otherwise).</summary>
    float AccuracyThreshold { get; }

    /// <summary>Enqueues the loss kernel: writes <see cref="LossArgs.RowLoss"/> [R, B] and <see cref="LossArgs.Delta"/>
    /// [R, B, O] from <see cref="LossArgs.Output"/> and <see cref="LossArgs.Targets"/>.</summary>
    void Evaluate(in LossArgs args);
}

/// <summary>Makes the <see cref="ILoss"/> of a <see cref="LossFunction"/>.</summary>
public static class Loss
{
    /// <summary>The loss <paramref name="function"/> on <paramref name="device"/> for a network whose last layer applies
    /// <paramref name="lastLayer"/>.</summary>
    /// <exception cref="ArgumentException">A loss on logits with a last layer that is not identity.</exception>
    public static ILoss Create(Device device, LossFunction function, Activation lastLayer)
    {
        ArgumentNullException.ThrowIfNull(device);
        function.CheckLastLayer(lastLayer);
        return function switch
        {
            LossFunction.MeanSquaredError => new SquaredErrorLoss(device, lastLayer),
            LossFunction.MeanAbsoluteError => new AbsoluteErrorLoss(device, lastLayer),
            LossFunction.CrossEntropy => new CrossEntropyLoss(device),
            LossFunction.BinaryCrossEntropy => new BinaryCrossEntropyLoss(device),
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "unknown loss"),
        };
    }
}
