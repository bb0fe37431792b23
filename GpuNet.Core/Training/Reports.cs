using GpuNet.Data;

namespace GpuNet.Training;

/// <summary>What one epoch did, per network copy (index k). Losses are means over the rows; the training
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
    /// <summary>The copy with the lowest finite training loss (see <see cref="CopyRanking"/>).</summary>
    public int BestCopy => CopyRanking.Best(TrainLoss);

    /// <summary>Lowest finite training loss over the copies (NaN when every copy diverged).</summary>
    public double BestTrainLoss => CopyRanking.BestLoss(TrainLoss);
}

/// <summary>Picking among network copies (restarts): the lowest finite loss wins; a NaN or infinite loss, a diverged
/// copy, never does. (LINQ's Min returns NaN as soon as one copy is NaN.)</summary>
public static class CopyRanking
{
    /// <summary>Index of the lowest finite loss; 0 when none is finite.</summary>
    public static int Best(IReadOnlyList<double> losses)
    {
        ArgumentNullException.ThrowIfNull(losses);
        int best = -1;
        for (int k = 0; k < losses.Count; k++)
            if (double.IsFinite(losses[k]) && (best < 0 || losses[k] < losses[best])) best = k;
        return Math.Max(best, 0);
    }

    /// <summary>The lowest finite loss; NaN when none is finite.</summary>
    public static double BestLoss(IReadOnlyList<double> losses)
    {
        int best = Best(losses);
        return best < losses.Count && double.IsFinite(losses[best]) ? losses[best] : double.NaN;
    }
}

/// <summary>A progress tick inside an epoch: the running means so far (best copy) and throughput.</summary>
public sealed record TickReport(int Epoch, int Epochs, int RowsDone, int Rows, double RunningLoss, double? RunningAccuracy,
    double SamplesPerSecond);

/// <summary>Loss (and accuracy, for classification) of every network copy on a dataset.</summary>
public sealed record Evaluation(double[] Loss, double[]? Accuracy, int Rows);

/// <summary>The outcome of <see cref="Trainer.Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, CancellationToken, IProgress{TickReport}?, TrainingState?)"/>.</summary>
public sealed record TrainResult(
    IReadOnlyList<EpochReport> History,
    Evaluation FinalTrain,
    Evaluation? FinalValidation,
    int BestCopy,
    bool Cancelled,
    bool StoppedEarly,
    long Steps,
    TimeSpan Elapsed)
{
    /// <summary>Final training loss of each copy, evaluated on the whole training set after training (when cancelled:
    /// the running mean of the interrupted epoch, so that stopping is prompt).</summary>
    public double[] FinalTrainLoss => FinalTrain.Loss;
    /// <summary>Epochs completed.</summary>
    public int EpochsCompleted => History.Count;
}
