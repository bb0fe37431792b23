using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Training;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Model;

/// <summary>Evaluation of a model on a labelled dataset.</summary>
/// <param name="Rows">Rows evaluated.</param>
/// <param name="Loss">The model's own loss, as trained.</param>
/// <param name="Accuracy">Fraction of rows classified correctly (classification), counted on the device.</param>
/// <param name="MeanSquaredError">Regression: mean over rows and outputs of (y − f(x))².</param>
/// <param name="MeanAbsoluteError">Regression: mean over rows and outputs of |y − f(x)|.</param>
/// <param name="Confusion">Classification: [true class, predicted class] counts.</param>
/// <param name="ClassNames">Class names in class-index order.</param>
public sealed record EvaluationReport(int Rows, double Loss, double? Accuracy, double? MeanSquaredError,
    double? MeanAbsoluteError, int[,]? Confusion, IReadOnlyList<string>? ClassNames);

/// <summary>A trained network with what it needs to be used: feature scaling, output function, class names.</summary>
public sealed class Predictor : IDisposable
{
    private readonly Standardizer? scaler;

    /// <summary>Wraps a single-copy network and its model info.</summary>
    public Predictor(Network network, ModelInfo info)
    {
        Network = network;
        Info = info;
        if (info.FeatureMean != null && info.FeatureScale != null) scaler = new Standardizer(info.FeatureMean, info.FeatureScale);
    }

    /// <summary>Reads a model file onto a device.</summary>
    public static Predictor Load(string path, Device device)
    {
        var (net, info) = ModelFile.Load(path, device);
        return new Predictor(net, info);
    }

    /// <summary>The network (one copy).</summary>
    public Network Network { get; }
    /// <summary>How to use it.</summary>
    public ModelInfo Info { get; }

    /// <summary>Features per row the model takes.</summary>
    public int InputSize => Network.Spec.InputSize;

    /// <summary>Model outputs [rows, O] for raw (unscaled) features [rows, InputSize]: scaling, network, output function.</summary>
    public float[] Predict(float[] features, int rows)
    {
        CheckFeatures(features, rows);
        var x = scaler?.Apply(features, InputSize) ?? features;
        return Network.Predict(x, rows, 0, Info.Output);
    }

    /// <summary>Predicted class per row: arg-max of the outputs (first on ties), or output &gt; 0.5 for one output.</summary>
    public int[] PredictClasses(float[] features, int rows) => Classes(Predict(features, rows), rows);

    private int[] Classes(float[] outputs, int rows)
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
    public EvaluationReport Evaluate(Dataset data)
    {
        if (data.FeatureCount != InputSize)
            throw new DataFormatException($"the data has {data.FeatureCount} features per row; the model takes {InputSize}");
        if (data.TargetCount != Network.Spec.OutputSize)
            throw new DataFormatException($"the data has {data.TargetCount} targets per row; the model gives {Network.Spec.OutputSize} outputs");
        var scaled = scaler == null ? data : scaler.Apply(data);
        using var device = DeviceDataset.Upload(Network.Device, scaled);
        Evaluation Eval(LossFunction loss)
        {
            using var t = new Trainer(Network, new TrainOptions { Loss = loss });
            return t.Evaluate(device);
        }
        var own = Eval(Info.Loss);
        if (data.Task == TaskKind.Regression || data.Labels == null)
        {
            bool plain = !Info.Loss.TakesLogits();
            return new EvaluationReport(data.Count, own.Loss[0], own.Accuracy?[0],
                plain ? Eval(LossFunction.MeanSquaredError).Loss[0] : null,
                plain ? Eval(LossFunction.MeanAbsoluteError).Loss[0] : null, null, null);
        }
        int classes = data.TargetCount == 1 ? 2 : data.TargetCount;
        var confusion = new int[classes, classes];
        // The features are scaled already: straight to the network, no second pass of the scaler.
        var predicted = Classes(Network.Predict(scaled.Features, data.Count, 0, Info.Output), data.Count);
        for (int r = 0; r < data.Count; r++) confusion[data.Labels[r], predicted[r]]++;
        return new EvaluationReport(data.Count, own.Loss[0], own.Accuracy?[0], null, null, confusion, Info.ClassNames ?? data.ClassNames);
    }

    private void CheckFeatures(float[] features, int rows)
    {
        if (features.Length != (long)rows * InputSize)
            throw new DataFormatException($"{features.Length} feature values are not {rows} rows of the {InputSize} features the model takes");
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();
}
