using GpuNet.Kernels;
using ILGPU;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>Adam, with decoupled weight decay λ (AdamW): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// w ← w − ηλw − η (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε). The bias corrections are computed on the host, in float64.</summary>
public sealed class AdamOptimizer : IOptimizer
{
    private readonly Device device;
    private readonly float beta1, beta2, epsilon, weightDecay;
    private readonly Moments moments;

    /// <summary>Allocates the zeroed moments m and v for <paramref name="length"/> parameters (R·P).</summary>
    public AdamOptimizer(Device device, long length, float beta1, float beta2, float epsilon, float weightDecay)
    {
        this.device = device;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        moments = new Moments(device, length, 2);
    }

    /// <summary>Device bytes the moments of <paramref name="length"/> parameters take.</summary>
    public static long Bytes(long length) => Moments.Bytes(length, 2);

    /// <inheritdoc/>
    public long Steps => moments.Steps;

    /// <inheritdoc/>
    public void Step(DeviceParameters parameters, ArrayView<float> gradients, float rate)
    {
        long t = ++moments.Steps;
        device.Optimizers.Adam(parameters.View, gradients, moments[0], moments[1], parameters.Mask, new OptimizerStep
        {
            LearningRate = rate, WeightDecay = weightDecay, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon,
            Correction1 = (float)(1 - Math.Pow(beta1, t)), Correction2 = (float)(1 - Math.Pow(beta2, t)),
            ParamsPerNet = parameters.Layout.ParameterCount, HasMask = parameters.HasMask ? 1 : 0,
        });
    }

    /// <inheritdoc/>
    public OptimizerState ReadState() => moments.Read();

    /// <inheritdoc/>
    public void RestoreState(OptimizerState state) => moments.Restore(state);

    /// <inheritdoc/>
    public void Dispose() => moments.Dispose();
}
