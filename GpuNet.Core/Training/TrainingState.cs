using GpuNet.Data;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>
/// A training run's full state between two steps (<see cref="Trainer.CaptureState"/>): with it,
/// <see cref="Trainer.Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, IProgress{TickReport}?, TrainingState?, CancellationToken)"/>
/// continues exactly where the run was. The shuffle order needs no state: epoch e's order is drawn from (seed, e).
/// R is the number of restarts trained side by side, P the parameters of one network.
/// </summary>
public sealed class TrainingState
{
    /// <summary>Whole epochs done.</summary>
    public required int EpochsCompleted { get; init; }
    /// <summary>Rows of the next epoch already trained (0 at an epoch boundary).</summary>
    public required int RowsDone { get; init; }
    /// <summary>Optimizer steps taken in the run (the schedule's position and Adam's t).</summary>
    public required long Steps { get; init; }
    /// <summary>Parameters of every restart, [R, P].</summary>
    public required float[] Parameters { get; init; }
    /// <summary>Momentum buffer or Adam's first moment, [R, P], if the optimizer has one (none before the first step).</summary>
    public float[]? Moment1 { get; init; }
    /// <summary>Adam's second moment, [R, P].</summary>
    public float[]? Moment2 { get; init; }
    /// <summary>Per restart, the loss summed over the rows of the current epoch so far.</summary>
    public required double[] LossSums { get; init; }
    /// <summary>Per restart, the hits counted over the rows of the current epoch so far.</summary>
    public required double[] HitSums { get; init; }
    /// <summary>Early stopping: lowest validation loss seen.</summary>
    public double BestValidation { get; init; } = double.PositiveInfinity;
    /// <summary>Early stopping: the epoch it was seen in (0 = none).</summary>
    public int BestEpoch { get; init; }
    /// <summary>Early stopping: the parameters at that epoch, [R, P].</summary>
    public float[]? BestParameters { get; init; }
    /// <summary>The epochs reported so far.</summary>
    public IReadOnlyList<EpochReport> History { get; init; } = [];
    /// <summary>Training time of the run up to this state, over every session it ran in (a resumed run goes on from it).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>R: the restarts this state holds.</summary>
    public int Restarts => LossSums.Length;

    /// <summary>Names where this state was read from in errors, e.g. "checkpoint '/runs/a/checkpoint-….safetensors'";
    /// null for a state taken in memory.</summary>
    public string? Source { get; init; }

    private string Named => Source ?? "the saved state";

    /// <summary>
    /// Checks that this state can continue a run of <paramref name="restarts"/> networks of <paramref name="spec"/>
    /// trained with <paramref name="options"/>: the parameter and moment counts, the optimizer, the epochs asked for
    /// and early stopping. Call it before anything is allocated on the device; <see cref="CheckPosition"/> checks the
    /// rest once the training rows are known.
    /// </summary>
    /// <param name="spec">The network each restart is.</param>
    /// <param name="restarts">R of the run.</param>
    /// <param name="options">The run's options (epochs, optimizer, early stopping).</param>
    /// <param name="network">Names where the network comes from, e.g. "model 'm.safetensors'" or "the options and the data".</param>
    /// <exception cref="GpuNetException">The state does not fit; the message names <see cref="Source"/> and what
    /// differs, with both values.</exception>
    public void CheckFits(NetworkSpec spec, int restarts, TrainOptions options, string network)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        long p = spec.ParameterCount;
        if (Restarts != restarts || HitSums.Length != Restarts || Parameters.Length != restarts * p)
            throw Fail($"holds {Parameters.Length} parameters ({Count(Restarts, "restart")} of {Parameters.Length / Math.Max(1, Restarts)}); " +
                       $"the network built from {network} has {restarts * p} ({Count(restarts, "restart")} of {p}, {spec})");
        CheckOptimizer(options.Optimizer.Kind);
        if (EpochsCompleted > options.Epochs)
            throw Fail($"has completed {EpochsCompleted} epochs, more than the {options.Epochs} asked for; ask for {EpochsCompleted} epochs or more (Epochs) to continue it", "Epochs");
        if (BestParameters != null && options.EarlyStopPatience == 0)
            throw Fail("holds the state of early stopping, which this run does not do (EarlyStopPatience)", "EarlyStopPatience");
    }

    /// <summary>
    /// Checks the position against the data: the rows done must lie inside an epoch of <paramref name="trainRows"/> rows
    /// at a step boundary, and the steps taken must be those of <see cref="EpochsCompleted"/> epochs and
    /// <see cref="RowsDone"/> rows in batches of <paramref name="batchSize"/>; the task and the presence of validation
    /// data must be the run's.
    /// </summary>
    /// <param name="trainRows">Rows of the training data.</param>
    /// <param name="batchSize">Rows a step (already at most <paramref name="trainRows"/>).</param>
    /// <param name="classification">Whether the data is for classification (the history then holds accuracies).</param>
    /// <param name="validation">Whether the run has validation data.</param>
    /// <exception cref="GpuNetException">The state was taken on other data or batches; the message names
    /// <see cref="Source"/> and the numbers.</exception>
    public void CheckPosition(int trainRows, int batchSize, bool classification, bool validation)
    {
        int batch = Math.Max(1, batchSize);
        long stepsPerEpoch = (trainRows + (long)batch - 1) / batch;
        if (RowsDone < 0 || RowsDone >= trainRows || RowsDone % batch != 0 || Steps != EpochsCompleted * stepsPerEpoch + RowsDone / batch)
            throw Fail($"was taken after {Steps} steps, {EpochsCompleted} epochs and {RowsDone} rows; with {trainRows} training rows in batches of " +
                       $"{batch} ({stepsPerEpoch} steps an epoch) that is not a step of this run: the training data or the batch size differs from the run's", DataSetting);
        if (History.Count > 0 && (History[0].TrainAccuracy != null) != classification)
            throw Fail($"was written by a {(classification ? "regression" : "classification")} run; this data is for {(classification ? "classification" : "regression")}", DataSetting);
        if (History.Count > 0 && (History[0].ValidationLoss != null) != validation)
            throw Fail(validation ? "was written by a run without validation data; this one has some (validation)"
                                  : "was written by a run with validation data (validation); this one has none", "validation");
    }

    /// <summary>The <see cref="GpuNetException.Settings"/> entry of a failure of <see cref="CheckPosition"/> that the
    /// training data explains: a caller that knows where the data came from adds it to the message.</summary>
    public const string DataSetting = "data";

    private GpuNetException Fail(string what, params string[] settings) => new($"{Named} {what}") { Settings = settings };

    private static string Count(long n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    /// <summary>The moments must be those of <paramref name="kind"/> (none until the first step has been taken).</summary>
    private void CheckOptimizer(OptimizerKind kind)
    {
        string held = (Moment1, Moment2) switch
        {
            (null, null) => "no optimizer moments",
            (not null, null) => "one optimizer moment (momentum)",
            _ => "two optimizer moments (Adam)",
        };
        bool fits = kind switch
        {
            OptimizerKind.Sgd => Moment1 == null && Moment2 == null,
            OptimizerKind.Momentum => Moment2 == null && (Moment1 != null || Steps == 0),
            _ => (Moment1 != null && Moment2 != null) || (Moment1 == null && Moment2 == null && Steps == 0),
        };
        if (!fits) throw Fail($"holds {held}; this run trains with {kind.ToString().ToLowerInvariant()}");
    }
}
