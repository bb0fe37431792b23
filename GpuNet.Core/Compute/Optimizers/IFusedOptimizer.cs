using GpuNet.Devices;
using GpuNet.Kernels;

namespace GpuNet.Compute;

/// <summary>What a step that runs the update inside its own kernel (the fused restarts step) needs of an optimizer: the
/// rule, its hyper-parameters and moment buffers, and the step count advanced by the steps it takes. The moments stay
/// the optimizer's, so reading and restoring its state (checkpoints) works whichever step ran.</summary>
internal interface IFusedOptimizer
{
    /// <summary>The rule compiled into the kernel.</summary>
    RestartRule Rule { get; }

    /// <summary>Puts the hyper-parameters and the moment buffers ([R, P] each; <paramref name="unused"/> where the rule
    /// keeps none) into the kernel's arguments.</summary>
    void Describe(ref RestartArgs args, ILGPU.ArrayView<float> unused);

    /// <summary>Counts <paramref name="correction1"/>.Length steps as taken and writes each one's bias corrections
    /// (1 − β₁ᵗ, 1 − β₂ᵗ, computed in float64 as <see cref="IOptimizer.Step"/> does; 1 for rules without them).</summary>
    void TakeSteps(Span<float> correction1, Span<float> correction2);
}
