using GpuNet.Data;

namespace GpuNet.Training;

/// <summary>
/// A training run's full state between two steps (<see cref="Trainer.CaptureState"/>): with it,
/// <see cref="Trainer.Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, IProgress{TickReport}?, TrainingState?, CancellationToken)"/>
/// continues exactly where the run was. The shuffle order needs no state: epoch e's order is drawn from (seed, e).
/// </summary>
public sealed class TrainingState
{
    /// <summary>Whole epochs done.</summary>
    public required int EpochsCompleted { get; init; }
    /// <summary>Rows of the next epoch already trained (0 at an epoch boundary).</summary>
    public required int RowsDone { get; init; }
    /// <summary>Optimizer steps taken in the run (the schedule's position and Adam's t).</summary>
    public required long Steps { get; init; }
    /// <summary>Parameters of every copy, [K, P].</summary>
    public required float[] Parameters { get; init; }
    /// <summary>Momentum buffer or Adam's first moment, [K, P], if the optimizer has one.</summary>
    public float[]? Moment1 { get; init; }
    /// <summary>Adam's second moment, [K, P].</summary>
    public float[]? Moment2 { get; init; }
    /// <summary>Per copy, the loss summed over the rows of the current epoch so far.</summary>
    public required double[] LossSums { get; init; }
    /// <summary>Per copy, the hits counted over the rows of the current epoch so far.</summary>
    public required double[] HitSums { get; init; }
    /// <summary>Early stopping: lowest validation loss seen.</summary>
    public double BestValidation { get; init; } = double.PositiveInfinity;
    /// <summary>Early stopping: the epoch it was seen in (0 = none).</summary>
    public int BestEpoch { get; init; }
    /// <summary>Early stopping: the parameters at that epoch.</summary>
    public float[]? BestParameters { get; init; }
    /// <summary>The epochs reported so far.</summary>
    public IReadOnlyList<EpochReport> History { get; init; } = [];
}
