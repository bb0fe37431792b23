using ILGPU;

namespace GpuNet.Compute;

/// <summary>
/// An update rule over the flat parameters [R, P] of R networks: one launch a step, from the gradient buffer that
/// mirrors them. A missing edge is set to exactly 0 by every update. One implementation per rule.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Updates made so far (t: Adam's bias corrections depend on it).</summary>
    long Steps { get; }

    /// <summary>Enqueues one update with step size <paramref name="rate"/>.</summary>
    void Step(DeviceParameters parameters, ArrayView<float> gradients, float rate);

    /// <summary>The moments and step count, to be saved (a synchronising read).</summary>
    OptimizerState ReadState();

    /// <summary>Puts saved moments and the step count back.</summary>
    /// <exception cref="ArgumentException">The moments do not fit this optimizer's parameters.</exception>
    void RestoreState(OptimizerState state);
}

/// <summary>What an optimizer carries from step to step: its step count and moments (momentum's velocity, or Adam's m
/// and v), each [R, P], or null where it has none.</summary>
public sealed record OptimizerState(long Steps, float[]? First, float[]? Second);
