using GpuNet.Kernels;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>cross-entropy on logits: row loss −log softmax(a)_label (log-sum-exp with the max subtracted),
/// δ = (softmax(a) − y) / B.</summary>
internal sealed class CrossEntropyLoss(Device device) : ILoss
{
    public LossFunction Function => LossFunction.CrossEntropy;
    public float AccuracyThreshold => 0f;
    public void Evaluate(in LossArgs args) => device.Losses.SoftmaxCrossEntropy(args);
}
