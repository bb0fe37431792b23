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
                                 | csv:PATH[,label=COL][,header][,task=classify|regress][,test=PATH]
          --data-dir DIR         where datasets are looked for (then $GPUNET_DATA, then /usr/share/datasets)
          --standardize          scale features by the training set's mean and standard deviation (stored in the model)
          --validation F         hold out this fraction of the training rows for validation, in [0, 1) (default 0)
        network
          --hidden 256,128       hidden layer sizes (default 64; "none" for no hidden layer)
          --activation NAME      relu (default) | tanh | logistic | identity, for hidden layers
          --output NAME          auto (default) | identity | logistic | softmax
          --loss NAME            auto (default) | mse | mae | cross-entropy | bce
          --init FILE            start from a saved model (its architecture is used)
        training
          --optimizer NAME       adam (default) | sgd | momentum
          --lr X                 step size (default 0.001 for adam, 0.01 otherwise)
          --momentum X           momentum (default 0.9); --nesterov for Nesterov momentum
          --weight-decay X       L2 (sgd, momentum) or decoupled (adam) weight decay (default 0)
          --lr-schedule NAME     constant (default) | inverse | step | cosine
          --batch N              rows per step (default 32; 1 = per-example SGD)
          --epochs N             passes over the data (default 30)
          --seed N               seed of initial weights, shuffles and splits (default 0)
          --restarts K           train K networks from different initial weights side by side, keep the best (default 1)
          --early-stop N         stop after N epochs without validation improvement, keep the best epoch
          --no-shuffle           visit rows in file order
          --device SPEC          auto (default) | cpu | cuda | opencl | INDEX
          --checkpoint DIR       write checkpoints (weights, optimizer state, position, options) into DIR
          --checkpoint-every N   every N epochs (default 1 with --checkpoint)
          --resume DIR           continue the run from the newest checkpoint in DIR, with the options it was started with
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
        "checkpoint", "checkpoint-every", "resume",
    ];
    private static readonly string[] Flags = ["standardize", "nesterov", "no-shuffle", "json"];

    private readonly Arguments a;
    private readonly TextWriter stdout, stderr;
    private readonly TrainingState? resume;
    private readonly string? resumedFrom;
    private readonly string? dataAsGiven; // a resumed run's --data as the user first typed it (its model records that)

    public TrainCommand(IEnumerable<string> args, TextWriter stdout, TextWriter stderr)
    {
        a = new Arguments("train", args, Valued, Flags);
        string? resumeDir = a.String("resume");
        if (resumeDir != null)
        {
            // The run's own options come from the checkpoint; only the device and the form of the summary may be chosen anew.
            var added = a.Options.Where(o => o.Name != "resume").ToArray();
            if (added.Any(o => o.Name is not ("device" or "json")))
                throw new UsageException("--resume DIR continues the run with the options it was started with; only --device and --json may be added");
            if (File.Exists(resumeDir))
                throw new UsageException($"--resume {resumeDir}: that is a file; give the checkpoint folder it is in");
            var (state, meta, path) = Checkpoint.LoadLatest(resumeDir);
            string[]? original;
            try { original = JsonSerializer.Deserialize<string[]>(meta.TryGetValue("cli_args", out var j) ? j : "null"); }
            catch (JsonException e) { throw new GpuNetException($"checkpoint '{path}': cli_args is not a JSON list of strings ({e.Message})", e); }
            if (original == null || original.Any(x => x == null))
                throw new GpuNetException($"checkpoint '{path}' was not written by gpunet train (no cli_args)");
            dataAsGiven = meta.GetValueOrDefault("data_as_given");
            var started = new Arguments("train", original, Valued, Flags);
            a = new Arguments("train", Arguments.Format([.. started.Options.Where(o => added.All(x => x.Name != o.Name)), .. added]), Valued, Flags);
            resume = state;
            resumedFrom = path;
        }
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public int Run(CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        bool json = a.Has("json");
        var log = json ? stderr : stdout;

        // ---- options (all checked before any data is loaded)
        string dataSpec = a.String("data", "digits");
        DataSpec data;
        try { data = DataSpec.Parse(dataSpec); }
        catch (GpuNetException e) { throw new UsageException($"--data: {e.Message}"); }
        string? dataDir = a.String("data-dir");
        if (dataDir != null && !Directory.Exists(dataDir)) throw new UsageException($"--data-dir: folder '{dataDir}' does not exist");
        var optimizerKind = a.String("optimizer", "adam").ToLowerInvariant() switch
        {
            "adam" => OptimizerKind.Adam,
            "sgd" => OptimizerKind.Sgd,
            "momentum" => OptimizerKind.Momentum,
            var o => throw new UsageException($"--optimizer: unknown '{o}', use sgd, momentum or adam"),
        };
        float lr = a.Float("lr", optimizerKind == OptimizerKind.Adam ? 1e-3f : 1e-2f, 0, double.PositiveInfinity, minExclusive: true);
        var optimizer = new OptimizerOptions
        {
            Kind = optimizerKind,
            Momentum = a.Float("momentum", 0.9f, 0, 1, maxExclusive: true),
            Nesterov = a.Has("nesterov"),
            WeightDecay = a.Float("weight-decay", 0, 0, double.PositiveInfinity),
        };
        int epochs = a.Int("epochs", 30, 1);
        int batch = a.Int("batch", 32, 1);
        int restarts = a.Int("restarts", 1, 1, 100_000);
        int seed = a.Int("seed", 0, 0);
        double validation = a.Double("validation", 0, 0, 1, maxExclusive: true);
        int patience = a.Int("early-stop", 0, 0);
        if (patience > 0 && validation == 0) throw new UsageException("--early-stop watches the validation loss: add --validation F (e.g. 0.1)");
        LearningRateSchedule schedule = a.String("lr-schedule", "constant").ToLowerInvariant() switch
        {
            "constant" => LearningRateSchedule.Constant,
            "inverse" => new InverseTimeRate(),
            "step" => new StepDecayRate(Math.Max(1, epochs / 3), 0.1),
            "cosine" => new CosineRate(),
            var s => throw new UsageException($"--lr-schedule: unknown '{s}', use constant, inverse, step or cosine"),
        };
        string? init = a.String("init");
        if (init != null)
        {
            if (restarts > 1) throw new UsageException("--init starts one network from saved weights; it cannot be combined with --restarts > 1");
            foreach (var o in new[] { "hidden", "activation", "output" })
                if (a.Has(o)) throw new UsageException($"--{o}: the network's layers, activations and output come from the --init file; leave out --{o}");
            OptionChecks.Readable("--init", init);
        }
        var hidden = ParseHidden(a.String("hidden", "64"));
        Activation activation = ParseOr("activation", "relu", ActivationNames.Parse);
        string outputName = a.String("output", "auto").ToLowerInvariant();
        string lossName = a.String("loss", "auto").ToLowerInvariant();
        if (outputName != "auto") ParseStatic("output", outputName, OutputFunctions.Parse); // how they fit the data is checked later
        if (lossName != "auto") ParseStatic("loss", lossName, LossFunctions.Parse);
        string modelPath = a.String("model", "model.safetensors");
        OptionChecks.Writable("--model", modelPath);
        string? metricsPath = a.String("metrics");
        if (metricsPath != null) OptionChecks.Writable("--metrics", metricsPath);
        string? plotPath = a.String("plot");
        if (plotPath != null) OptionChecks.Writable("--plot", plotPath);
        string? checkpointDir = a.String("checkpoint");
        if (checkpointDir != null) OptionChecks.WritableFolder("--checkpoint", checkpointDir);
        if (a.Has("checkpoint-every") && checkpointDir == null) throw new UsageException("--checkpoint-every needs --checkpoint DIR");
        int checkpointEvery = checkpointDir == null ? 0 : a.Int("checkpoint-every", 1, 1);
        // Writing the model over its --init file continues that model: the one overlap allowed.
        OptionChecks.Distinct(("--model", modelPath, true), ("--metrics", metricsPath, true), ("--plot", plotPath, true),
            ("--checkpoint", checkpointDir, true), ("--data csv", data.Kind == DataSpecKind.Csv ? data.Path : null, false),
            ("--data test=", data.TestPath, false), ("--init", init != null && OptionChecks.Same(init, modelPath) ? null : init, false));
        if (plotPath != null) Plot.CheckPath("--plot", plotPath);
        // Ctrl-C writes a checkpoint even when none were asked for: beside the model.
        string interruptDir = checkpointDir ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!,
            Path.GetFileNameWithoutExtension(modelPath) + ".checkpoint");
        // Checkpoints record the options with absolute paths, so that a resume from another folder uses the same files.
        // Checkpoints record absolute paths, so a resume from any folder finds the files; the model records the data
        // spec as typed, so the model file does not depend on the folder the command ran in.
        string recordedData = Recorded(data, dataSpec), modelData = dataAsGiven ?? dataSpec;
        var meta = new Dictionary<string, string>
        {
            ["cli_args"] = JsonSerializer.Serialize(RecordedArguments(recordedData, modelPath)), ["data_as_given"] = modelData,
        };
        using var device = Gpu.Open(OptionChecks.Device(a));

        // ---- data
        ModelInfo? initInfo = null;
        NetworkSpec? initSpec = null;
        float[]? initParams = null;
        if (init != null) (initSpec, initParams, initInfo) = ModelFile.Read(init);
        var loaded = data.Load(dataDir);
        log.WriteLine($"data: {loaded.Description}");
        Dataset train = loaded.Train, test = loaded.Test ?? loaded.Train;
        bool hasTest = loaded.Test != null;
        Standardizer? scaler = null;
        if (initInfo?.FeatureMean != null && initInfo.FeatureScale != null) scaler = new Standardizer(initInfo.FeatureMean, initInfo.FeatureScale);
        if (scaler == null && a.Has("standardize")) scaler = Standardizer.Fit(train);
        Dataset scaledTrain = scaler?.Apply(train) ?? train;
        Dataset? val = null;
        if (validation > 0) (scaledTrain, val) = Split.TrainValidation(scaledTrain, validation, (ulong)seed);

        // ---- network
        var task = train.Task;
        var (output, loss, lastActivation) = initInfo != null
            ? (initInfo.Output, lossName == "auto" ? initInfo.Loss : ParseOr("loss", lossName, LossFunctions.Parse), initSpec!.Layers[^1].Activation)
            : ResolveOutput(outputName, lossName, task, train.TargetCount);
        NetworkSpec spec = initSpec ?? Dense([train.FeatureCount, .. hidden, train.TargetCount], activation, lastActivation);
        if (spec.InputSize != train.FeatureCount)
            throw new DataFormatException($"the network takes {Count(spec.InputSize, "input")} but the data has {Count(train.FeatureCount, "feature")} per row");
        if (spec.OutputSize != train.TargetCount)
            throw new DataFormatException($"the network gives {Count(spec.OutputSize, "output")} but the data has {Count(train.TargetCount, "target")} per row ({(task == TaskKind.Classification ? "classes" : "values")})");

        log.WriteLine($"device: {device.Info}");
        log.WriteLine($"network: {spec}, {spec.TrainableParameterCount} parameters; output {output.Name()}, loss {loss.Name()}" +
            (restarts > 1 ? $"; {restarts} restarts side by side" : ""));
        var options = new TrainOptions
        {
            Epochs = epochs, BatchSize = batch, LearningRate = lr, Schedule = schedule, Optimizer = optimizer, Loss = loss,
            Shuffle = !a.Has("no-shuffle"), ShuffleSeed = (ulong)seed, EarlyStopPatience = patience,
            TicksPerEpoch = Console.IsErrorRedirected && Console.IsOutputRedirected ? 0 : 20,
        };
        Trainer.CheckDeviceMemory(device, spec, restarts, options, scaledTrain.Count, val?.Count ?? 0); // before the weights are made
        using var net = new Network(device, spec, restarts, (ulong)seed);
        if (initParams != null) net.SetParameters(initParams);
        using var trainer = new Trainer(net, options);
        var view = new ProgressView(log, interactive: !(json ? Console.IsErrorRedirected : Console.IsOutputRedirected));
        if (resumedFrom != null)
            log.WriteLine($"resuming from {resumedFrom}: {resume!.EpochsCompleted} epochs and {resume.RowsDone} rows of the next done");
        IProgress<EpochReport> perEpoch = checkpointEvery == 0 ? view : new EpochHook(view, r =>
        {
            if (r.Epoch % checkpointEvery == 0 || r.Epoch == r.Epochs) Checkpoint.Save(checkpointDir!, trainer.CaptureState(), meta);
        });
        TrainResult result;
        try
        {
            result = trainer.Fit(scaledTrain, val, perEpoch, cancel, view, resume);
        }
        catch (TrainingDivergedException e)
        {
            view.Done();
            // Every copy holds its last good weights: keep the one that was best then.
            string saved = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!,
                Path.GetFileNameWithoutExtension(modelPath) + $".last-good-epoch{e.GoodEpochs}.safetensors");
            using var good = net.ExtractCopy(e.BestCopy);
            ModelFile.Save(saved, good, Info(output, loss, task, train, scaler, modelData, seed, e.GoodEpochs, batch, optimizerKind, lr, restarts, e.BestCopy));
            throw new GpuNetException($"{e.Message} Last good weights written to {saved}.", e);
        }
        view.Done();
        if (result.Cancelled)
        {
            var state = trainer.CaptureState();
            string saved = Checkpoint.Save(interruptDir, state, meta);
            log.WriteLine($"interrupted after {state.EpochsCompleted} epochs and {state.RowsDone} rows of the next; checkpoint written to {saved}");
            log.WriteLine($"resume with: gpunet train --resume {interruptDir}");
            return 130;
        }

        // ---- the best network, its model file and the summary
        int best = result.BestCopy;
        using var bestNet = net.ExtractCopy(best);
        var info = Info(output, loss, task, train, scaler, modelData, seed, result.EpochsCompleted, batch, optimizerKind, lr, restarts, best);
        ModelFile.Save(modelPath, bestNet, info);
        using var predictor = new Predictor(bestNet, info);
        var testReport = hasTest ? predictor.Evaluate(test) : null;
        if (metricsPath != null) WriteMetrics(metricsPath, result, best);
        if (plotPath != null) Plot.Write(plotPath, result.History, best, loss.Name());

        var summary = new Summary(device.Info.ToString(), clock.Elapsed.TotalSeconds, result.EpochsCompleted, result.Steps,
            result.FinalTrain.Loss[best], result.FinalTrain.Accuracy?[best],
            result.FinalValidation?.Loss[best], result.FinalValidation?.Accuracy?[best],
            testReport?.Loss, testReport?.Accuracy, restarts, best, result.FinalTrain.Loss,
            Path.GetFullPath(modelPath), result.StoppedEarly, Full(metricsPath), Full(plotPath));
        if (json) stdout.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
        else PrintSummary(summary);
        return 0;
    }

    private static ModelInfo Info(OutputFunction output, LossFunction loss, TaskKind task, Dataset train, Standardizer? scaler,
        string dataSpec, int seed, int epochs, int batch, OptimizerKind optimizer, float lr, int restarts, int best) => new()
    {
        Output = output, Loss = loss, Task = task,
        ClassNames = task == TaskKind.Classification ? train.ClassNames : null,
        FeatureMean = scaler?.Mean, FeatureScale = scaler?.Scale,
        Training = new Dictionary<string, string>
        {
            ["data"] = dataSpec, ["seed"] = Invariant(seed), ["epochs"] = Invariant(epochs), ["batch"] = Invariant(batch),
            ["optimizer"] = optimizer.ToString().ToLowerInvariant(), ["lr"] = Invariant(lr),
            ["restarts"] = Invariant(restarts), ["best_restart"] = Invariant(best),
        },
    };

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
        double[] RestartTrainLosses, string Model, bool StoppedEarly, string? Metrics = null, string? Plot = null);

    private static string? Full(string? path) => path == null ? null : Path.GetFullPath(path);

    private void PrintSummary(Summary s)
    {
        stdout.WriteLine($"trained {s.Epochs} epochs ({s.Steps} steps) in {s.Seconds:F1} s on {s.Device}" +
            (s.StoppedEarly ? " (stopped early)" : ""));
        if (s.Restarts > 1)
        {
            // NaN sorts first in .NET: summarise the finite losses and count the diverged restarts apart.
            var finite = s.RestartTrainLosses.Where(double.IsFinite).Order().ToArray();
            int diverged = s.Restarts - finite.Length;
            string spread = finite.Length == 0 ? "none finite"
                : $"min {finite[0]:G4}, median {finite[finite.Length / 2]:G4}, max {finite[^1]:G4}";
            stdout.WriteLine($"restarts: best {s.BestRestart} of {s.Restarts}; final train losses {spread}" +
                (diverged > 0 ? $"; {diverged} diverged (NaN or infinite)" : ""));
        }
        stdout.WriteLine($"train      loss {s.TrainLoss:F4}{Acc(s.TrainAccuracy)}");
        if (s.ValidationLoss != null) stdout.WriteLine($"validation loss {s.ValidationLoss:F4}{Acc(s.ValidationAccuracy)}");
        if (s.TestLoss != null) stdout.WriteLine($"test       loss {s.TestLoss:F4}{Acc(s.TestAccuracy)}");
        stdout.WriteLine($"model written to {s.Model}");
        if (s.Metrics != null) stdout.WriteLine($"metrics written to {s.Metrics}");
        if (s.Plot != null) stdout.WriteLine($"plot written to {s.Plot}");
    }

    private static string Acc(double? a) => a == null ? "" : $"  accuracy {a.Value * 100:F2} %";

    /// <summary>Output function, loss and last-layer activation from --output / --loss (auto picks softmax +
    /// cross-entropy for classification, identity + mse for regression).</summary>
    internal static (OutputFunction Output, LossFunction Loss, Activation Last) ResolveOutput(string outputName, string lossName, TaskKind task, int outputs)
    {
        OutputFunction output = outputName == "auto"
            ? (task == TaskKind.Classification ? (outputs >= 2 ? OutputFunction.Softmax : OutputFunction.Logistic) : OutputFunction.Identity)
            : ParseStatic("output", outputName, OutputFunctions.Parse);
        LossFunction loss = lossName == "auto"
            ? output switch
            {
                OutputFunction.Softmax => LossFunction.CrossEntropy,
                OutputFunction.Logistic => task == TaskKind.Classification ? LossFunction.BinaryCrossEntropy : LossFunction.MeanSquaredError,
                _ => LossFunction.MeanSquaredError,
            }
            : ParseStatic("loss", lossName, LossFunctions.Parse);
        if (output == OutputFunction.Softmax && outputs < 2)
            throw new UsageException("--output softmax needs at least 2 outputs; use logistic for one");
        if (loss == LossFunction.CrossEntropy && output != OutputFunction.Softmax)
            throw new UsageException($"--loss cross-entropy goes with --output softmax, not {output.Name()}");
        if (loss == LossFunction.BinaryCrossEntropy && output != OutputFunction.Logistic)
            throw new UsageException($"--loss bce goes with --output logistic, not {output.Name()}");
        if (output == OutputFunction.Softmax && loss != LossFunction.CrossEntropy)
            throw new UsageException($"--output softmax is trained with --loss cross-entropy, not {loss.Name()}");
        // Losses on logits take the raw last layer; mse/mae with a logistic output train through the logistic.
        Activation last = loss.TakesLogits() ? Activation.Identity : output == OutputFunction.Logistic ? Activation.Logistic : Activation.Identity;
        OutputFunction applied = loss.TakesLogits() ? output : OutputFunction.Identity;
        return (applied, loss, last);
    }

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

    private NetworkSpec Dense(int[] sizes, Activation hidden, Activation last)
    {
        try { return NetworkSpec.Dense(sizes, hidden, last); }
        catch (ArgumentException e) { throw new UsageException($"--hidden {a.String("hidden", "64")}: {e.Message}; use smaller layers"); }
    }

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    /// <summary>The --data spec with its file paths absolute (kept as given where the full path holds a comma, which a
    /// spec cannot).</summary>
    private static string Recorded(DataSpec data, string spec)
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
