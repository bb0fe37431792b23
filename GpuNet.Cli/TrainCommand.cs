using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.IO;
using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Cli;

internal sealed class TrainCommand
{
    public const string Help = """
        usage: gpunet train [options]

        data
          --data SPEC            digits (default) | fashion-mnist | mnist-idx:DIR | xor | parity:N | sine
                                 | csv:PATH[,label=COL][,header][,sep=SEP][,task=classify|regress][,test=PATH]
                                   [,drop-nonfinite]; SEP: comma (default), semicolon, tab, pipe
          --data-dir DIR         where datasets are looked for (then $GPUNET_DATA, then /usr/share/datasets)
          --standardize          scale features by the training set's mean and standard deviation (stored in the model)
          --validation F         hold out this fraction of the training rows for validation, in [0, 1) (default 0)
        network
          --hidden 256,128       hidden layer sizes (default 64; "none" for no hidden layer)
          --activation NAME      relu (default) | tanh | logistic | identity, for hidden layers
          --output NAME          auto (default) | identity | logistic | softmax
          --loss NAME            auto (default) | mse | mae | cross-entropy | bce
          --init FILE            start from a saved model (its architecture is used)
          --network NAME         a named network instead of --hidden/--activation/--output: running-example (the
                                 idea's 1-2-2-1, all logistic, the edge 3 → 7 missing; 1 input, 1 target)
          --drop-edges L:F-T,..  leave out the edge from neuron F of layer L-1 to neuron T of layer L (layers from 1,
                                 neurons from 0); a missing edge stays exactly 0
        training
          --optimizer NAME       adam (default) | sgd | momentum
          --lr X                 step size (default 0.001 for adam, 0.01 otherwise)
          --momentum X           momentum (default 0.9); --nesterov for Nesterov momentum
          --weight-decay X       L2 (sgd, momentum) or decoupled (adam) weight decay (default 0)
          --lr-schedule NAME     constant (default) | inverse | step | cosine
          --batch N              rows per step (default 32; 1 = per-example SGD)
          --epochs N             passes over the data (default 30)
          --seed N               seed of initial weights, shuffles and splits (default 0)
          --restarts R           train R networks from different initial weights side by side, keep the best (default 1)
          --global-minimum-below X  with restarts, count those whose final training loss is below X as having
                                 reached the global minimum (default 0.001)
          --early-stop N         stop after N epochs without validation improvement, keep the best epoch
          --no-shuffle           visit rows in file order
          --device SPEC          auto (default) | cpu | cuda | opencl | INDEX | INDEX,INDEX,… | all | cpu:N
                                 (several devices: one replica each, or the restarts shared among them; cpu:N opens
                                 N CPU accelerators; under mpirun each process takes the GPU of its local rank)
          --step NAME            how a training step runs: auto (default: the fastest that applies) | fused | layered
                                 | per-restart (one fused kernel, each restart of a small network in registers)
                                 | replicated | spread
          --checkpoint DIR       write checkpoints (weights, optimizer state, position, options) into DIR
          --checkpoint-every N   every N epochs (default 1 with --checkpoint)
          --resume DIR|FILE      continue the run whose checkpoints DIR holds (its newest), or that checkpoint FILE, with the
                                 options it was started with; options given again must match, except --device, --json
                                 and --epochs N (train on up to N epochs, also after the run finished)
        output
          --model FILE           where to write the model (default model.safetensors)
          --metrics FILE.csv     one row per epoch
          --plot FILE.png        loss and accuracy curves
          --json                 one JSON summary object on stdout (progress goes to stderr)

        """;

    private static readonly string[] Valued =
    [
        "data", "data-dir", "validation", "hidden", "activation", "output", "loss", "init", "optimizer", "lr", "momentum",
        "weight-decay", "lr-schedule", "batch", "epochs", "seed", "restarts", "early-stop", "device", "model", "metrics", "plot",
        "checkpoint", "checkpoint-every", "resume", "step", "network", "drop-edges", "global-minimum-below",
    ];
    private static readonly string[] Flags = ["standardize", "nesterov", "no-shuffle", "json"];

    private readonly Arguments a;
    private readonly TextWriter stdout, stderr;
    private readonly TrainingState? resume;
    private readonly string? resumedFrom;
    private readonly string? dataAsGiven; // a resumed run's --data as the user first typed it (its model records that)
    private readonly MpiJob? job; // under mpirun: this process's rank; rank 0 alone writes files
    private bool Root => job?.IsRoot ?? true;
    private int Processes => job?.World.Size ?? 1; // the job's processes: 1 outside mpirun
    private readonly string runId; // kept across resumes: a run prunes and resumes only its own checkpoints

