using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Compute;

/// <summary>Plain SGD with L2 weight decay λ: w ← w − η (g + λ w). It keeps no moments.</summary>
public sealed class SgdOptimizer(Device device, float weightDecay) : IOptimizer, IFusedOptimizer
{
    /// <inheritdoc/>
    public long Steps { get; private set; }

    /// <inheritdoc/>
    public void Step(DeviceParameters parameters, ArrayView<float> gradients, float rate)
    {
        Steps++;
        device.Optimizers.Sgd(parameters.View, gradients, parameters.Mask, new OptimizerStep
        {
            LearningRate = rate, WeightDecay = weightDecay,
            ParamsPerNet = parameters.Layout.ParameterCount, HasMask = parameters.HasMask ? 1 : 0,
        });
    }

    RestartRule IFusedOptimizer.Rule => RestartRule.Sgd;

    void IFusedOptimizer.Describe(ref RestartArgs args, ArrayView<float> unused)
    {
        (args.First, args.Second) = (unused, unused);
        args.WeightDecay = weightDecay;
    }

    void IFusedOptimizer.TakeSteps(Span<float> correction1, Span<float> correction2)
    {
        Steps += correction1.Length;
        correction1.Fill(1f);
        correction2.Fill(1f);
    }

    /// <inheritdoc/>
    public OptimizerState ReadState() => new(Steps, null, null);

    /// <inheritdoc/>
    public void RestoreState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.First != null || state.Second != null) throw new ArgumentException("the saved optimizer state has moments; SGD keeps none");
        if (state.Steps < 0) throw new ArgumentException($"the optimizer state has {state.Steps} steps");
        Steps = state.Steps;
    }

    /// <inheritdoc/>
    public void Dispose() { }
}
