using GpuNet.Compute;
using GpuNet.Data;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Model;

/// <summary>Evaluation of a model on a labelled dataset.</summary>
/// <param name="Rows">Rows evaluated.</param>
/// <param name="Loss">The model's own loss, as trained.</param>
/// <param name="Accuracy">Fraction of rows classified correctly (classification), counted on the device.</param>
/// <param name="MeanSquaredError">Regression: mean over rows and outputs of (y − f(x))².</param>
/// <param name="MeanAbsoluteError">Regression: mean over rows and outputs of |y − f(x)|.</param>
/// <param name="Confusion">Classification: [true class, predicted class] counts.</param>
/// <param name="ClassNames">The model's class names in class-index order (the confusion matrix's rows and columns).</param>
public sealed record EvaluationReport(int Rows, double Loss, double? Accuracy, double? MeanSquaredError,
    double? MeanAbsoluteError, int[,]? Confusion, IReadOnlyList<string>? ClassNames);

/// <summary>A trained network with what it needs to be used: feature scaling, output function, class names.</summary>
public sealed class Predictor : IDisposable
{
    private readonly Standardizer? scaler;

    /// <summary>Wraps a network (its <see cref="Network.BestRestart"/> is used) and what it was trained for
    /// (<see cref="Network.Info"/>). Disposing the predictor disposes the network.</summary>
    /// <param name="network">The network, trained or loaded.</param>
    /// <param name="name">Names the model in errors, e.g. "model file 'm.safetensors'"; null for "the model".</param>
    /// <exception cref="ArgumentException">The network has no <see cref="Network.Info"/>.</exception>
    /// <exception cref="ModelFormatException">The feature scaling in the info is unusable.</exception>
    public Predictor(Network network, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var info = network.Info ?? throw new ArgumentException(
            "the network has not been trained or loaded, so nothing says what it is for (task, classes, output, loss): train it, or set its Info", nameof(network));
        Network = network;
        Info = info;
        Name = name ?? "the model";
        Classes = info.Task != TaskKind.Classification ? null
            : info.ClassNames ?? Enumerable.Range(0, Math.Max(2, network.Spec.OutputSize))
                .Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (info.FeatureMean != null && info.FeatureScale != null)
        {
            try { scaler = new Standardizer(info.FeatureMean, info.FeatureScale); }
            catch (DataFormatException e)
            {
                throw new ModelFormatException($"{Name}: {e.Message} (feature_mean / feature_scale metadata); the file is damaged or was not written by GpuNet", e);
            }
        }
    }

    /// <summary>Reads a model file onto a device.</summary>
    /// <exception cref="ModelFormatException">The file is a directory, malformed, or not a GpuNet model.</exception>
    public static Predictor Load(Device device, string path)
    {
        // Opening a directory fails with "access denied", which sends people looking at permissions.
        if (Directory.Exists(path)) throw new ModelFormatException(DataFiles.IsDirectory(path) + "; give the model file");
        var net = ModelFile.Load(device, path);
        try
        {
            return new Predictor(net, $"model file '{path}'");
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>The network.</summary>
    public Network Network { get; }
    /// <summary>How to use it.</summary>
    public ModelInfo Info { get; }

    /// <summary>Names the model in errors: "model file '…'" when loaded from a file.</summary>
    public string Name { get; }

    /// <summary>Features per row the model takes.</summary>
    public int InputSize => Network.Spec.InputSize;

    /// <summary>A classifier's classes in output order: its stored names, or "0".."C-1" when it has none
    /// (integer labels then name classes by index). Null for a regression model.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>"classification, 10 classes" or "regression, 1 output".</summary>
    public string Kind => Classes is { } c ? $"classification, {DataFiles.Count(c.Count, "class")}"
        : $"regression, {DataFiles.Count(Network.Spec.OutputSize, "output")}";

    /// <summary>Model outputs [rows, O] for raw (unscaled) features [rows, InputSize]: scaling, network, output function.</summary>
    public float[] Predict(float[] features, int rows)
    {
        CheckFeatures(features, rows);
        var x = scaler?.Apply(features, InputSize) ?? features;
        return Network.Predict(x, rows, Network.BestRestart, Info.Output);
    }

    /// <summary>Predicted class per row: arg-max of the outputs (first on ties), or output &gt; 0.5 for one output.</summary>
    public int[] PredictClasses(float[] features, int rows) => PredictedClasses(Predict(features, rows), rows);

    private int[] PredictedClasses(float[] outputs, int rows)
    {
        int o = Network.Spec.OutputSize;
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            if (o == 1) { classes[r] = outputs[r] > 0.5f ? 1 : 0; continue; }
            int best = 0;
            for (int j = 1; j < o; j++) if (outputs[(long)r * o + j] > outputs[(long)r * o + best]) best = j;
            classes[r] = best;
        }
        return classes;
    }

    /// <summary>Loss and accuracy (on the device) and, for classification, the confusion matrix; MSE and MAE for regression.</summary>
    /// <remarks>For a classifier the data's classes are matched to the model's by name (integer names by value,
    /// <see cref="Classes"/>): the data may hold any subset of them, in any order, and accuracy and the confusion
    /// matrix are over the model's classes.</remarks>
    /// <param name="data">Labelled examples of the model's kind.</param>
    /// <param name="dataName">Names the data in errors, e.g. the data spec; null for "the data".</param>
    /// <param name="progress">Told the rows evaluated so far, about 20 times along the model's own loss pass.</param>
    /// <param name="cancellationToken">Checked between chunks of rows.</param>
    /// <exception cref="DataFormatException">The data does not fit the model: feature count, task, a class the model
    /// does not know, or (bce) a target outside [0, 1].</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public EvaluationReport Evaluate(Dataset data, string? dataName = null, IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var scaled = Prepare(data, dataName);
        FloatRange.Require(scaled, dataName, features: true, training: false); // as the model scales it
        using var device = DeviceDataset.Upload(Network.Device, scaled);
        using var evaluator = new Evaluator(Network, Evaluator.ChunkRows(scaled.Count, 0));
        int best = Network.BestRestart;
        var lastLayer = Network.Spec.Layers[^1].Activation;
        Evaluation Eval(LossFunction loss, IProgress<int>? rows = null) =>
            evaluator.Run(device, Loss.Create(Network.Device, loss, lastLayer), rows, cancellationToken);
        var own = Eval(Info.Loss, progress);
        if (scaled.Task == TaskKind.Regression || scaled.Labels == null)
        {
            bool plain = !Info.Loss.TakesLogits();
            return new EvaluationReport(scaled.Count, own.Loss[best], own.Accuracy?[best],
                plain ? Eval(LossFunction.MeanSquaredError).Loss[best] : null,
                plain ? Eval(LossFunction.MeanAbsoluteError).Loss[best] : null, null, null);
        }
        var names = Classes!;
        var confusion = new int[names.Count, names.Count];
        // The features are scaled already: straight to the network, no second pass of the scaler.
        var predicted = PredictedClasses(Network.Predict(scaled.Features, scaled.Count, best, Info.Output), scaled.Count);
        for (int r = 0; r < scaled.Count; r++) confusion[scaled.Labels[r], predicted[r]]++;
        return new EvaluationReport(scaled.Count, own.Loss[best], own.Accuracy?[best], null, null, confusion, names);
    }

