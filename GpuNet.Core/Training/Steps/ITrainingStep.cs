using GpuNet.Compute;

namespace GpuNet.Training;

/// <summary>
/// One way of running training steps of a network on its training data: each step gathers a batch of rows by the
/// epoch's order, runs the forward pass, the loss (adding to <see cref="Sums"/>), the backward pass and one optimizer
/// update, all enqueued on the device with no host copy, no synchronisation and no allocation. The trainer owns the epoch
/// loop and calls <see cref="Run"/>; benchmarks and tests call the very same step. Implementations:
/// <see cref="LayeredStep"/> (the reference: one GEMM and one element-wise kernel per layer), <see cref="FusedStep"/>
/// (the element-wise work inside the GEMMs; one device's default), and over several devices or processes
/// <see cref="ReplicatedStep"/> (replicas, gradients all-reduced) and <see cref="SpreadStep"/> (restarts shared among
/// the devices), each device running a one-device step.
/// </summary>
public interface ITrainingStep : IDisposable
{
    /// <summary>Short name of the implementation, as printed and in --json ("layered", …).</summary>
    string Name { get; }

    /// <summary>Rows a step takes (the last step of an epoch takes what is left).</summary>
    int BatchSize { get; }

    /// <summary>The most steps one <see cref="Run"/> call takes (1 for an implementation that launches per step; more
    /// for one that runs many steps in a launch). Between calls the trainer checks for cancellation and reports progress.</summary>
    int MaxStepsPerRun { get; }

    /// <summary>Per restart, the loss and hit sums of the steps since the last reset, and the divergence flags.</summary>
    ILossSums Sums { get; }

    /// <summary>The update rule and its state (moments, step count).</summary>
    IOptimizer Optimizer { get; }

    /// <summary>Sets the order in which the coming epoch visits the data's rows (a permutation of 0..rows−1, one
    /// host→device copy), or null for the data's own order.</summary>
    void BeginEpoch(int[]? order);

    /// <summary>Enqueues <paramref name="steps"/> steps of the current epoch, the first on the rows from
    /// <paramref name="firstRow"/> of the epoch's order, each on the next <see cref="BatchSize"/> rows (fewer at the end).
    /// <paramref name="rates"/>[i] is step i's step size; <paramref name="firstStep"/> counts the run's steps before them,
    /// for the divergence flags.</summary>
    void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep);
}
