using GpuNet.Model;
using GpuNet.Data;

namespace GpuNet.Training;

/// <summary>What one epoch did, per restart (index r). Losses are means over the rows; the training
/// loss is the mean of the per-step batch losses of the epoch (weights moving), as Keras reports it.</summary>
public sealed record EpochReport(
    int Epoch,
    int Epochs,
    float LearningRate,
    double[] TrainLoss,
    double[]? TrainAccuracy,
    double[]? ValidationLoss,
    double[]? ValidationAccuracy,
    TimeSpan Elapsed,
    double SamplesPerSecond)
{
    /// <summary>The restart with the lowest finite training loss (see <see cref="RestartRanking"/>).</summary>
    public int BestRestart => RestartRanking.Best(TrainLoss);

    /// <summary>Lowest finite training loss over the restarts (NaN when every restart diverged).</summary>
    public double BestTrainLoss => RestartRanking.BestLoss(TrainLoss);
}

/// <summary>Picking among restarts: the lowest finite loss wins; a NaN or infinite loss, a diverged restart,
/// never does. (LINQ's Min returns NaN as soon as one restart is NaN.)</summary>
public static class RestartRanking
{
    /// <summary>Index of the lowest finite loss; 0 when none is finite.</summary>
    public static int Best(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        int best = -1;
        for (int r = 0; r < losses.Count; r++)
            if (double.IsFinite(losses[r]) && (best < 0 || losses[r] < losses[best])) best = r;
        return Math.Max(best, 0);
    }

    /// <summary>The lowest finite loss; NaN when none is finite.</summary>
    public static double BestLoss(IReadOnlyList<double> losses)
    {
        int best = Best(losses);
        return best < losses.Count && double.IsFinite(losses[best]) ? losses[best] : double.NaN;
    }
}

/// <summary>What a progress tick is about.</summary>
public enum TickPhase
{
    /// <summary>Training steps inside an epoch.</summary>
    Training,
    /// <summary>The evaluation of every restart after the last epoch (on the training data, then the validation data).</summary>
    FinalEvaluation,
}

/// <summary>A progress tick: inside an epoch, the running means so far (best restart), the steps done and throughput;
/// in the final evaluation, the rows evaluated so far (<see cref="RunningLoss"/> is NaN there).</summary>
public sealed record TickReport(int Epoch, int Epochs, int RowsDone, int Rows, double RunningLoss, double? RunningAccuracy,
    double SamplesPerSecond)
{
    /// <summary>What the tick is about.</summary>
    public TickPhase Phase { get; init; }
    /// <summary>The data the final evaluation is on ("training data", "validation data"); null while training.</summary>
    public string? Data { get; init; }
    /// <summary>Steps of the epoch done (training ticks).</summary>
    public long StepsDone { get; init; }
    /// <summary>Steps in the epoch (training ticks).</summary>
    public long StepsInEpoch { get; init; }

    /// <summary>Time left for the rest of the epoch (or evaluation) at the current rate; null before the rate is known.</summary>
    public TimeSpan? Remaining => SamplesPerSecond > 0 && double.IsFinite(SamplesPerSecond)
        ? TimeSpan.FromSeconds((Rows - RowsDone) / SamplesPerSecond) : null;
}

/// <summary>The outcome of <see cref="Trainer.Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, IProgress{TickReport}?, TrainingState?, CancellationToken)"/>.</summary>
public sealed record TrainResult(
    IReadOnlyList<EpochReport> History,
    Evaluation FinalTrain,
    Evaluation? FinalValidation,
    int BestRestart,
    bool Cancelled,
    bool StoppedEarly,
    long Steps,
    TimeSpan Elapsed)
{
    /// <summary>Final training loss of each restart, evaluated on the whole training set after training (when cancelled:
    /// the running mean of the interrupted epoch, so that stopping is prompt).</summary>
    public double[] FinalTrainLoss => FinalTrain.Loss;
    /// <summary>Epochs completed.</summary>
    public int EpochsCompleted => History.Count;
}
