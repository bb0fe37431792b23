using System.Diagnostics;
using System.Globalization;
using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>
/// Trains every restart of a <see cref="Network"/> side by side with (mini-batch) stochastic gradient descent. The epoch
/// loop is here; each step is an <see cref="ITrainingStep"/> (chosen by <see cref="TrainingSteps"/>), which enqueues
/// its work with no host↔device copy, no synchronisation and no allocation. The loop calls small parts between steps
/// and epochs: the divergence guard, early stopping, the run's position for checkpoints, and the memory plan made
/// before anything is allocated. The host reads the loss sums once per epoch (or per progress tick).
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Network net;
    private IOptimizer? optimizer;
    private ITrainingStep? step;
    private DeviceDataset? stepData;
    private Evaluator? evaluator;
    private DivergenceGuard? guard;
    private bool disposed;

    // Where the run stands, kept in fields so CaptureState can record it between steps.
    private int epochsCompleted, rowsDone;
    private long runSteps;
    private EarlyStopping stopping = new(0);
    private List<EpochReport> history = [];
    private TimeSpan elapsedBefore; // a resumed run's training time before this session
    private Stopwatch runClock = new();

    /// <summary>A trainer for <paramref name="network"/> with <paramref name="options"/> (null: the defaults, which are
    /// <c>gpunet train</c>'s), checked here; with <paramref name="placement"/>, the steps run on its devices and
    /// processes (the first device must be the network's; <see cref="TrainingSteps.Choose"/>
    /// says how).</summary>
    public Trainer(Network network, TrainOptions? options = null, Placement? placement = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        options ??= new TrainOptions();
        options.Validate();
        options.Loss?.CheckCompatible(network.Spec);
        if (placement != null && placement.Devices[0] != network.Device)
            throw new ArgumentException($"the network lives on {network.Device.Info.Name}; the placement's first device must be that one");
        net = network;
        Options = options;
        this.placement = placement;
    }

    private readonly Placement? placement;

    /// <summary>The options in force.</summary>
    public TrainOptions Options { get; }

    /// <summary>Optimizer steps taken so far (over all calls to Fit).</summary>
    public long Steps { get; private set; }

    /// <summary>The way the last <c>Fit</c> ran its steps (<see cref="ITrainingStep.Name"/>), or null before any.</summary>
    public string? StepName => step?.Name;

    /// <summary>The loss trained and evaluated with on data of this kind: <see cref="TrainOptions.Loss"/>, or the one
    /// <see cref="OutputPolicy.DefaultLoss"/> picks for the network.</summary>
    public LossFunction LossFor(bool classification) => Options.Loss ?? OutputPolicy.DefaultLoss(net.Spec, classification);

    /// <summary>Prepares the data as the options say (feature scaling, a validation split), records in
    /// <see cref="Network.Info"/> what the network is trained for, uploads the data and trains; see
    /// <see cref="Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, IProgress{TickReport}?, TrainingState?, CancellationToken)"/>.</summary>
    public TrainResult Fit(Dataset train, Dataset? validation = null, IProgress<EpochReport>? progress = null,
        IProgress<TickReport>? ticks = null, TrainingState? resume = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(train);
        var scaler = Scaling(train);
        Dataset scaled = scaler?.Apply(train) ?? train;
        Dataset? val = validation == null ? null : scaler?.Apply(validation) ?? validation;
        if (val == null && Options.ValidationFraction > 0)
            (scaled, val) = Split.TrainValidation(scaled, Options.ValidationFraction, Options.ShuffleSeed);
        var loss = LossFor(train.Task == TaskKind.Classification);
        OutputPolicy.CheckTargets(loss, scaled, "the training data");
        if (val != null) OutputPolicy.CheckTargets(loss, val, "the validation data");
        net.Info = new ModelInfo
        {
            Output = OutputPolicy.OutputFor(loss), Loss = loss, Task = train.Task,
            ClassNames = train.Task == TaskKind.Classification ? train.ClassNames : null,
            FeatureMean = scaler?.Mean, FeatureScale = scaler?.Scale,
        };
        using var t = DeviceDataset.Upload(net.Device, scaled);
        using var v = val == null ? null : DeviceDataset.Upload(net.Device, val);
        return Fit(t, v, progress, ticks, resume, cancellationToken);
    }

    /// <summary>Trains for <see cref="TrainOptions.Epochs"/> epochs (or until cancelled, checked between steps), reporting
    /// each epoch to <paramref name="progress"/>; then evaluates every restart on the training data (and validation
    /// data) and picks the best restart: lowest validation loss when validation data is given, else lowest training
    /// loss. <see cref="Network.BestRestart"/> is set to it.</summary>
    /// <remarks>With <paramref name="resume"/> (from <see cref="CaptureState"/>), the run continues exactly where that
    /// state was taken — same weights, optimizer moments, step count, position in the epoch and partial epoch sums — so an
    /// interrupted and resumed run ends with the same network as one never interrupted.</remarks>
    /// <exception cref="TrainingDivergedException">Every restart diverged; the network holds the last good weights.</exception>
    public TrainResult Fit(DeviceDataset train, DeviceDataset? validation = null, IProgress<EpochReport>? progress = null,
        IProgress<TickReport>? ticks = null, TrainingState? resume = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(train);
        train.ThrowIfDisposed();
        validation?.ThrowIfDisposed();
        var stop = placement?.Agree(cancellationToken) ?? cancellationToken; // under MPI, every process stops after the same step
        return net.Device.Guard(() => FitCore(new Run(train, validation, progress, ticks, stop), resume));
    }

    /// <summary>What one call of Fit works with.</summary>
    private sealed record Run(DeviceDataset Train, DeviceDataset? Validation, IProgress<EpochReport>? Progress,
        IProgress<TickReport>? Ticks, CancellationToken Cancellation)
    {
        public long StepsPerEpoch { get; init; }
        public long TotalSteps { get; init; }
        public long TickEvery { get; init; }
        public LossFunction Loss { get; init; }
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
    }

    private TrainResult FitCore(Run run, TrainingState? resume)
    {
        run = Prepare(run);
        long firstStep = Steps;
        epochsCompleted = 0; rowsDone = 0; runSteps = 0;
        stopping = new EarlyStopping(Options.EarlyStopPatience);
        history = [];
        elapsedBefore = TimeSpan.Zero;
        runClock = run.Clock;
        if (resume != null) Restore(resume, run);
        bool cancelled = false, stoppedEarly = false;
        int firstEpoch = epochsCompleted + 1;
        var perm = new int[run.Train.Count];
        var rates = new float[step!.MaxStepsPerRun];
        for (int epoch = firstEpoch; epoch <= Options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            BeginEpoch(epoch, firstOfRun: epoch == firstEpoch, perm);
            long epochFirstStep = runSteps - (rowsDone + step.BatchSize - 1) / step.BatchSize;
            float rate = RunSteps(run, epoch, rates, epochClock, ref cancelled);
            if (cancelled) break;
            var report = EndEpoch(run, epoch, rowsDone, epochFirstStep, rate, epochClock);
            bool stop = run.Validation != null && Options.EarlyStopPatience > 0
                && stopping.Observe(epoch, report.ValidationLoss!, net.Parameters.ReadAll);
            run.Progress?.Report(report); // after the bookkeeping, so a checkpoint taken here is complete
            if (stop)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (!cancelled && stopping.ToRestore(history.Count, stoppedEarly) is { } best) net.Parameters.WriteAll(best);
        return Finish(run, cancelled, stoppedEarly, Steps - firstStep);
    }

    /// <summary>Checks the data, makes the memory plan and checks it, and builds (or reuses) the step, the evaluator and
    /// the divergence guard.</summary>
    private Run Prepare(Run run)
    {
        CheckData(run.Train, "training");
        if (run.Validation != null) CheckData(run.Validation, "validation");
        if (Options.EarlyStopPatience > 0 && run.Validation == null)
            throw new ArgumentException("early stopping watches the validation loss: give validation data (or a validation fraction)");
        var plan = MemoryPlan.For(net.Spec, net.Restarts, Options, run.Train.Count, run.Validation?.Count ?? 0, run.Train.TargetSets,
            placement?.Devices.Count ?? 1, placement?.ProcessCount ?? 1);
        foreach (var device in placement?.Devices ?? [net.Device]) plan.Check(device, net.Spec, net.Restarts);
        var loss = LossFor(run.Train.IsClassification);
        optimizer ??= Options.Optimizer.Create(net.Device, net.Parameters.Length);
        if (step == null || stepData != run.Train || step.BatchSize != plan.BatchSize)
        {
            step?.Dispose();
            step = null;
            step = TrainingSteps.Create(net, run.Train, loss, optimizer, plan.BatchSize, Options.Step, placement, Options.Optimizer);
            stepData = run.Train;
        }
        guard ??= new DivergenceGuard(net);
        long stepsPerEpoch = (run.Train.Count + plan.BatchSize - 1) / plan.BatchSize;
        return run with
        {
            Loss = loss,
            StepsPerEpoch = stepsPerEpoch,
            TotalSteps = stepsPerEpoch * Options.Epochs,
            TickEvery = Options.TicksPerEpoch > 0 && run.Ticks != null ? Math.Max(1, stepsPerEpoch / Options.TicksPerEpoch) : 0,
        };
    }

    /// <summary>The epoch's row order (seeded by the shuffle seed and the epoch), fresh sums unless the epoch is resumed
    /// part-way, and the divergence guard's snapshot.</summary>
    private void BeginEpoch(int epoch, bool firstOfRun, int[] perm)
    {
        if (Options.Shuffle)
        {
            for (int i = 0; i < perm.Length; i++) perm[i] = i;
            new Rng(Options.ShuffleSeed, (ulong)epoch).Shuffle(perm);
        }
        step!.BeginEpoch(Options.Shuffle ? perm : null);
        if (rowsDone == 0) step.Sums.Reset();
        guard!.TakeSnapshot(runSteps, epoch - 1, firstOfRun);
    }

    /// <summary>Runs the rest of the epoch's steps, as many a call as the step takes, checking for cancellation and
    /// reporting ticks between calls; returns the step size of the last step.</summary>
    private float RunSteps(Run run, int epoch, float[] rates, Stopwatch epochClock, ref bool cancelled)
    {
        int n = run.Train.Count, batch = step!.BatchSize;
        float rate = Options.StepSize;
        while (rowsDone < n)
        {
            if (run.Cancellation.IsCancellationRequested) { cancelled = true; break; }
            long left = (n - rowsDone + batch - 1) / batch;
            long toTick = run.TickEvery > 0 ? run.TickEvery - runSteps % run.TickEvery : long.MaxValue;
            int steps = (int)Math.Min(Math.Min(rates.Length, left), toTick);
            for (int s = 0; s < steps; s++)
                rates[s] = rate = Options.Schedule.Rate(Options.StepSize, runSteps + s, run.StepsPerEpoch, run.TotalSteps);
            step.Run(rowsDone, steps, rates.AsSpan(0, steps), runSteps);
            Steps += steps;
            runSteps += steps;
            rowsDone = (int)Math.Min(n, rowsDone + (long)steps * batch);
            if (run.TickEvery > 0 && runSteps % run.TickEvery == 0 && rowsDone < n) Tick(run, epoch, epochClock);
        }
        return rate;
    }

    private void Tick(Run run, int epoch, Stopwatch epochClock)
    {
        var (ls, hs) = step!.Sums.Read(); // a tick: one synchronisation, as asked for
        int best = RestartRanking.Best(ls);
        run.Ticks!.Report(new TickReport(epoch, Options.Epochs, rowsDone, run.Train.Count, ls[best] / rowsDone,
            run.Train.IsClassification ? hs[best] / rowsDone : null, rowsDone / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9))
        {
            StepsDone = (rowsDone + step.BatchSize - 1) / step.BatchSize, StepsInEpoch = run.StepsPerEpoch,
        });
    }

    /// <summary>The epoch's one synchronisation: its sums and whether the weights are finite; a divergence check; the
    /// validation pass; the report, added to the history.</summary>
    private EpochReport EndEpoch(Run run, int epoch, int seen, long epochFirstStep, float rate, Stopwatch epochClock)
    {
        var (lossSums, hitSums, weightsFinite) = step!.Sums.ReadEpoch(net.Parameters);
        if (Enumerable.Range(0, net.Restarts).All(r => !double.IsFinite(lossSums[r]) || !weightsFinite[r]))
        {
            // Every restart is broken. A step whose loss was not finite is the first bad one; if every loss was finite,
            // the epoch's last update broke the weights.
            long bad = step.Sums.ReadFirstBadSteps().Where(b => b >= 0).DefaultIfEmpty(runSteps - 1).Min();
            throw Diverged(run, epoch, bad - epochFirstStep + 1, bad, guard!.RollBack(bad));
        }
        epochsCompleted = epoch;
        rowsDone = 0;
        Evaluation? val = run.Validation == null ? null : Evaluate(run.Validation, run.Loss);
        epochClock.Stop();
        var report = new EpochReport(epoch, Options.Epochs, rate, Array.ConvertAll(lossSums, s => s / seen),
            run.Train.IsClassification ? Array.ConvertAll(hitSums, h => h / seen) : null, val?.Loss, val?.Accuracy,
            elapsedBefore + run.Clock.Elapsed, seen / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9));
        history.Add(report);
        return report;
    }

    /// <summary>The divergence error, with the network rolled back to the weights of <paramref name="goodEpochs"/>
    /// epochs and the restart that was best then recorded: the lowest finite training loss of that epoch among the
    /// restarts whose rolled-back weights are all finite (a restart's last update of an epoch can break its weights
    /// while its losses in the epoch stayed finite).</summary>
    private TrainingDivergedException Diverged(Run run, int epoch, long stepInEpoch, long badStep, int goodEpochs)
    {
        var losses = goodEpochs < 1 || goodEpochs > history.Count ? new double[net.Restarts] : history[goodEpochs - 1].TrainLoss;
        int best = BestWithFiniteWeights(losses, net.Parameters.ReadAll(), net.Spec.ParameterCount);
        net.BestRestart = best;
        RecordFacts(goodEpochs, best);
        return new TrainingDivergedException(epoch, stepInEpoch, badStep + 1,
            Options.Schedule.Rate(Options.StepSize, badStep, run.StepsPerEpoch, run.TotalSteps), goodEpochs, best);
    }

    /// <summary>The restart of lowest finite loss among those whose block of <paramref name="weights"/> [R, P] is all
    /// finite; 0 when there is none (see <see cref="RestartRanking.Best"/>).</summary>
    internal static int BestWithFiniteWeights(double[] losses, float[] weights, long parametersPerRestart)
    {
        var ranked = (double[])losses.Clone();
        for (int r = 0; r < ranked.Length; r++)
            foreach (float w in weights.AsSpan((int)(r * parametersPerRestart), (int)parametersPerRestart))
                if (!float.IsFinite(w)) { ranked[r] = double.NaN; break; }
        return RestartRanking.Best(ranked);
    }

    /// <summary>The final evaluation (or, when cancelled, the running means, so that stopping is prompt) and the result;
    /// the network's best restart and info are set.</summary>
    private TrainResult Finish(Run run, bool cancelled, bool stoppedEarly, long steps)
    {
        Evaluation? finalTrain = null, finalVal = null;
        if (!cancelled)
        {
            finalTrain = FinalEvaluation(run, run.Train, "training data");
            if (finalTrain != null && history.Count > 0 && !stoppedEarly && finalTrain.Loss.All(v => !double.IsFinite(v)))
            {
                // Finite weights whose loss overflows: the last epoch's last update broke every restart (its own loss
                // was taken before the update). Back to the last epoch's starting weights, whose losses were finite.
                throw Diverged(run, history.Count, run.StepsPerEpoch, runSteps - 1, guard!.RollBack(runSteps));
            }
            if (finalTrain != null && run.Validation != null)
            {
                finalVal = FinalEvaluation(run, run.Validation, "validation data");
                if (finalVal == null) finalTrain = null;
            }
            // Interrupted during the final evaluation: the run stops there, as it would between steps.
            cancelled = finalTrain == null;
        }
        finalTrain ??= RunningMeans(run);
        int best = RestartRanking.Best((finalVal ?? finalTrain).Loss);
        net.BestRestart = best;
        RecordFacts(history.Count, best);
        return new TrainResult(history.ToArray(), finalTrain, finalVal, best, cancelled, stoppedEarly, steps, run.Clock.Elapsed);
    }

    /// <summary>Every restart evaluated on <paramref name="data"/> after the last epoch, reporting progress as ticks;
    /// null when cancelled part-way.</summary>
    private Evaluation? FinalEvaluation(Run run, DeviceDataset data, string name)
    {
        var clock = Stopwatch.StartNew();
        var rows = run.Ticks == null ? null : new TickForwarder(done => run.Ticks.Report(
            new TickReport(history.Count, Options.Epochs, done, data.Count, double.NaN, null, done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9))
            {
                Phase = TickPhase.FinalEvaluation, Data = name,
            }));
        try
        {
            return Evaluate(data, run.Loss, rows, run.Cancellation);
        }
        catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Passes an evaluation's rows done on, synchronously (the evaluation waits for the report).</summary>
    private sealed class TickForwarder(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    /// <summary>The running means of the interrupted epoch, or the last epoch's, when the run was cancelled.</summary>
    private Evaluation RunningMeans(Run run)
    {
        int n = run.Train.Count;
        bool classification = run.Train.IsClassification;
        if (rowsDone > 0)
        {
            var (ls, hs) = step!.Sums.Read();
            return new Evaluation(Array.ConvertAll(ls, v => v / rowsDone), classification ? Array.ConvertAll(hs, v => v / rowsDone) : null, rowsDone);
        }
        if (history.Count > 0)
            return new Evaluation(history[^1].TrainLoss, classification ? history[^1].TrainAccuracy ?? new double[net.Restarts] : null, n);
        return new Evaluation(Enumerable.Repeat(double.NaN, net.Restarts).ToArray(), classification ? new double[net.Restarts] : null, n);
    }

    /// <summary>Adds what training used to <see cref="Network.Info"/> (seed, epochs, batch, optimizer, step size,
    /// restarts, best restart), so a saved model records it.</summary>
    private void RecordFacts(int epochs, int best)
    {
        var info = net.Info ?? new ModelInfo
        {
            Output = OutputPolicy.OutputFor(LossFor(stepData!.IsClassification)), Loss = LossFor(stepData.IsClassification),
            Task = stepData.IsClassification ? TaskKind.Classification : TaskKind.Regression,
        };
        var facts = new Dictionary<string, string>(info.Training.Where(kv => kv.Key is not ("seed" or "epochs" or "batch"
            or "optimizer" or "lr" or "restarts" or "best_restart")))
        {
            ["seed"] = Invariant(net.Seed), ["epochs"] = Invariant(epochs), ["batch"] = Invariant(step!.BatchSize),
            ["optimizer"] = Options.Optimizer.Kind.ToString().ToLowerInvariant(), ["lr"] = Invariant(Options.StepSize),
            ["restarts"] = Invariant(net.Restarts), ["best_restart"] = Invariant(best),
        };
        net.Info = info with { Training = facts };
    }

    private static string Invariant(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>The feature scaling training applies: the network's own (a loaded model's), or one fitted to the
    /// training rows when the options ask for it, or none.</summary>
    private Standardizer? Scaling(Dataset train)
    {
        if (net.Info is { FeatureMean: { } mean, FeatureScale: { } scale }) return new Standardizer(mean, scale);
        return Options.Standardize ? Standardizer.Fit(train) : null;
    }

    /// <summary>Loss (and accuracy) of every restart on a host dataset, with the loss training uses for it.</summary>
    public Evaluation Evaluate(Dataset data)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(data);
        var loss = LossFor(data.Task == TaskKind.Classification);
        OutputPolicy.CheckTargets(loss, data, "the evaluation data");
        var scaler = net.Info is { FeatureMean: { } mean, FeatureScale: { } scale } ? new Standardizer(mean, scale) : null;
        using var d = DeviceDataset.Upload(net.Device, scaler?.Apply(data) ?? data);
        return Evaluate(d);
    }

    /// <summary>Loss (and accuracy) of every restart on <paramref name="data"/>, in order, in chunks; no update.</summary>
    public Evaluation Evaluate(DeviceDataset data)
    {
        ThrowIfDisposed();
        CheckData(data, "evaluation");
        return Evaluate(data, LossFor(data.IsClassification));
    }

    private Evaluation Evaluate(DeviceDataset data, LossFunction loss, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        int rows = Evaluator.ChunkRows(data.Count, Options.BatchSize);
        if (evaluator == null || evaluator.MaxRows < rows)
        {
            evaluator?.Dispose();
            evaluator = null;
            evaluator = new Evaluator(net, rows);
        }
        return evaluator.Run(data, Loss.Create(net.Device, loss, net.Spec.Layers[^1].Activation), progress, cancellationToken);
    }

    /// <summary>Gradients of the batch loss with respect to every parameter of every restart, for the given rows (one
    /// forward and backward pass, no update). Returns [restart][P], as the device computed them: the entries of missing
    /// edges are set to 0 on the device (the backward pass alone would leave there the gradient the edge would have if it
    /// existed).</summary>
    public (double[] Loss, float[][] Gradients) Gradients(DeviceDataset data)
    {
        ThrowIfDisposed();
        CheckData(data, "gradient");
        return net.Device.Guard(() => GradientsCore(data));
    }

    private (double[] Loss, float[][] Gradients) GradientsCore(DeviceDataset data)
    {
        var layout = net.Spec.Layout;
        using var forward = new ForwardPass(net.Device, layout, net.Restarts, data.Count);
        using var backward = new BackwardPass(net.Device, layout, net.Restarts, data.Count);
        using var sums = new LossSums(net.Device, net.Restarts, data.Count);
        var loss = Loss.Create(net.Device, LossFor(data.IsClassification), layout.Activation(layout.Depth));
        backward.PoisonGradients();
        forward.Run(net.Parameters, data.Features, 0, data.Count);
        sums.Add(loss, forward.Output(data.Count), data.Targets, data.TargetStride, backward.OutputDelta, data.Count, layout.OutputSize, false);
        backward.Run(net.Parameters, forward, data.Features, 0, data.Count);
        backward.MaskGradients(net.Parameters);
        var grads = new float[net.Restarts][];
        for (int r = 0; r < net.Restarts; r++) grads[r] = backward.ReadGradients(r);
        var (lossSums, _) = sums.Read();
        return (Array.ConvertAll(lossSums, s => s / data.Count), grads);
    }

    /// <summary>Everything needed to continue the current (or last) run exactly: call it between steps, e.g. from the
    /// epoch progress callback or after <c>Fit</c> returned because it was cancelled.</summary>
    public TrainingState CaptureState()
    {
        ThrowIfDisposed();
        var s = step ?? throw new InvalidOperationException("nothing to capture: Fit has not run");
        double[] loss = new double[net.Restarts], hits = new double[net.Restarts];
        if (rowsDone > 0) (loss, hits) = s.Sums.Read();
        var moments = s.Optimizer.ReadState();
        return new TrainingState
        {
            EpochsCompleted = epochsCompleted, RowsDone = rowsDone, Steps = runSteps,
            Parameters = net.Parameters.ReadAll(), Moment1 = moments.First, Moment2 = moments.Second, LossSums = loss, HitSums = hits,
            BestValidation = stopping.BestLoss, BestEpoch = stopping.BestEpoch, BestParameters = stopping.BestParameters,
            History = history.ToArray(), Elapsed = elapsedBefore + runClock.Elapsed,
        };
    }

    private void Restore(TrainingState s, Run run)
    {
        s.CheckFits(net.Spec, net.Restarts, Options, "the network being trained");
        s.CheckPosition(run.Train.Count, step!.BatchSize, run.Train.IsClassification, run.Validation != null);
        net.Parameters.WriteAll(s.Parameters);
        step.Optimizer.RestoreState(new OptimizerState(s.Steps, s.Moment1, s.Moment2));
        step.Sums.Reset();
        if (s.RowsDone > 0) step.Sums.Set(s.LossSums, s.HitSums);
        epochsCompleted = s.EpochsCompleted;
        rowsDone = s.RowsDone;
        runSteps = s.Steps;
        stopping.Restore(s.BestValidation, s.BestEpoch, s.BestParameters);
        history = s.History.ToList();
        elapsedBefore = s.Elapsed;
    }

    private void CheckData(DeviceDataset d, string what)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.FeatureCount != net.Spec.InputSize)
            throw new DataFormatException($"the {what} data has {d.FeatureCount} features per row, but the network's input layer has {net.Spec.InputSize} neurons");
        if (d.TargetCount != net.Spec.OutputSize)
            throw new DataFormatException($"the {what} data has {d.TargetCount} targets per row, but the network's output layer has {net.Spec.OutputSize} neurons");
        if (d.TargetSets != 1 && d.TargetSets != net.Restarts)
            throw new DataFormatException($"the {what} data has {d.TargetSets} target sets for {net.Restarts} restarts");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        step?.Dispose();
        optimizer?.Dispose();
        evaluator?.Dispose();
        guard?.Dispose();
    }
}
