using GpuNet.Kernels;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>bce on logits: row loss (1/O) Σ_o [max(a, 0) − a·y + log(1 + e^(−|a|))], δ = (logistic(a) − y) / (B·O).</summary>
internal sealed class BinaryCrossEntropyLoss(Device device) : ILoss
{
    public LossFunction Function => LossFunction.BinaryCrossEntropy;
    public float AccuracyThreshold => 0f;
    public void Evaluate(in LossArgs args) => device.Losses.BinaryCrossEntropy(args);
}
