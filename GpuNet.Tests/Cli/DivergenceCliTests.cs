using GpuNet.Model;
using System.Text.Json;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>A diverging run ends in exit 1 with the epoch, the step and the advice, writes its last good weights under a
/// name that says so and never the model file; restarts that diverge alone are counted, not averaged in.</summary>
public class DivergenceCliTests
{
    [Fact]
    public void ADivergingRunWritesItsLastGoodWeightsAndNotTheModel()
    {
        using var cli = new CliRunner();
        string model = cli.File("m.safetensors");
        var (code, _, err) = cli.Run("train", "--data", "sine", "--hidden", "8", "--optimizer", "sgd", "--lr", "3", "--batch", "16",
            "--epochs", "20", "--no-shuffle", "--seed", "1", "--device", "cpu", "--model", model);
        Assert.Equal(1, code);
        Assert.StartsWith("gpunet: error: training diverged", err);
        Assert.Contains("try a smaller step size (--lr)", err);
        var m = System.Text.RegularExpressions.Regex.Match(err, @"at epoch (\d+), step (\d+) of the epoch");
        Assert.True(m.Success, err);
        var r = System.Text.RegularExpressions.Regex.Match(err, @"rolled back to the start of epoch (\d+)");
        Assert.True(r.Success, err);
        int epoch = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int good = int.Parse(r.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) - 1;
        Assert.InRange(good, Math.Max(0, epoch - 2), epoch - 1);
        string lastGood = cli.File($"m.last-good-epoch{good}.safetensors");
        Assert.Contains($"Last good weights written to {lastGood}.", err);
        Assert.False(File.Exists(model));
        var (_, parameters, info) = ModelFile.Read(lastGood); // refuses non-finite weights
        Assert.All(parameters, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(good.ToString(System.Globalization.CultureInfo.InvariantCulture), info.Training["epochs"]);
        Assert.Single(Directory.EnumerateFiles(cli.Dir.Path)); // nothing else, no temp files
        // the last good weights are good: their loss on the data is finite
        var eval = cli.Json("eval", "--model", lastGood, "--data", "sine", "--device", "cpu");
        Assert.Equal(JsonValueKind.Number, eval.GetProperty("loss").ValueKind);
    }

    [Fact]
    public void BreakingTheWeightsInTheLastStepIsADivergenceToo()
    {
        using var cli = new CliRunner();
        string model = cli.File("nan.safetensors");
        var (code, _, err) = cli.Run("train", "--data", "xor", "--epochs", "1", "--lr", "1e30", "--optimizer", "sgd", "--device", "cpu", "--model", model);
        Assert.Equal(1, code);
        Assert.Contains("at epoch 1, step 1 of the epoch", err);
        Assert.False(File.Exists(model));
        Assert.True(File.Exists(cli.File("nan.last-good-epoch0.safetensors")));
    }

    [Fact]
    public void RestartsThatDivergeAloneAreCountedAndWrittenAsNullInJson()
    {
        using var cli = new CliRunner();
        string[] args = ["train", "--data", "xor", "--epochs", "5", "--restarts", "50", "--lr", "5", "--optimizer", "sgd", "--device", "cpu",
            "--model", cli.File("m.safetensors")];
        var json = cli.Json(args);
        var losses = json.GetProperty("restart_train_losses").EnumerateArray().ToArray();
        Assert.Equal(50, losses.Length);
        int diverged = losses.Count(l => l.ValueKind == JsonValueKind.Null);
        Assert.InRange(diverged, 1, 49); // this seed and step size: some restarts diverge, not all
        int best = json.GetProperty("best_restart").GetInt32();
        Assert.Equal(JsonValueKind.Number, losses[best].ValueKind);
        Assert.Equal(losses.Where(l => l.ValueKind == JsonValueKind.Number).Min(l => l.GetDouble()), losses[best].GetDouble());

        string text = cli.Ok(args);
        Assert.Contains($"; {diverged} diverged (NaN or infinite)", text);
        Assert.DoesNotContain("min NaN", text);
    }
}
