using GpuNet.Kernels;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>mae: row loss (1/O) Σ_o |z − y|, δ = (1/(B·O)) sign(z − y) σ'(z), through the last layer's function σ.</summary>
internal sealed class AbsoluteErrorLoss(Device device, Activation lastLayer) : ILoss
{
    public LossFunction Function => LossFunction.MeanAbsoluteError;
    public float AccuracyThreshold => 0.5f;
    public void Evaluate(in LossArgs args) => device.Losses.AbsoluteError(lastLayer, args);
}
