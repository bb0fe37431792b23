using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>eval and predict against models and data that do not quite match: headers, class names, kinds, folders.</summary>
public class EvalPredictTests
{
    /// <summary>A 2-input, 3-class softmax model with known weights: outputs (x0, 0, x1), so (5, 0) is class 0,
    /// (-5, -5) class 1 and (0, 5) class 2. Stored without class names unless given.</summary>
    private static string ThreeClassModel(CliRunner cli, string name = "three.safetensors", IReadOnlyList<string>? classes = null,
        float[]? scale = null)
    {
        var spec = NetworkSpec.Dense([2, 3], Activation.Relu, Activation.Identity);
        var p = new float[spec.ParameterCount];
        long w = spec.WeightOffset(1);
        p[w + 0 * 2 + 0] = 1; // output 0 ← x0
        p[w + 2 * 2 + 1] = 1; // output 2 ← x1
        string path = cli.File(name);
        ModelFile.Save(path, spec, p, new ModelInfo
        {
            Output = OutputFunction.Softmax, Loss = LossFunction.CrossEntropy, Task = TaskKind.Classification, ClassNames = classes,
            FeatureMean = scale == null ? null : new float[scale.Length], FeatureScale = scale,
        });
        return path;
    }

    /// <summary>A 1-input, 1-output regression model y = x.</summary>
    private static string IdentityRegressionModel(CliRunner cli)
    {
        var spec = NetworkSpec.Dense([1, 1], Activation.Relu, Activation.Identity);
        var p = new float[spec.ParameterCount];
        p[spec.WeightOffset(1)] = 1;
        string path = cli.File("identity.safetensors");
        ModelFile.Save(path, spec, p, new ModelInfo { Output = OutputFunction.Identity, Loss = LossFunction.MeanSquaredError, Task = TaskKind.Regression });
        return path;
    }

    private static int[][] Confusion(JsonElement e) =>
        e.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();

    private static string[] Lines(string text) => text.Trim().Split('\n');

    [Fact]
    public void TrainRefusesBceOnTargetsOutsideZeroToOne()
    {
        using var cli = new CliRunner();
        string model = cli.File("s.safetensors");
        var (code, _, err) = cli.Run("train", "--data", "sine", "--loss", "bce", "--output", "logistic", "--epochs", "1", "--model", model, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Matches(@"gpunet: error: the training data: target 1 of row \d+ is -[0-9.E-]+, but bce needs targets in \[0, 1\]", err);
        Assert.False(File.Exists(model));
    }
}
