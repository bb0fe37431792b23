using GpuNet.Devices;
using System.Diagnostics;
using GpuNet.Data;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Training;

/// <summary>
/// Trains every copy of a <see cref="Network"/> side by side with (mini-batch) stochastic gradient
/// descent: per step, the batch's rows are gathered on the device, then forward pass, loss, backward
/// pass and optimizer update are launched — no host↔device copy, no synchronisation and no allocation
/// inside the step loop. The host reads the loss sums once per epoch.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Network net;
    private Engine? trainEngine, evalEngine;
    private MemoryBuffer1D<int, Stride1D.Dense>? order;
    private MemoryBuffer1D<float, Stride1D.Dense>? xBatch, yBatch;
    // Last good weights: device-side copies taken at the start of this epoch and of the one before, with the step that
    // followed each copy and the epochs completed then. The older copy is needed when the very first loss after the
    // newer one is bad: then the newer copy itself is bad, though finite (its loss overflowed).
    private Snapshot? snapshot, olderSnapshot;

    /// <summary>A device copy of the weights, the run step that followed it (−1: not usable) and the epochs completed then.</summary>
    private sealed class Snapshot(MemoryBuffer1D<float, Stride1D.Dense> weights) : IDisposable
    {
        public MemoryBuffer1D<float, Stride1D.Dense> Weights { get; } = weights;
        public long Step { get; set; } = -1;
        public int Epochs { get; set; }
        public void Dispose() => Weights.Dispose();
    }

    // Where the run stands, kept in fields so CaptureState can record it between steps.
    private int epochsCompleted, rowsDone;
    private long runSteps;
    private double bestValidation = double.PositiveInfinity;
    private int bestEpoch;
    private float[]? bestParameters;
    private List<EpochReport> history = [];

    /// <summary>A trainer for <paramref name="network"/> with validated <paramref name="options"/>.</summary>
    public Trainer(Network network, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options.Loss.CheckCompatible(network.Spec);
        net = network;
        Options = options;
    }

    /// <summary>The options in force.</summary>
    public TrainOptions Options { get; }

    /// <summary>Optimizer steps taken so far (over all calls to Fit).</summary>
    public long Steps { get; private set; }

    /// <summary>Uploads the data and trains; see <see cref="Fit(DeviceDataset, DeviceDataset?, IProgress{EpochReport}?, CancellationToken, IProgress{TickReport}?, TrainingState?)"/>.</summary>
    public TrainResult Fit(Dataset train, Dataset? validation = null, IProgress<EpochReport>? progress = null,
        CancellationToken cancellation = default, IProgress<TickReport>? ticks = null, TrainingState? resume = null)
    {
        CheckTargets(Options.Loss, train, "the training data");
        if (validation != null) CheckTargets(Options.Loss, validation, "the validation data");
        using var t = DeviceDataset.Upload(net.Device, train);
        using var v = validation == null ? null : DeviceDataset.Upload(net.Device, validation);
        return Fit(t, v, progress, cancellation, ticks, resume);
    }

    /// <summary>Trains for <see cref="TrainOptions.Epochs"/> epochs (or until cancelled, checked between steps),
    /// reporting each epoch to <paramref name="progress"/>; then evaluates every copy on the training data
    /// (and validation data) and picks the best copy: lowest validation loss when validation data is given,
    /// else lowest training loss.</summary>
    /// <remarks>With <paramref name="resume"/> (from <see cref="CaptureState"/>), the run continues exactly where that
    /// state was taken — same weights, optimizer moments, step count, position in the epoch and partial epoch sums —
    /// so an interrupted and resumed run ends with the same network as one never interrupted.</remarks>
    public TrainResult Fit(DeviceDataset train, DeviceDataset? validation = null, IProgress<EpochReport>? progress = null,
        CancellationToken cancellation = default, IProgress<TickReport>? ticks = null, TrainingState? resume = null) =>
        net.Device.Guard(() => FitCore(train, validation, progress, cancellation, ticks, resume));

    private TrainResult FitCore(DeviceDataset train, DeviceDataset? validation, IProgress<EpochReport>? progress,
        CancellationToken cancellation, IProgress<TickReport>? ticks, TrainingState? resume)
    {
        CheckData(train, "training");
        if (validation != null) CheckData(validation, "validation");
        var o = Options;
        if (o.EarlyStopPatience > 0 && validation == null)
            throw new ArgumentException("early stopping watches the validation loss: give validation data (e.g. --validation 0.1)");
        int batch = Math.Min(o.BatchSize, train.Count);
        CheckDeviceMemory(net.Device, net.Spec, net.Copies, o, train.Count, validation?.Count ?? 0, train.TargetCopies);
        if (trainEngine == null || trainEngine.MaxRows < batch)
        {
            trainEngine?.Dispose();
            trainEngine = new Engine(net, batch);
        }
        var engine = trainEngine;
        int n = train.Count, inW = net.Spec.InputSize, outW = net.Spec.OutputSize;
        long stepsPerEpoch = (n + batch - 1) / batch;
        long totalSteps = stepsPerEpoch * o.Epochs;
        var perm = new int[n];
        if (o.Shuffle)
        {
            order?.Dispose();
            order = net.Device.Allocate<int>(n);
            xBatch?.Dispose(); yBatch?.Dispose();
            xBatch = net.Device.Allocate((long)batch * inW);
            yBatch = net.Device.Allocate((long)batch * outW * train.TargetCopies);
        }

        var clock = Stopwatch.StartNew();
        long firstStep = Steps;
        bool cancelled = false, stoppedEarly = false;
        epochsCompleted = 0; rowsDone = 0; runSteps = 0;
        bestValidation = double.PositiveInfinity; bestEpoch = 0; bestParameters = null;
        history = [];
        if (resume != null) Restore(resume, engine, n);
        long tickEvery = o.TicksPerEpoch > 0 && ticks != null ? Math.Max(1, stepsPerEpoch / o.TicksPerEpoch) : 0;
        int firstEpoch = epochsCompleted + 1;
        for (int epoch = firstEpoch; epoch <= o.Epochs && !cancelled; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            if (o.Shuffle)
            {
                for (int i = 0; i < n; i++) perm[i] = i;
                new Rng(o.ShuffleSeed, (ulong)epoch).Shuffle(perm);
                order!.View.CopyFromCPU(perm); // one copy per epoch, before the step loop
            }
            if (rowsDone == 0) engine.ResetSums();
            TakeSnapshot(epoch - 1, firstOfRun: epoch == firstEpoch);
            long epochFirstStep = runSteps - (rowsDone + batch - 1) / batch;
            float rate = o.LearningRate;
            int seen = rowsDone;
            for (int start = rowsDone; start < n; start += batch)
            {
                if (cancellation.IsCancellationRequested) { cancelled = true; break; }
                int rows = Math.Min(batch, n - start);
                rate = o.Schedule.Rate(o.LearningRate, runSteps, stepsPerEpoch, totalSteps);
                ArrayView<float> x, y;
                long yStride;
                if (o.Shuffle)
                {
                    net.Device.Gather.Rows(train.Features, order!.View, xBatch!.View, start, rows, inW);
                    net.Device.Gather.Rows(train.Targets, order.View, yBatch!.View, start, rows, outW,
                        train.TargetCopies, train.TargetStride, (long)rows * outW);
                    x = xBatch.View;
                    y = yBatch.View;
                    yStride = train.TargetCopies > 1 ? (long)rows * outW : 0;
                }
                else
                {
                    x = train.Features.From((long)start * inW);
                    y = train.Targets.From((long)start * outW);
                    yStride = train.TargetStride;
                }
                engine.Forward(x, 0, rows);
                engine.Loss(o.Loss, y, yStride, rows, train.IsClassification);
                engine.WatchDivergence(runSteps);
                engine.Backward(x, 0, rows);
                engine.Update(o.Optimizer, rate);
                Steps++;
                runSteps++;
                seen += rows;
                rowsDone = seen;
                if (tickEvery > 0 && runSteps % tickEvery == 0 && start + rows < n)
                {
                    var (ls, hs) = engine.ReadSums(); // a tick: one synchronisation, as asked for
                    int bestK = CopyRanking.Best(ls);
                    ticks!.Report(new TickReport(epoch, o.Epochs, seen, n, ls[bestK] / seen,
                        train.IsClassification ? hs[bestK] / seen : null, seen / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9)));
                }
            }
            if (cancelled || seen == 0) break;
            var (lossSums, hitSums, weightsFinite) = engine.ReadEpochSums(); // the epoch's one synchronisation
            if (Enumerable.Range(0, net.Copies).All(k => !double.IsFinite(lossSums[k]) || !weightsFinite[k]))
            {
                // Every copy is broken. A step whose loss was not finite is the first bad one; if every loss was
                // finite, the epoch's last update broke the weights.
                long bad = engine.ReadFirstBadSteps().Where(b => b >= 0).DefaultIfEmpty(runSteps - 1).Min();
                int good = RollBack(bad);
                throw new TrainingDivergedException(epoch, bad - epochFirstStep + 1, bad + 1,
                    o.Schedule.Rate(o.LearningRate, bad, stepsPerEpoch, totalSteps), good, BestCopyAfter(good));
            }
            epochsCompleted = epoch;
            rowsDone = 0;
            var trainLoss = Array.ConvertAll(lossSums, s => s / seen);
            var trainAcc = train.IsClassification ? Array.ConvertAll(hitSums, h => h / seen) : null;
            Evaluation? val = validation == null ? null : Evaluate(validation);
            epochClock.Stop();
            var report = new EpochReport(epoch, o.Epochs, rate, trainLoss, trainAcc, val?.Loss, val?.Accuracy,
                clock.Elapsed, seen / Math.Max(epochClock.Elapsed.TotalSeconds, 1e-9));
            history.Add(report);
            bool stop = false;
            if (o.EarlyStopPatience > 0 && val != null)
            {
                double v = CopyRanking.BestLoss(val.Loss); // NaN (no copy finite) is never an improvement
                if (v < bestValidation)
                {
                    bestValidation = v;
                    bestEpoch = epoch;
                    bestParameters = ReadAllParameters();
                }
                else if (epoch - bestEpoch >= o.EarlyStopPatience)
                {
                    stop = true;
                }
            }
            progress?.Report(report); // after the bookkeeping, so a checkpoint taken here is complete
            if (stop)
            {
                stoppedEarly = true;
                break;
            }
        }
        if (!cancelled && bestParameters != null && (stoppedEarly || bestEpoch != history.Count))
            ((ArrayView<float>)net.ParameterView).CopyFromCPU(bestParameters);

        Evaluation finalTrain;
        Evaluation? finalVal = null;
        if (cancelled)
        {
            // Stop promptly: no pass over the data; the running means of the interrupted epoch (or the last epoch's).
            var (ls, hs) = rowsDone > 0 ? engine.ReadSums() : (history.Count > 0
                ? (history[^1].TrainLoss.Select(v => v * n).ToArray(), history[^1].TrainAccuracy?.Select(v => v * n).ToArray() ?? new double[net.Copies])
                : (Enumerable.Repeat(double.NaN, net.Copies).ToArray(), new double[net.Copies]));
            int rowsSeen = rowsDone > 0 ? rowsDone : n;
            finalTrain = new Evaluation(Array.ConvertAll(ls, v => v / rowsSeen),
                train.IsClassification ? Array.ConvertAll(hs, v => v / rowsSeen) : null, rowsSeen);
        }
        else
        {
            finalTrain = Evaluate(train);
            if (history.Count > 0 && !stoppedEarly && finalTrain.Loss.All(v => !double.IsFinite(v)))
            {
                // Finite weights whose loss overflows: the last epoch's last update broke every copy (its own loss was
                // taken before the update). Back to the last epoch's starting weights, whose losses were finite.
                int good = RollBack(runSteps);
                throw new TrainingDivergedException(history.Count, stepsPerEpoch, runSteps,
                    o.Schedule.Rate(o.LearningRate, runSteps - 1, stepsPerEpoch, totalSteps), good, BestCopyAfter(good));
            }
            finalVal = validation == null ? null : Evaluate(validation);
        }
        var basis = (finalVal ?? finalTrain).Loss;
        int best = CopyRanking.Best(basis);
        return new TrainResult(history.ToArray(), finalTrain, finalVal, best, cancelled, stoppedEarly, Steps - firstStep, clock.Elapsed);
    }

    /// <summary>Copies the weights aside at the start of an epoch (one device copy, no synchronisation); the copy before
    /// is kept as the older one, except at the first epoch of a run.</summary>
    private void TakeSnapshot(int epochsDone, bool firstOfRun)
    {
        (snapshot, olderSnapshot) = (olderSnapshot, snapshot);
        if (firstOfRun && olderSnapshot != null) olderSnapshot.Step = -1;
        snapshot ??= new Snapshot(net.Device.Allocate(net.ParameterView.Length));
        net.ParameterView.CopyTo((ArrayView<float>)snapshot.Weights.View);
        snapshot.Step = runSteps;
        snapshot.Epochs = epochsDone;
    }

    /// <summary>Puts back the last weights whose loss was seen finite, given the first step whose loss was not (or the
    /// step after the last, when the final pass overflowed); returns the epochs completed at those weights.</summary>
    private int RollBack(long firstBadStep)
    {
        // The loss of step s is taken with the weights before its update. If the first step after the newest copy was bad,
        // that copy gave the bad loss; the older copy's next loss was finite.
        var good = firstBadStep == snapshot!.Step && olderSnapshot is { Step: >= 0 } older ? older : snapshot;
        ((ArrayView<float>)good.Weights.View).CopyTo(net.ParameterView);
        net.Device.Synchronize();
        return good.Epochs;
    }

    /// <summary>The copy with the lowest finite training loss after <paramref name="epochs"/> epochs (0 if none).</summary>
    private int BestCopyAfter(int epochs)
    {
        return epochs < 1 || epochs > history.Count ? 0 : history[epochs - 1].BestCopy;
    }

    /// <summary>Device bytes a run of <paramref name="copies"/> copies of <paramref name="spec"/> needs in all: the
    /// weights, their epoch-start copy, the optimizer's moments, the training and evaluation engines and the shuffled
    /// batch (the datasets themselves not included).</summary>
    public static long DeviceBytesNeeded(NetworkSpec spec, int copies, TrainOptions options, int trainRows, int validationRows = 0,
        int targetCopies = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        int batch = Math.Max(1, Math.Min(options.BatchSize, trainRows));
        long weights = 4L * copies * spec.ParameterCount;
        int moments = options.Optimizer.Kind switch { OptimizerKind.Adam => 2, OptimizerKind.Momentum => 1, _ => 0 };
        int evalRows = Math.Max(1, Math.Min(Math.Max(trainRows, validationRows), Math.Max(options.BatchSize, 256)));
        return weights * (3 + moments) // the weights, two epoch-start copies, the optimizer's moments
            + Engine.DeviceBytes(spec, copies, batch) + Engine.DeviceBytes(spec, copies, evalRows)
            + (options.Shuffle ? 4L * (trainRows + (long)batch * (spec.InputSize + spec.OutputSize * targetCopies)) : 0);
    }

    /// <summary>Refuses, before anything is allocated, a run whose buffers together cannot fit in the device's memory.
    /// Each buffer alone may fit: with many restarts the sum is what runs out, and on the CPU accelerator that would
    /// end in the operating system killing the process without a word. Call it before building a large network.</summary>
    /// <exception cref="DeviceMemoryException">The run does not fit; the message gives the bytes and the way out.</exception>
    public static void CheckDeviceMemory(GpuNet.Devices.Device device, NetworkSpec spec, int copies, TrainOptions options, int trainRows,
        int validationRows = 0, int targetCopies = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        long bytes = DeviceBytesNeeded(spec, copies, options, trainRows, validationRows, targetCopies);
        if (bytes > device.Info.MemoryBytes)
            throw new DeviceMemoryException(bytes, device.Info, what:
                $"training {copies:N0} {(copies == 1 ? "network" : "restarts")} of {spec.ParameterCount:N0} parameters " +
                $"at batch {Math.Min(options.BatchSize, Math.Max(trainRows, 1)):N0}");
    }

    /// <summary>Loss (and accuracy) of every copy on a host dataset.</summary>
    public Evaluation Evaluate(Dataset data)
    {
        CheckTargets(Options.Loss, data, "the evaluation data");
        using var d = DeviceDataset.Upload(net.Device, data);
        return Evaluate(d);
    }

    /// <summary>Loss (and accuracy) of every copy on <paramref name="data"/>, in order, in batches; no update.</summary>
    public Evaluation Evaluate(DeviceDataset data) => net.Device.Guard(() => EvaluateCore(data));

    private Evaluation EvaluateCore(DeviceDataset data)
    {
        CheckData(data, "evaluation");
        int rowsMax = Math.Min(data.Count, Math.Max(Options.BatchSize, 256));
        if (evalEngine == null || evalEngine.MaxRows < rowsMax)
        {
            evalEngine?.Dispose();
            evalEngine = new Engine(net, rowsMax);
        }
        evalEngine.ResetSums();
        int inW = net.Spec.InputSize, outW = net.Spec.OutputSize;
        for (int start = 0; start < data.Count; start += rowsMax)
        {
            int rows = Math.Min(rowsMax, data.Count - start);
            var x = data.Features.From((long)start * inW);
            evalEngine.Forward(x, 0, rows);
            evalEngine.Loss(Options.Loss, data.Targets.From((long)start * outW), data.TargetStride, rows, data.IsClassification);
        }
        var (loss, hits) = evalEngine.ReadSums();
        return new Evaluation(Array.ConvertAll(loss, s => s / data.Count),
            data.IsClassification ? Array.ConvertAll(hits, h => h / data.Count) : null, data.Count);
    }

    /// <summary>Gradients of the batch loss with respect to every parameter of every copy, for the given rows
    /// (one forward and backward pass, no update). Returns [copy][P], as the device computed them: the entries of
    /// missing edges are set to 0 on the device (the backward pass alone would leave there the gradient the edge
    /// would have if it existed).</summary>
    public (double[] Loss, float[][] Gradients) Gradients(DeviceDataset data)
    {
        CheckData(data, "gradient");
        using var engine = new Engine(net, data.Count);
        engine.PoisonGradients();
        engine.Forward(data.Features, 0, data.Count);
        engine.Loss(Options.Loss, data.Targets, data.TargetStride, data.Count, false);
        engine.Backward(data.Features, 0, data.Count);
        engine.MaskGradients();
        var grads = new float[net.Copies][];
        for (int k = 0; k < net.Copies; k++) grads[k] = engine.Gradients(k);
        var (loss, _) = engine.ReadSums();
        return (Array.ConvertAll(loss, s => s / data.Count), grads);
    }

    /// <summary>Everything needed to continue the current (or last) run exactly: call it between steps, e.g. from the
    /// epoch progress callback or after <c>Fit</c> returned because it was cancelled.</summary>
    public TrainingState CaptureState()
    {
        var engine = trainEngine ?? throw new InvalidOperationException("nothing to capture: Fit has not run");
        double[] loss = new double[net.Copies], hits = new double[net.Copies];
        if (rowsDone > 0) (loss, hits) = engine.ReadSums();
        var (m1, m2) = engine.ReadMoments();
        return new TrainingState
        {
            EpochsCompleted = epochsCompleted, RowsDone = rowsDone, Steps = runSteps,
            Parameters = ReadAllParameters(), Moment1 = m1, Moment2 = m2, LossSums = loss, HitSums = hits,
            BestValidation = bestValidation, BestEpoch = bestEpoch, BestParameters = bestParameters, History = history.ToArray(),
        };
    }

    private void Restore(TrainingState s, Engine engine, int rows)
    {
        long p = net.ParameterView.Length;
        if (s.Parameters.Length != p)
            throw new ArgumentException($"the saved state holds {s.Parameters.Length} parameters; this network set has {p}");
        if (s.RowsDone < 0 || s.RowsDone >= rows || s.EpochsCompleted < 0 || s.LossSums.Length != net.Copies || s.HitSums.Length != net.Copies)
            throw new ArgumentException($"the saved state (epoch {s.EpochsCompleted}, row {s.RowsDone}) does not fit this data ({rows} rows) and network ({net.Copies} copies)");
        net.ParameterView.CopyFromCPU(s.Parameters);
        engine.RestoreMoments(s.Moment1, s.Moment2, s.Steps);
        engine.ResetSums();
        if (s.RowsDone > 0) engine.SetSums(s.LossSums, s.HitSums);
        epochsCompleted = s.EpochsCompleted;
        rowsDone = s.RowsDone;
        runSteps = s.Steps;
        bestValidation = s.BestValidation;
        bestEpoch = s.BestEpoch;
        bestParameters = s.BestParameters;
        history = s.History.ToList();
    }

    private float[] ReadAllParameters()
    {
        net.Device.Counters.Synced(); // a synchronising read (early stopping's best epoch, CaptureState)
        var p = new float[net.ParameterView.Length];
        net.ParameterView.CopyToCPU(p);
        return p;
    }

    /// <summary>Refuses targets <paramref name="loss"/> cannot take: bce reads each target as a probability, so one
    /// outside [0, 1] gives a meaningless (even negative) loss. <see cref="Fit(Dataset, Dataset?, IProgress{EpochReport}?, CancellationToken, IProgress{TickReport}?, TrainingState?)"/>
    /// checks its data; call this before uploading a <see cref="DeviceDataset"/> yourself.</summary>
    /// <param name="loss">The loss to train or evaluate with.</param>
    /// <param name="data">The examples.</param>
    /// <param name="what">Names the data in the error, e.g. "the training data".</param>
    /// <exception cref="DataFormatException">A target is outside [0, 1] for bce; the message names its row, target and value.</exception>
    public static void CheckTargets(LossFunction loss, Dataset data, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (loss != LossFunction.BinaryCrossEntropy) return;
        var y = data.Targets;
        for (long i = 0; i < y.Length; i++)
            if (y[i] < 0 || y[i] > 1) // NaN passes here: the finite check names it better
                throw new DataFormatException(
                    $"{what}: target {i % data.TargetCount + 1} of row {i / data.TargetCount + 1} is {y[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}, " +
                    "but bce needs targets in [0, 1] (probabilities or 0/1 labels); use mse or mae for other values (gpunet: --loss mse --output identity)");
    }

    private void CheckData(DeviceDataset d, string what)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.FeatureCount != net.Spec.InputSize)
            throw new DataFormatException($"the {what} data has {d.FeatureCount} features per row, but the network's input layer has {net.Spec.InputSize} neurons");
        if (d.TargetCount != net.Spec.OutputSize)
            throw new DataFormatException($"the {what} data has {d.TargetCount} targets per row, but the network's output layer has {net.Spec.OutputSize} neurons");
        if (d.TargetCopies != 1 && d.TargetCopies != net.Copies)
            throw new DataFormatException($"the {what} data has {d.TargetCopies} target sets for {net.Copies} network copies");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        trainEngine?.Dispose();
        evalEngine?.Dispose();
        order?.Dispose();
        xBatch?.Dispose();
        yBatch?.Dispose();
        snapshot?.Dispose();
        olderSnapshot?.Dispose();
    }
}
