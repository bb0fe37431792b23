using GpuNet.Kernels;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>mse: row loss (1/O) Σ_o (z − y)², δ = (2/(B·O)) (z − y) σ'(z), through the last layer's function σ.</summary>
internal sealed class SquaredErrorLoss(Device device, Activation lastLayer) : ILoss
{
    public LossFunction Function => LossFunction.MeanSquaredError;
    public float AccuracyThreshold => 0.5f;
    public void Evaluate(in LossArgs args) => device.Losses.SquaredError(lastLayer, args);
}
