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
    public void PredictNeverSkipsALineSilently()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);

        // a first line mixing numbers and text is data: its text is an error, with the way out
        string mixed = cli.Dir.WriteText("mixed.csv", "1,x\n0,0\n1,1\n");
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", mixed, "--labels", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"gpunet: error: {mixed}: line 1, column 2: \"x\" is not a number; if this line is a header, say so with hasHeader " +
            "(gpunet predict: --header)", err.Trim());

        // a first line of text only is a header: skipped, and stderr says so in one line
        string named = cli.Dir.WriteText("named.csv", "a,b\n5,0\n0,5\n");
        (code, output, err) = cli.Run("predict", "--model", model, "--input", named, "--labels", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Equal(["label", "0", "2"], Lines(output));
        Assert.Equal($"gpunet: {named}: line 1 is read as a header, not predicted (none of its cells is a number); --header says so and silences this",
            err.Trim());
        (code, output, err) = cli.Run("predict", "--model", model, "--input", named, "--labels", "--header", "--device", "cpu");
        Assert.Equal((0, ""), (code, err));
        Assert.Equal(["label", "0", "2"], Lines(output));

        // numbers only: one output row per input row, in order
        string numbers = cli.Dir.WriteText("numbers.csv", "5,0\n0,5\n-5,-5\n");
        (code, output, err) = cli.Run("predict", "--model", model, "--input", numbers, "--labels", "--device", "cpu");
        Assert.Equal((0, ""), (code, err));
        Assert.Equal(["label", "0", "2", "1"], Lines(output));
        var probabilities = Lines(cli.Ok("predict", "--model", model, "--input", numbers, "--device", "cpu"));
        Assert.Equal(4, probabilities.Length);
        Assert.Equal("output_0,output_1,output_2", probabilities[0]);
    }

    [Fact]
    public void PredictNamesANonFiniteInputAndAsksForFiniteOnes()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);
        string input = cli.Dir.WriteText("in.csv", "5,0\nnan,1\n");
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", input, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains($"{input}: line 2, column 1: value \"nan\" is not finite: NaN and ±infinity are not allowed; predicting needs finite inputs", err);
        Assert.DoesNotContain("drop", err, StringComparison.OrdinalIgnoreCase);
    }

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

    [Fact]
    public void TrainRefusesATestFileWithOtherColumns()
    {
        using var cli = new CliRunner();
        string train = cli.Dir.WriteText("train.csv", "a,b,y\n1,20,0\n2,10,1\n");
        string swapped = cli.Dir.WriteText("test.csv", "b,a,y\n20,1,0\n");
        var (code, _, err) = cli.Run("train", "--data", $"csv:{train},header,test={swapped}", "--model", cli.File("m.safetensors"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{swapped}: header column 1 is \"b\" but column 1 of the training file {train} is \"a\"", err);
        string wider = cli.Dir.WriteText("wider.csv", "1,2,3,9\n");
        (code, _, err) = cli.Run("train", "--data", $"csv:{train},header,test={wider}", "--model", cli.File("m.safetensors"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{wider}: line 1 has 4 columns; the training file {train} has 3", err);
    }
}
