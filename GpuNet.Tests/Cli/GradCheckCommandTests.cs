using System.Globalization;
using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary><c>gpunet gradcheck</c> on models the command trained and on masked, standardised models.</summary>
public class GradCheckCommandTests
{
    [Fact]
    public void ATrainedModelPassesAndEveryTensorIsListed()
    {
        using var cli = new CliRunner();
        string model = cli.File("m.safetensors");
        cli.Ok("train", "--data", "digits", "--hidden", "12", "--epochs", "1", "--model", model, "--device", "cpu");
        string output = cli.Ok("gradcheck", "--model", model, "--data", "digits", "--rows", "5", "--device", "cpu");
        var lines = output.Trim().Split('\n');
        Assert.StartsWith($"gradcheck: {model} on digits (train, 5 rows), loss cross-entropy", lines[0]);
        Assert.StartsWith("loss: device ", lines[1]);
        Assert.Matches(@"^layers\.0\.weight +\[12, 64\] +768 +0 +\d\.\d\de-0[5-9] +\[\d+, \d+\] ", lines[3]);
        Assert.Matches(@"^layers\.1\.bias +\[10\] +10 +0 ", lines[6]);
        Assert.StartsWith("passed: worst relative error ", lines[^1]);

        var json = cli.Json("gradcheck", "--model", model, "--data", "digits", "--rows", "5", "--device", "cpu");
        Assert.True(json.GetProperty("passed").GetBoolean());
        Assert.Equal(5, json.GetProperty("rows").GetInt32());
        var tensors = json.GetProperty("tensors").EnumerateArray().ToArray();
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"], tensors.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(64 * 12 + 12 + 12 * 10 + 10, tensors.Sum(t => t.GetProperty("checked").GetInt32() + t.GetProperty("skipped").GetInt32()));
        Assert.All(tensors, t => Assert.True(t.GetProperty("relative_error").GetDouble() <= GradientCheckOptions.DeviceTolerance));
    }

    [Fact]
    public void AboveTheToleranceItExitsNonZeroNamingTheTensors()
    {
        using var cli = new CliRunner();
        string model = cli.File("m.safetensors");
        cli.Ok("train", "--data", "xor", "--hidden", "3", "--activation", "tanh", "--epochs", "2", "--model", model, "--device", "cpu");
        // float32 device gradients cannot be within 1e-12 of float64 differences
        var (code, output, err) = cli.Run("gradcheck", "--model", model, "--data", "xor", "--tolerance", "1e-12", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("FAIL", output);
        Assert.EndsWith("FAILED", output.Trim());
        Assert.StartsWith("gpunet: gradient check failed: relative error above the tolerance 1.00e-12 in layers.0.weight ", err);
    }

    [Fact]
    public void MaskedStandardisedModelsCompareOnlyTheirEdges()
    {
        using var cli = new CliRunner();
        var mask = new bool[3, 4];
        for (int j = 0; j < 3; j++) for (int i = 0; i < 4; i++) mask[j, i] = (i + j) % 3 != 0;
        var spec = new NetworkSpec(2, [new LayerSpec(4, Activation.Logistic), new LayerSpec(3, Activation.Tanh, mask), new LayerSpec(1, Activation.Identity)]);
        var p = spec.InitialParameters(7, 0);
        string model = cli.File("masked.safetensors");
        ModelFile.Save(model, spec, p, new ModelInfo
        {
            Output = OutputFunction.Identity, Loss = LossFunction.MeanSquaredError, Task = TaskKind.Regression,
            FeatureMean = [0.5f, -1f], FeatureScale = [2f, 0.25f],
        });
        var rows = Enumerable.Range(0, 9).Select(r => string.Join(",", new[] { r * 0.3 - 1, 0.1 * r * r - 1.2, Math.Sin(r) }
            .Select(v => v.ToString(CultureInfo.InvariantCulture))));
        string csv = cli.Dir.WriteText("d.csv", string.Join("\n", rows) + "\n");
        var json = cli.Json("gradcheck", "--model", model, "--data", $"csv:{csv},task=regress", "--rows", "1000", "--device", "cpu");
        Assert.True(json.GetProperty("passed").GetBoolean());
        Assert.Equal(9, json.GetProperty("rows").GetInt32());
        var weight1 = json.GetProperty("tensors")[2];
        Assert.Equal("layers.1.weight", weight1.GetProperty("name").GetString());
        Assert.Equal(mask.Cast<bool>().Count(e => e), weight1.GetProperty("checked").GetInt32() + weight1.GetProperty("skipped").GetInt32());

        // the device computes on the standardised rows: the float64 loss is the model's loss there, as eval reports it
        var eval = cli.Json("eval", "--model", model, "--data", $"csv:{csv},task=regress", "--device", "cpu");
        Assert.Equal(eval.GetProperty("loss").GetDouble(), json.GetProperty("float64_loss").GetDouble(), 5);
    }

    [Fact]
    public void MistakesAreNamed()
    {
        using var cli = new CliRunner();
        Assert.Equal((2, "", "gpunet: gradcheck needs --model FILE\n"), cli.Run("gradcheck", "--data", "xor"));
        string model = cli.File("m.safetensors");
        cli.Ok("train", "--data", "xor", "--hidden", "2", "--epochs", "1", "--model", model, "--device", "cpu");
        Assert.Equal((2, "", "gpunet: --split test: 'xor' has no test split; use train\n"),
            cli.Run("gradcheck", "--model", model, "--data", "xor", "--split", "test", "--device", "cpu"));
        Assert.Equal((2, "", "gpunet: --rows: 0 is out of range (it must be in [1, 1000])\n"),
            cli.Run("gradcheck", "--model", model, "--data", "xor", "--rows", "0"));
        var (code, _, err) = cli.Run("gradcheck", "--model", model, "--data", "digits", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("64 features", err);
    }
}
