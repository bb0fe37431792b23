namespace GpuNet.Devices;

/// <summary>Which loss kernel computes a <see cref="LossFunction"/>.</summary>
internal static class LossKernels
{
    internal static LossKernel Kernel(this LossFunction l) => l switch
    {
        LossFunction.MeanSquaredError => LossKernel.SquaredError,
        LossFunction.MeanAbsoluteError => LossKernel.AbsoluteError,
        LossFunction.CrossEntropy => LossKernel.SoftmaxCrossEntropy,
        LossFunction.BinaryCrossEntropy => LossKernel.BinaryCrossEntropy,
        _ => throw new ArgumentOutOfRangeException(nameof(l)),
    };

    /// <summary>Threshold that separates the two classes of a one-output network for accuracy:
    /// 0 for logits, 0.5 otherwise.</summary>
    internal static float Threshold(this LossFunction l) => l.TakesLogits() ? 0f : 0.5f;

}
