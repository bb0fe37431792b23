using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>Adam, with decoupled weight decay λ (AdamW): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// w ← w − ηλw − η (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε). The bias corrections are computed on the host, in float64.</summary>
public sealed class AdamOptimizer : IOptimizer, IFusedOptimizer
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
        var (c1, c2) = Corrections(++moments.Steps);
        device.Optimizers.Adam(parameters.View, gradients, moments[0], moments[1], parameters.Mask, new OptimizerStep
        {
            LearningRate = rate, WeightDecay = weightDecay, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon,
            Correction1 = c1, Correction2 = c2,
            ParamsPerNet = parameters.Layout.ParameterCount, HasMask = parameters.HasMask ? 1 : 0,
        });
    }

    /// <summary>The bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ of step t, in float64, rounded once.</summary>
    private (float, float) Corrections(long t) => ((float)(1 - Math.Pow(beta1, t)), (float)(1 - Math.Pow(beta2, t)));

    RestartRule IFusedOptimizer.Rule => RestartRule.Adam;

    void IFusedOptimizer.Describe(ref RestartArgs args, ArrayView<float> unused)
    {
        (args.First, args.Second) = (moments[0], moments[1]);
        (args.Beta1, args.Beta2, args.Epsilon, args.WeightDecay) = (beta1, beta2, epsilon, weightDecay);
    }

    void IFusedOptimizer.TakeSteps(Span<float> correction1, Span<float> correction2)
    {
        for (int i = 0; i < correction1.Length; i++) (correction1[i], correction2[i]) = Corrections(++moments.Steps);
    }

    /// <inheritdoc/>
    public OptimizerState ReadState() => moments.Read();

    /// <inheritdoc/>
    public void RestoreState(OptimizerState state) => moments.Restore(state);

    /// <inheritdoc/>
    public void Dispose() => moments.Dispose();
}