    public TrainCommand(IEnumerable<string> args, TextWriter stdout, TextWriter stderr, MpiJob? job = null)
    {
        this.job = job;
        a = new Arguments("train", args, Valued, Flags);
        string? resumeFrom = a.String("resume");
        string? resumedRun = null;
        if (resumeFrom != null)
        {
            // The run's own options come from the checkpoint; those given again must agree with them (see ResumeArguments).
            var checkpoint = job?.Checkpoint ?? CheckpointFolder.Resolve(resumeFrom); // under mpirun, as rank 0 read it
            var original = checkpoint.Strings("cli_args")
                ?? throw new GpuNetException($"checkpoint '{checkpoint.Path}' was not written by gpunet train (no cli_args)");
            dataAsGiven = checkpoint.Metadata.GetValueOrDefault("data_as_given");
            var started = new Arguments("train", original, Valued, Flags);
            a = new Arguments("train", ResumeArguments.Merge(started, a, checkpoint.Path), Valued, Flags);
            resume = checkpoint.State;
            resumedFrom = checkpoint.Path;
            resumedRun = checkpoint.RunId;
        }
        runId = resumedRun ?? Checkpoint.NewRunId();
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /// <summary>The run's options, checked before any data is loaded.</summary>
    private sealed record Plan(DataSpec Data, string? DataDir, TrainOptions Options, int Restarts, int[] Hidden, Activation Activation,
        OutputFunction? Output, LossFunction? Loss, string? Init, string ModelPath, string? MetricsPath, string? PlotPath,
        string? CheckpointDir, int CheckpointEvery, string InterruptDir, Dictionary<string, string> CheckpointMeta, string ModelData,
        NetworkChoice Network);

    /// <summary>What the command line says of the network beyond its layers: a named network, the edges left out, the
    /// loss below which a restart counts as having reached the global minimum.</summary>
    private sealed record NetworkChoice(string? Name, IReadOnlyList<(int Layer, int From, int To)> MissingEdges, double GlobalMinimum);

    public int Run(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        bool json = a.Has("json");
        var log = json ? stderr : stdout;
        var plan = ReadOptions();
        string deviceSpec = OptionChecks.Devices(a);
        using var devices = job?.OpenDevices(deviceSpec) ?? Gpu.OpenSet(deviceSpec);
        var device = devices.Primary;
        int replicas = devices.Count * Processes;
        if (plan.Options.BatchSize < replicas)
            throw new UsageException($"--batch {plan.Options.BatchSize}: every one of the {replicas} replicas takes a slice of each batch; use --batch {replicas} or more");
        var loaded = plan.Data.Load(plan.DataDir);
        // Named by the file the rows came from, as it holds them (the trainer checks too, but on the rows of its
        // validation split); features to be standardised are left to the trainer, which checks them standardised.
        FloatRange.Require(loaded.Train, plan.Data.Path, features: !plan.Options.Standardize);
        if (loaded.Test != null) FloatRange.Require(loaded.Test, plan.Data.TestPath ?? plan.Data.Path, features: !plan.Options.Standardize);
        log.WriteLine($"data: {loaded.Description}");
        using var net = BuildNetwork(plan, devices, loaded.Train, log);
        var placement = devices.Count > 1 || job != null ? new Placement(devices, job?.World) : null;
        using var trainer = new Trainer(net, plan.Options with { Loss = net.Info!.Loss }, placement);
        job?.Ready(loaded.Train, devices); // every rank has read its data and built its network: compared with rank 0's
        // Under mpirun a rank's console is a terminal of mpirun's making, whatever mpirun's own output is: plain lines.
        var view = new ProgressView(log, interactive: job == null && !(json ? Console.IsErrorRedirected : Console.IsOutputRedirected));
        if (resumedFrom != null)
            log.WriteLine($"resuming from {resumedFrom}: {resume!.EpochsCompleted} epochs and {resume.RowsDone} rows of the next done");
        var result = Train(plan, net, trainer, loaded.Train, view, cancellationToken);
        if (result.Cancelled) return Interrupted(plan, trainer, log);
        if (!Root) return 0; // rank 0 writes the model, evaluates and prints

        // ---- the best network, its model file and the summary
        int best = result.BestRestart;
        net.Info = WithData(net.Info!, plan.ModelData);
        net.Save(plan.ModelPath);
        EvaluationReport? testReport;
        try { testReport = EvaluateTest(net, loaded.Test, view, cancellationToken); }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            log.WriteLine($"interrupted during the evaluation on the test data; the trained model was written to {Path.GetFullPath(plan.ModelPath)}");
            return CommandLine.Interrupted;
        }
        if (plan.MetricsPath != null) WriteMetrics(plan.MetricsPath, result, best);
        if (plan.PlotPath != null) Plot.Write(plan.PlotPath, result.History, best, net.Info.Loss.Name());
        // A resumed run's summary counts the whole run: the steps and training time before the resume too.
        var summary = new Summary(job == null ? devices.ToString() : $"{job.World.Size} processes, rank 0 on {device.Info}",
            (resume?.Elapsed ?? TimeSpan.Zero).TotalSeconds + clock.Elapsed.TotalSeconds,
            result.EpochsCompleted, (resume?.Steps ?? 0) + result.Steps,
            result.FinalTrain.Loss[best], result.FinalTrain.Accuracy?[best],
            result.FinalValidation?.Loss[best], result.FinalValidation?.Accuracy?[best],
            testReport?.Loss, testReport?.Accuracy, net.Restarts, best, result.FinalTrain.Loss,
            Path.GetFullPath(plan.ModelPath), result.StoppedEarly, trainer.StepName!, (long)plan.Options.ShuffleSeed,
            FullOrNull(plan.MetricsPath), FullOrNull(plan.PlotPath), resumedFrom, resume?.EpochsCompleted, result.Steps)
        {
            RestartOutcome = GpuNet.Training.RestartOutcome.Of(result.FinalTrain.Loss, plan.Network.GlobalMinimum),
        };
        if (json) stdout.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
        else PrintSummary(summary);
        return 0;
    }