    /// <summary>The data as the network takes it: checked against the model, its classes matched to the model's by
    /// name (as <see cref="Evaluate"/> does), its features standardised as the model's were in training.</summary>
    /// <param name="data">Labelled examples of the model's kind.</param>
    /// <param name="dataName">Names the data in errors, e.g. the data spec; null for "the data".</param>
    /// <exception cref="DataFormatException">The data does not fit the model: feature count, task, a class the model
    /// does not know, or (bce) a target outside [0, 1].</exception>
    public Dataset Prepare(Dataset data, string? dataName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        string what = dataName ?? "the data";
        string dataKind = data.Task == TaskKind.Classification
            ? $"classification, {DataFiles.Count(data.TargetCount, "class")}"
            : $"regression, {DataFiles.Count(data.TargetCount, "target")}";
        string kinds = $"(the model: {Kind}; the data: {dataKind})";
        if (data.FeatureCount != InputSize)
            throw new DataFormatException(
                $"{what} has {DataFiles.Count(data.FeatureCount, "feature")} per row; {Name} takes {InputSize} {kinds}");
        if (data.Task != Info.Task)
            throw new DataFormatException($"{Name} and {what} differ in kind {kinds}: evaluate a model on data of its own kind");
        if (Classes != null) data = ToModelClasses(data, what);
        if (data.TargetCount != Network.Spec.OutputSize)
            throw new DataFormatException(
                $"{what} has {DataFiles.Count(data.TargetCount, "target")} per row; {Name} gives {DataFiles.Count(Network.Spec.OutputSize, "output")} {kinds}");
        OutputPolicy.CheckTargets(Info.Loss, data, what);
        return scaler == null ? data : scaler.Apply(data);
    }

    /// <summary>The data relabelled with the model's class indices, matching class names.</summary>
    private Dataset ToModelClasses(Dataset data, string what)
    {
        var model = Classes!;
        var dataNames = data.ClassNames!;
        if (dataNames.SequenceEqual(model)) return data;
        var index = LabelEncoding.ClassIndex(model);
        var map = new int[dataNames.Count];
        for (int c = 0; c < map.Length; c++) map[c] = LabelEncoding.TryClass(index, dataNames[c], out int m) ? m : -1;
        var labels = new int[data.Count];
        for (int r = 0; r < data.Count; r++)
        {
            labels[r] = map[data.Labels![r]];
            if (labels[r] < 0)
            {
                string list = string.Join(", ", model.Take(20).Select(n => $"\"{n}\"")) + (model.Count > 20 ? $", … ({model.Count} in all)" : "");
                throw new DataFormatException(
                    $"{what}, row {r + 1}: class \"{dataNames[data.Labels[r]]}\" is not one of the {model.Count} classes of {Name} ({list})");
            }
        }
        return Dataset.Classification(data.Features, data.FeatureCount, labels, model.Count, model);
    }

    private void CheckFeatures(float[] features, int rows)
    {
        if (features.Length != (long)rows * InputSize)
            throw new DataFormatException($"{features.Length} feature values are not {rows} rows of the {InputSize} features the model takes");
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();
}
