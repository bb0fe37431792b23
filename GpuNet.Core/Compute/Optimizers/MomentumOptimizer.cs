using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>SGD with momentum μ (PyTorch's, dampening 0): v ← μ v + (g + λ w); w ← w − η v, or with Nesterov
/// w ← w − η (g + λ w + μ v).</summary>
public sealed class MomentumOptimizer : IOptimizer, IFusedOptimizer
{
    private readonly Device device;
    private readonly float momentum, weightDecay;
    private readonly bool nesterov;
    private readonly Moments velocity;

    /// <summary>Allocates the zeroed velocity for <paramref name="length"/> parameters (R·P).</summary>
    public MomentumOptimizer(Device device, long length, float momentum, bool nesterov, float weightDecay)
    {
        this.device = device;
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        velocity = new Moments(device, length, 1);
    }

    /// <summary>Device bytes the velocity of <paramref name="length"/> parameters takes.</summary>
    public static long Bytes(long length) => Moments.Bytes(length, 1);

    /// <inheritdoc/>
    public long Steps => velocity.Steps;

    /// <inheritdoc/>
    public void Step(DeviceParameters parameters, ArrayView<float> gradients, float rate)
    {
        velocity.Steps++;
        device.Optimizers.Momentum(parameters.View, gradients, velocity[0], parameters.Mask, new OptimizerStep
        {
            LearningRate = rate, WeightDecay = weightDecay, Beta1 = momentum, Nesterov = nesterov ? 1 : 0,
            ParamsPerNet = parameters.Layout.ParameterCount, HasMask = parameters.HasMask ? 1 : 0,
        });
    }

    RestartRule IFusedOptimizer.Rule => RestartRule.Momentum;

    void IFusedOptimizer.Describe(ref RestartArgs args, ArrayView<float> unused)
    {
        (args.First, args.Second) = (velocity[0], unused);
        (args.Beta1, args.Nesterov, args.WeightDecay) = (momentum, nesterov ? 1 : 0, weightDecay);
    }

    void IFusedOptimizer.TakeSteps(Span<float> correction1, Span<float> correction2)
    {
        velocity.Steps += correction1.Length;
        correction1.Fill(1f);
        correction2.Fill(1f);
    }

    /// <inheritdoc/>
    public OptimizerState ReadState() => velocity.Read();

    /// <inheritdoc/>
    public void RestoreState(OptimizerState state) => velocity.Restore(state);

    /// <inheritdoc/>
    public void Dispose() => velocity.Dispose();
}