    /// <summary>The best restart's loss and accuracy on the test data, with progress; null without test data.</summary>
    private static EvaluationReport? EvaluateTest(Network net, Dataset? test, ProgressView view, CancellationToken cancellationToken)
    {
        if (test == null) return null;
        using var best = net.ExtractRestart(net.BestRestart);
        using var predictor = new Predictor(best);
        var clock = Stopwatch.StartNew();
        var rows = new Rows(done => view.Report(new TickReport(0, 0, done, test.Count, double.NaN, null,
            done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)) { Phase = TickPhase.FinalEvaluation, Data = "test data" }));
        try { return predictor.Evaluate(test, progress: rows, cancellationToken: cancellationToken); }
        finally { view.Done(); }
    }

    private sealed class Rows(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    /// <summary>Every option, parsed and checked against the others and the file system, before any data is read.</summary>
    private Plan ReadOptions()
    {
        string dataSpec = a.String("data", "digits");
        DataSpec data;
        try { data = DataSpec.Parse(dataSpec); }
        catch (GpuNetException e) { throw new UsageException($"--data: {e.Message}"); }
        string? dataDir = a.String("data-dir");
        if (dataDir != null && !Directory.Exists(dataDir)) throw new UsageException($"--data-dir: folder '{dataDir}' does not exist");
        var options = ReadTrainOptions();
        int restarts = a.Int("restarts", 1, 1, 1_000_000);
        string? init = a.String("init");
        if (init != null)
        {
            if (restarts > 1) throw new UsageException("--init starts one network from saved weights; it cannot be combined with --restarts > 1");
            foreach (var o in new[] { "hidden", "activation", "output" })
                if (a.Has(o)) throw new UsageException($"--{o}: the network's layers, activations and output come from the --init file; leave out --{o}");
            OptionChecks.Readable("--init", init);
        }
        var choice = ReadNetworkChoice(init != null);
        bool named = choice.Name != null;
        var hidden = named ? [2, 2] : ParseHidden(a.String("hidden", "64"));
        Activation activation = named ? Activation.Logistic : ParseOr("activation", "relu", ActivationNames.Parse);
        string outputName = a.String("output", named ? "logistic" : "auto").ToLowerInvariant(), lossName = a.String("loss", "auto").ToLowerInvariant();
        // How they fit the data is checked once the data is read.
        OutputFunction? output = outputName == "auto" ? null : ParseStatic("output", outputName, OutputFunctions.Parse);
        LossFunction? loss = lossName == "auto" ? null : ParseStatic("loss", lossName, LossFunctions.Parse);
        var (modelPath, metricsPath, plotPath, checkpointDir, checkpointEvery) = ReadOutputs(data, init);
        // Ctrl-C writes a checkpoint even when none were asked for: beside the model.
        string interruptDir = checkpointDir ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!,
            Path.GetFileNameWithoutExtension(modelPath) + ".checkpoint");
        if (Root) RunFiles.CheckBeforeTraining(modelPath, metricsPath, plotPath, checkpointDir, interruptDir, runId, isNewRun: resume == null);
        // Checkpoints record absolute paths, so a resume from any folder finds the files; the model records the data
        // spec as typed, so the model file does not depend on the folder the command ran in.
        string modelData = dataAsGiven ?? dataSpec;
        var meta = new Dictionary<string, string>
        {
            ["cli_args"] = JsonSerializer.Serialize(RecordedArguments(Recorded(data, dataSpec), modelPath)), ["data_as_given"] = modelData,
        };
        return new Plan(data, dataDir, options, restarts, hidden, activation, output, loss, init,
            modelPath, metricsPath, plotPath, checkpointDir, checkpointEvery, interruptDir, meta, modelData, choice);
    }

    /// <summary>--network, --drop-edges and --global-minimum-below, checked against the options they exclude.</summary>
    private NetworkChoice ReadNetworkChoice(bool init)
    {
        string? name = a.String("network")?.Trim().ToLowerInvariant();
        if (name != null)
        {
            if (!NamedNetworks.Names.Contains(name))
                throw new UsageException($"--network: unknown '{a.String("network")}', use {string.Join(" or ", NamedNetworks.Names)}");
            foreach (var o in new[] { "hidden", "activation", "output", "init", "drop-edges" })
                if (a.Has(o)) throw new UsageException($"--network {name} sets the layers, functions and missing edges; leave out --{o}");
        }
        if (init && a.Has("drop-edges")) throw new UsageException("--drop-edges: the network and its missing edges come from the --init file; leave out --drop-edges");
        var edges = name == NamedNetworks.RunningExampleName ? NamedNetworks.RunningExampleMissingEdges : ParseEdges(a.String("drop-edges"));
        double threshold = a.Double("global-minimum-below", RestartOutcome.DefaultThreshold, 0, double.PositiveInfinity, minExclusive: true);
        return new NetworkChoice(name, edges, threshold);
    }

    private static IReadOnlyList<(int Layer, int From, int To)> ParseEdges(string? spec)
    {
        if (spec == null) return [];
        var edges = new List<(int, int, int)>();
        foreach (var part in spec.Split(','))
        {
            var m = System.Text.RegularExpressions.Regex.Match(part.Trim(), @"^(\d+):(\d+)-(\d+)$");
            if (!m.Success || !int.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out int l)
                || !int.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out int f) || !int.TryParse(m.Groups[3].Value, CultureInfo.InvariantCulture, out int t))
                throw new UsageException($"--drop-edges: '{part.Trim()}' is not LAYER:FROM-TO (e.g. 2:0-1, the edge from neuron 0 of layer 1 to neuron 1 of layer 2)");
            edges.Add((l, f, t));
        }
        return edges;
    }

    /// <summary>The training options from the command line (the library's defaults where an option is not given).</summary>
    private TrainOptions ReadTrainOptions()
    {
        var defaults = new TrainOptions();
        var optimizerKind = a.String("optimizer", defaults.Optimizer.Kind.ToString()).ToLowerInvariant() switch
        {
            "adam" => OptimizerKind.Adam,
            "sgd" => OptimizerKind.Sgd,
            "momentum" => OptimizerKind.Momentum,
            var o => throw new UsageException($"--optimizer: unknown '{o}', use sgd, momentum or adam"),
        };
        var optimizer = defaults.Optimizer with
        {
            Kind = optimizerKind,
            Momentum = a.Float("momentum", defaults.Optimizer.Momentum, 0, 1, maxExclusive: true),
            Nesterov = defaults.Optimizer.Nesterov || a.Has("nesterov"),
            WeightDecay = a.Float("weight-decay", defaults.Optimizer.WeightDecay, 0, double.PositiveInfinity),
        };
        float? lr = a.Has("lr") ? a.Float("lr", 0, 0, double.PositiveInfinity, minExclusive: true) : null;
        int epochs = a.Int("epochs", defaults.Epochs, 1);
        double validation = a.Double("validation", defaults.ValidationFraction, 0, 1, maxExclusive: true);
        int patience = a.Int("early-stop", defaults.EarlyStopPatience, 0);
        if (patience > 0 && validation == 0) throw new UsageException("--early-stop watches the validation loss: add --validation F (e.g. 0.1)");
        LearningRateSchedule schedule = a.String("lr-schedule") is not { } scheduleName ? defaults.Schedule : scheduleName.ToLowerInvariant() switch
        {
            "constant" => LearningRateSchedule.Constant,
            "inverse" => new InverseTimeRate(),
            "step" => new StepDecayRate(Math.Max(1, epochs / 3), 0.1),
            "cosine" => new CosineRate(),
            var s => throw new UsageException($"--lr-schedule: unknown '{s}', use constant, inverse, step or cosine"),
        };
        return defaults with
        {
            Epochs = epochs, BatchSize = a.Int("batch", defaults.BatchSize, 1), LearningRate = lr, Schedule = schedule,
            Optimizer = optimizer, Shuffle = defaults.Shuffle && !a.Has("no-shuffle"), ShuffleSeed = (ulong)a.Int("seed", (int)defaults.ShuffleSeed, 0),
            ValidationFraction = validation, Standardize = defaults.Standardize || a.Has("standardize"), EarlyStopPatience = patience,
            // Under mpirun a tick would be a collective read, and the ranks' consoles differ: progress once an epoch.
            TicksPerEpoch = job == null ? 20 : 0, Step = ParseStep(a.String("step", defaults.Step.Name())),
        };
    }

    /// <summary>The files the run writes, checked: writable, and none overwriting an input or another output.</summary>
    private (string Model, string? Metrics, string? Plot, string? CheckpointDir, int CheckpointEvery) ReadOutputs(DataSpec data, string? init)
    {
        // Under mpirun only rank 0 writes, so only its folders need to be there.
        string modelPath = a.String("model", "model.safetensors");
        if (Root) OptionChecks.Writable("--model", modelPath);
        string? metricsPath = a.String("metrics");
        if (metricsPath != null && Root) OptionChecks.Writable("--metrics", metricsPath);
        string? plotPath = a.String("plot");
        if (plotPath != null && Root) OptionChecks.Writable("--plot", plotPath);
        string? checkpointDir = a.String("checkpoint");
        if (checkpointDir != null) OptionChecks.WritableFolder("--checkpoint", checkpointDir);
        if (a.Has("checkpoint-every") && checkpointDir == null) throw new UsageException("--checkpoint-every needs --checkpoint DIR");
        int checkpointEvery = checkpointDir == null ? 0 : a.Int("checkpoint-every", 1, 1);
        // Writing the model over its --init file continues that model: the one overlap allowed.
        OptionChecks.Distinct(("--model", modelPath, true), ("--metrics", metricsPath, true), ("--plot", plotPath, true),
            ("--checkpoint", checkpointDir, true), ("--data csv", data.Kind == DataSpecKind.Csv ? data.Path : null, false),
            ("--data test=", data.TestPath, false), ("--init", init != null && OptionChecks.Same(init, modelPath) ? null : init, false));
        if (plotPath != null) Plot.CheckPath("--plot", plotPath);
        return (modelPath, metricsPath, plotPath, checkpointDir, checkpointEvery);
    }

    /// <summary>The network: the --init model's, or a dense one for the data whose last layer, output and loss Core's
    /// output policy chooses; the memory plan is checked before its weights are made. Its info says what it will be
    /// trained for (the trainer fills in the rest).</summary>
    private Network BuildNetwork(Plan plan, DeviceSet devices, Dataset train, TextWriter log)
    {
        var device = devices.Primary;
        ModelInfo? initInfo = null;
        NetworkSpec? initSpec = null;
        float[]? initParams = null;
        if (plan.Init != null) (initSpec, initParams, initInfo) = ModelFile.Read(plan.Init);
        var task = train.Task;
        LossFunction loss;
        NetworkSpec spec;
        try
        {
            if (initSpec != null) (loss, spec) = (plan.Loss ?? initInfo!.Loss, initSpec);
            else
            {
                var (_, resolved, last) = OutputPolicy.Resolve(task, train.TargetCount, plan.Output, plan.Loss);
                (loss, spec) = (resolved, Dense([train.FeatureCount, .. plan.Hidden, train.TargetCount], plan.Activation, last));
            }
        }
        catch (OutputChoiceException e) { throw new UsageException($"--{e.Option}: {e.Message}"); }
        spec = WithNetworkChoice(spec, plan.Network, train);
        if (spec.InputSize != train.FeatureCount)
            throw new DataFormatException($"the network takes {Count(spec.InputSize, "input")} but the data has {Count(train.FeatureCount, "feature")} per row");
        if (spec.OutputSize != train.TargetCount)
            throw new DataFormatException($"the network gives {Count(spec.OutputSize, "output")} but the data has {Count(train.TargetCount, "target")} per row ({(task == TaskKind.Classification ? "classes" : "values")})");
        log.WriteLine(job != null ? $"devices: {job.World.Size} processes, one device each; rank 0 on {device.Info}"
            : devices.Count > 1 ? $"devices: {devices}" : $"device: {device.Info}");
        log.WriteLine($"network: {spec}, {spec.TrainableParameterCount} parameters; output {OutputPolicy.OutputFor(loss).Name()}, loss {loss.Name()}" +
            (plan.Restarts > 1 ? $"; {plan.Restarts} restarts side by side" : "") + $"; seed {plan.Options.ShuffleSeed}");
        try
        {
            var (kind, why) = TrainingSteps.Choose(plan.Options.Step, spec, plan.Restarts, plan.Options.BatchFor(train.Count),
                devices.Count, Processes, plan.Options.Optimizer.Kind);
            log.WriteLine($"step: {kind.Name()} ({why})");
        }
        catch (ArgumentException e) { throw new UsageException($"--step {plan.Options.Step.Name()}: {e.Message}"); }
        resume?.CheckFits(spec, plan.Restarts, plan.Options, plan.Init != null ? $"model '{plan.Init}'"
            : $"the options and the data (--data {plan.Data}: {Count(train.FeatureCount, "feature")}, {train.TargetCount} {(task == TaskKind.Classification ? "classes" : "targets")})");
        MemoryPlan.For(spec, plan.Restarts, plan.Options, train.Count, devices: devices.Count, processes: Processes)
            .Check(device, spec, plan.Restarts); // before the weights are made
        var net = new Network(device, spec, plan.Restarts, plan.Options.ShuffleSeed)
        {
            Info = (initInfo ?? new ModelInfo { Task = task }) with { Loss = loss, Output = OutputPolicy.OutputFor(loss) },
        };
        if (initParams != null) net.SetParameters(initParams);
        return net;
    }

    /// <summary>Trains, writing checkpoints as asked; a divergence writes the last good weights and is reported with
    /// their file.</summary>
    private TrainResult Train(Plan plan, Network net, Trainer trainer, Dataset train, ProgressView view, CancellationToken cancellationToken)
    {
        // A resumed run without --checkpoint checkpoints its last epoch into the folder of its interruption, so that
        // `--resume DIR --epochs N` later continues from the end, not from the interruption already resumed.
        string? folder = plan.CheckpointDir ?? (resume != null ? plan.InterruptDir : null);
        int every = plan.CheckpointEvery == 0 ? int.MaxValue : plan.CheckpointEvery;
        IProgress<EpochReport> perEpoch = folder == null ? view : new EpochHook(view, r =>
        {
            if (r.Epoch % every != 0 && r.Epoch != r.Epochs) return;
            var state = trainer.CaptureState(); // on every rank (it may read the job's sums); written once, by rank 0
            if (Root) Checkpoint.Save(folder, runId, state, plan.CheckpointMeta);
        });
        try
        {
            return trainer.Fit(train, null, perEpoch, view, resume, cancellationToken);
        }
        catch (GpuNetException e) when (resume != null && e.Settings.Contains(TrainingState.DataSetting))
        {
            // The checkpoint's position or task does not fit the data: say which data it was compared with.
            throw new GpuNetException($"{e.Message} (the data now: --data {plan.Data}, {Count(train.Count, "row")} before any validation split)", e);
        }
        catch (TrainingDivergedException e)
        {
            view.Done();
            // The network holds its last good weights and knows the restart that was best then.
            string saved = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(plan.ModelPath))!,
                Path.GetFileNameWithoutExtension(plan.ModelPath) + $".last-good-epoch{e.GoodEpochs}.safetensors");
            if (!net.GetParameters(e.BestRestart).All(float.IsFinite))
                throw new GpuNetException($"{e.MessageNaming("--lr")} No restart held finite weights then, so none was written.", e);
            net.Info = WithData(net.Info!, plan.ModelData);
            if (Root) net.Save(saved);
            throw new GpuNetException($"{e.MessageNaming("--lr")} Last good weights written to {saved}.", e);
        }
        finally
        {
            view.Done();
        }
    }

    /// <summary>Ctrl-C: a checkpoint of where the run stands, and how to resume it.</summary>
    private int Interrupted(Plan plan, Trainer trainer, TextWriter log)
    {
        var state = trainer.CaptureState(); // on every rank; written once, by rank 0
        if (!Root) return CommandLine.Interrupted;
        string saved = Checkpoint.Save(plan.InterruptDir, runId, state, plan.CheckpointMeta);
        log.WriteLine($"interrupted after {state.EpochsCompleted} epochs and {state.RowsDone} rows of the next; checkpoint written to {saved}");
        // Under mpirun the resume is a job of as many processes, launched the same way.
        string launcher = job != null ? $"mpirun -np {job.World.Size} " : "";
        log.WriteLine($"resume with: {launcher}gpunet train --resume {CheckpointFolder.ResumeTarget(plan.InterruptDir, runId, saved)}");
        return CommandLine.Interrupted;
    }

    /// <summary>The model's info with the data spec as the command was first given it, first among its training facts.</summary>
    private static ModelInfo WithData(ModelInfo info, string data) =>
        info with { Training = new[] { KeyValuePair.Create("data", data) }.Concat(info.Training.Where(kv => kv.Key != "data")).ToDictionary() };

    /// <summary>Passes epoch reports on, then runs a hook (checkpoints) between epochs.</summary>
    private sealed class EpochHook(IProgress<EpochReport> inner, Action<EpochReport> after) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            inner.Report(value);
            after(value);
        }
    }

    /// <summary>JSON output: snake_case names; a NaN or infinite number (a diverged restart's loss) is written as null,
    /// since JSON has no such numbers.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true, Converters = { new FiniteOrNull() },
    };

    private sealed class FiniteOrNull : System.Text.Json.Serialization.JsonConverter<double>
    {
        public override bool HandleNull => false;
        public override double Read(ref Utf8JsonReader reader, Type type, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();
        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    internal sealed record Summary(string Device, double Seconds, int Epochs, long Steps, double TrainLoss, double? TrainAccuracy,
        double? ValidationLoss, double? ValidationAccuracy, double? TestLoss, double? TestAccuracy, int Restarts, int BestRestart,
        double[] RestartTrainLosses, string Model, bool StoppedEarly, string Step, long Seed, string? Metrics = null, string? Plot = null,
        string? ResumedFrom = null, int? ResumedAfterEpochs = null, long SessionSteps = 0)
    {
        /// <summary>How many restarts reached the global minimum and how the final training losses spread.</summary>
        public RestartOutcome? RestartOutcome { get; init; }
    }

    private static string? FullOrNull(string? path) => path == null ? null : Path.GetFullPath(path);

    private void PrintSummary(Summary s)
    {
        stdout.WriteLine($"trained {Count(s.Epochs, "epoch")} ({Count(s.Steps, "step")}) in {s.Seconds:F1} s on {s.Device}" +
            (s.StoppedEarly ? " (stopped early)" : "") +
            (s.ResumedAfterEpochs is { } done ? $"; resumed after {Count(done, "epoch")}, {Count(s.SessionSteps, "step")} this time" : ""));
        if (s.Restarts > 1)
        {
            // NaN sorts first in .NET: summarise the finite losses and count the diverged restarts apart.
            var finite = s.RestartTrainLosses.Where(double.IsFinite).Order().ToArray();
            int diverged = s.Restarts - finite.Length;
            string spread = finite.Length == 0 ? "none finite"
                : $"min {finite[0]:G4}, median {finite[finite.Length / 2]:G4}, max {finite[^1]:G4}";
            stdout.WriteLine($"restarts: best {s.BestRestart} of {s.Restarts}; final train losses {spread}" +
                (diverged > 0 ? $"; {diverged} diverged (NaN or infinite)" : ""));
            if (s.RestartOutcome is { } o) PrintOutcome(o);
        }
        stdout.WriteLine($"train      loss {s.TrainLoss:F4}{Acc(s.TrainAccuracy)}");
        if (s.ValidationLoss != null) stdout.WriteLine($"validation loss {s.ValidationLoss:F4}{Acc(s.ValidationAccuracy)}");
        if (s.TestLoss != null) stdout.WriteLine($"test       loss {s.TestLoss:F4}{Acc(s.TestAccuracy)}");
        stdout.WriteLine($"model written to {s.Model}");
        if (s.Metrics != null) stdout.WriteLine($"metrics written to {s.Metrics}");
        if (s.Plot != null) stdout.WriteLine($"plot written to {s.Plot}");
    }

    /// <summary>The idea's question: how many restarts reached the global minimum, and how the others spread.</summary>
    private void PrintOutcome(RestartOutcome o)
    {
        stdout.WriteLine($"global minimum: {o.Reached:N0} of {o.Restarts:N0} restarts ({o.Fraction * 100:G3} %) ended with a training loss below {o.Threshold:G4}");
        if (o.Restarts == o.Diverged) return;
        static string Power(double v) => v >= 0.1 ? Invariant(v) : $"1e{Math.Round(Math.Log10(v)).ToString(CultureInfo.InvariantCulture)}";
        var bins = o.Decades.Where(d => d.Restarts > 0).Select(d =>
            (double.IsPositiveInfinity(d.To) ? $"≥ {Power(d.From)}" : d.From == 0 ? $"< {Power(d.To)}" : $"{Power(d.From)}–{Power(d.To)}") + $": {d.Restarts:N0}");
        stdout.WriteLine($"final train losses: 10 % ≤ {o.P10:G3}, 25 % ≤ {o.P25:G3}, 50 % ≤ {o.Median:G3}, 75 % ≤ {o.P75:G3}, 90 % ≤ {o.P90:G3}; " +
            $"by decade {string.Join(", ", bins)}");
    }

    private static string Acc(double? a) => a == null ? "" : $"  accuracy {a.Value * 100:F2} %";

    private static StepKind ParseStep(string name) =>
        Enum.GetValues<StepKind>().FirstOrDefault(k => k.Name() == name.Trim().ToLowerInvariant(), (StepKind)(-1)) is var k && Enum.IsDefined(k) ? k
            : throw new UsageException($"--step: unknown '{name}', use {string.Join(", ", Enum.GetValues<StepKind>().Select(v => v.Name()))}");

    private static int[] ParseHidden(string s)
    {
        if (s.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        if (s.Trim().Length == 0) throw new UsageException("--hidden: empty; give layer sizes (e.g. --hidden 256,128) or none for no hidden layer");
        var sizes = s.Split(',').Select(p =>
            int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
                : throw new UsageException($"--hidden: '{p.Trim()}' is not a positive layer size (use e.g. --hidden 256,128)")).ToArray();
        // The weights between hidden layers alone may pass the limit; the layers next to the data are checked in Dense.
        long between = 0;
        for (int i = 1; i < sizes.Length; i++)
        {
            between += (long)sizes[i - 1] * sizes[i] + sizes[i];
            if (between > int.MaxValue)
                throw new UsageException($"--hidden {s}: the hidden layers alone have more than {int.MaxValue} parameters, " +
                    "the most a network may have; use smaller layers");
        }
        return sizes;
    }

    /// <summary>The named network's widths checked against the data, and the missing edges left out.</summary>
    private static NetworkSpec WithNetworkChoice(NetworkSpec spec, NetworkChoice choice, Dataset train)
    {
        if (choice.Name != null && (train.FeatureCount != 1 || train.TargetCount != 1))
            throw new DataFormatException($"--network {choice.Name} takes 1 input and gives 1 output, but the data has {Count(train.FeatureCount, "feature")} " +
                $"and {Count(train.TargetCount, "target")} per row");
        if (choice.MissingEdges.Count == 0) return spec;
        try { return spec.WithoutEdges(choice.MissingEdges); }
        catch (ArgumentException e) { throw new UsageException($"--drop-edges: {e.Message}"); }
    }

    private NetworkSpec Dense(int[] sizes, Activation hidden, Activation last)
    {
        try { return NetworkSpec.Dense(sizes, hidden, last); }
        catch (ArgumentException e) { throw new UsageException($"--hidden {a.String("hidden", "64")}: {e.Message}; use smaller layers"); }
    }

    private static string Count(long n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    /// <summary>The --data spec with its file paths absolute (kept as given where the full path holds a comma, which a
    /// spec cannot).</summary>
    internal static string Recorded(DataSpec data, string spec)
    {
        if (data.Path == null) return spec;
        static string Full(string p) => Path.GetFullPath(p) is var f && !f.Contains(',') ? f : p;
        return (data with { Path = Full(data.Path), TestPath = data.TestPath == null ? null : Full(data.TestPath) }).ToString();
    }

    /// <summary>The options as checkpoints record them, with absolute paths (the model's too when it was left to the
    /// default), so that a resume from any folder reads and writes the files this run does.</summary>
    private string[] RecordedArguments(string recordedData, string modelPath)
    {
        (string Name, string? Value) Absolute((string Name, string? Value) o) => o.Name switch
        {
            "data" => (o.Name, recordedData),
            "model" or "metrics" or "plot" or "checkpoint" or "init" or "data-dir" => (o.Name, Path.GetFullPath(o.Value!)),
            _ => o,
        };
        var options = a.Options.Where(o => o.Name != "resume").Select(Absolute);
        if (!a.Has("model")) options = options.Append(("model", Path.GetFullPath(modelPath)));
        return Arguments.Format(options);
    }

    private T ParseOr<T>(string option, string fallback, Func<string, T> parse) => ParseStatic(option, a.String(option, fallback), parse);

    private static T ParseStatic<T>(string option, string value, Func<string, T> parse)
    {
        try { return parse(value); }
        catch (ArgumentException e) { throw new UsageException($"--{option}: {e.Message}"); }
    }

    private static void WriteMetrics(string path, TrainResult result, int best)
    {
        var rows = result.History.Select(r => (IReadOnlyList<string>)new[]
        {
            Invariant(r.Epoch), Invariant(r.LearningRate), Invariant(r.TrainLoss[best]), Opt(r.TrainAccuracy?[best]),
            Opt(r.ValidationLoss?[best]), Opt(r.ValidationAccuracy?[best]), Invariant(Math.Round(r.Elapsed.TotalSeconds, 3)),
            Invariant(Math.Round(r.SamplesPerSecond, 1)),
        });
        Csv.Write(path, ["epoch", "step_size", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "seconds", "samples_per_s"], rows);
    }

    private static string Opt(double? v) => v == null ? "" : Invariant(v.Value);
    internal static string Invariant(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);
}
