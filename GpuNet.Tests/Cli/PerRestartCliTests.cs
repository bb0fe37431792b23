using System.Text.Json;
using GpuNet.Cli;
using GpuNet.Model;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>The per-restart step from the command line: forced or chosen, the idea's running example by name or by its
/// missing edge, the summary's count of restarts that reached the global minimum and the spread of the others (and the
/// same in --json), 100 000 restarts of XOR, and an interrupted run resumed to the same model.</summary>
public class PerRestartCliTests
{
    /// <summary>The one-input XOR: x = 0, 1/3, 2/3, 1 → y = 0, 1, 1, 0.</summary>
    private static string Xor1D(CliRunner cli)
    {
        string path = cli.File("xor1.csv");
        File.WriteAllText(path, "x,y\n0,0\n0.3333333,1\n0.6666667,1\n1,0\n");
        return $"csv:{path},header,task=regress";
    }

    [Fact]
    public void TheRunningExampleTrainsByNameWithItsEdgeMissing()
    {
        using var cli = new CliRunner();
        string model = cli.File("re.safetensors");
        string output = cli.Ok("train", "--data", Xor1D(cli), "--network", "running-example", "--restarts", "200", "--epochs", "40",
            "--batch", "1", "--optimizer", "sgd", "--lr", "2", "--device", "cpu", "--model", model);
        Assert.Contains("network: 1-2-2-1 (logistic, logistic, logistic), 12 parameters", output);
        Assert.Contains("step: per-restart (200 restarts of a network that fits restart shape 1-2-2-1", output);
        // The share is given to three significant digits, so that 1 of 100 000 does not read as 0.00 %.
        var line = System.Text.RegularExpressions.Regex.Match(output, @"global minimum: (\d+) of 200 restarts \((.+) %\) ended with a training loss below 0\.001");
        Assert.True(line.Success, output);
        Assert.Equal((int.Parse(line.Groups[1].Value) * 100.0 / 200).ToString("G3"), line.Groups[2].Value);
        Assert.Contains("final train losses: 10 % ≤ ", output);
        using var device = GpuNet.Devices.Gpu.Open("cpu");
        using var net = GpuNet.Model.Network.Load(device, model);
        Assert.Equal(12, net.Spec.TrainableParameterCount);
        Assert.Equal(0f, net.GetWeight(2, from: 0, to: 1)); // the edge 3 → 7
        Assert.NotEqual(0f, net.GetWeight(2, from: 1, to: 1));
    }

    [Fact]
    public void DropEdgesGivesTheSameNetworkAsTheName()
    {
        using var cli = new CliRunner();
        string data = Xor1D(cli);
        string[] common = ["--data", data, "--restarts", "8", "--epochs", "5", "--batch", "1", "--device", "cpu", "--seed", "3"];
        cli.Ok(["train", .. common, "--network", "running-example", "--model", cli.File("a.safetensors")]);
        cli.Ok(["train", .. common, "--hidden", "2,2", "--activation", "logistic", "--output", "logistic", "--drop-edges", "2:0-1", "--model", cli.File("b.safetensors")]);
        Assert.Equal(File.ReadAllBytes(cli.File("a.safetensors")), File.ReadAllBytes(cli.File("b.safetensors")));
    }

    [Theory]
    [InlineData(new[] { "--network", "tiny" }, "--network: unknown 'tiny', use running-example")]
    [InlineData(new[] { "--network", "running-example", "--hidden", "3" }, "--network running-example sets the layers, functions and missing edges; leave out --hidden")]
    [InlineData(new[] { "--drop-edges", "2:0" }, "--drop-edges: '2:0' is not LAYER:FROM-TO")]
    [InlineData(new[] { "--hidden", "2,2", "--drop-edges", "2:0-5" }, "--drop-edges: edge 2:0-5: layer 2 has neurons 0..1")]
    [InlineData(new[] { "--hidden", "2,2", "--drop-edges", "4:0-0" }, "--drop-edges: edge 4:0-0: the network has weight layers 1..3")]
    [InlineData(new[] { "--hidden", "2,2", "--drop-edges", "2:0-1,2:0-1" }, "--drop-edges: edge 2:0-1 is missing already")]
    [InlineData(new[] { "--global-minimum-below", "0" }, "--global-minimum-below")]
    public void BadNetworkChoicesAreRefused(string[] options, string expected)
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run(["train", "--data", "xor", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"), .. options]);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }

    [Fact]
    public void TheRunningExampleNeedsOneInputAndOneTarget()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--data", "xor", "--network", "running-example", "--device", "cpu", "--model", cli.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("--network running-example takes 1 input and gives 1 output, but the data has 2 features and 1 target per row", err);
    }

    [Fact]
    public void TheStepIsForcedOrRefusedByName()
    {
        using var cli = new CliRunner();
        string Xor(string restarts, params string[] step) =>
            cli.Ok(["train", "--data", "xor", "--hidden", "2", "--restarts", restarts, "--epochs", "2", .. step, "--device", "cpu",
                "--model", cli.File($"{restarts}{string.Concat(step)}.safetensors")]);
        Assert.Contains("step: per-restart (as asked; restart shape 2-2-1)", Xor("1", "--step", "per-restart"));
        Assert.Contains("step: layered (as asked)", Xor("50", "--step", "layered"));
        Assert.Contains("step: fused (as asked)", Xor("50", "--step", "fused"));
        Assert.Contains("step: per-restart (50 restarts of a network that fits restart shape 2-2-1", Xor("50"));
        Assert.Contains("step: fused (6 launches a step, the element-wise work inside the GEMMs)\n", Xor("1"));
        var (code, _, err) = cli.Run("train", "--data", "digits", "--step", "per-restart", "--device", "cpu", "--model", cli.File("c.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--step per-restart: the per-restart step cannot run this network: no restart shape holds a 64-64-10 network", err);
    }

    [Fact]
    public void OneHundredThousandRestartsOfXorRunAndAreCounted()
    {
        using var cli = new CliRunner();
        var json = cli.Json("train", "--data", "xor", "--hidden", "2,2", "--restarts", "100000", "--device", "cpu", "--model", cli.File("m.safetensors"));
        Assert.Equal("per-restart", json.GetProperty("step").GetString());
        Assert.Equal(100_000, json.GetProperty("restarts").GetInt32());
        var outcome = json.GetProperty("restart_outcome");
        Assert.Equal(0.001, outcome.GetProperty("threshold").GetDouble());
        Assert.Equal(100_000, outcome.GetProperty("restarts").GetInt32());
        int reached = outcome.GetProperty("reached").GetInt32(), diverged = outcome.GetProperty("diverged").GetInt32();
        var losses = json.GetProperty("restart_train_losses").EnumerateArray().Select(l => l.ValueKind == JsonValueKind.Null ? double.NaN : l.GetDouble()).ToArray();
        Assert.Equal(losses.Count(l => l < 0.001), reached);
        Assert.Equal(losses.Count(l => !double.IsFinite(l)), diverged);
        int inDecades = outcome.GetProperty("decades").EnumerateArray().Sum(d => d.GetProperty("restarts").GetInt32());
        Assert.Equal(100_000 - diverged, inDecades);
        var finite = losses.Where(double.IsFinite).Order().ToArray();
        Assert.Equal(finite[(int)Math.Ceiling(0.5 * finite.Length) - 1], outcome.GetProperty("median").GetDouble());
        Assert.Equal(finite[0], outcome.GetProperty("min").GetDouble());
    }

    [Fact]
    public void AnInterruptedRunWithThisStepResumesToTheSameModel()
    {
        using var cli = new CliRunner();
        string data = Xor1D(cli);
        string[] Run(string model, params string[] extra) =>
        [
            "train", "--data", data, "--network", "running-example", "--restarts", "64", "--step", "per-restart", "--epochs", "12", "--batch", "1",
            "--lr", "0.05", "--lr-schedule", "cosine", "--seed", "2", "--device", "cpu", "--model", cli.File(model), "--metrics", cli.File(model + ".csv"), .. extra,
        ];
        cli.Ok(Run("straight.safetensors"));
        string ckpt = cli.File("ckpt");
        using var cancel = new CancellationTokenSource();
        var o = new CheckpointTests.CancelAtEpochLine(5, cancel);
        int code = CommandLine.Run(Run("resumed.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "2"), o, new StringWriter(), cancel.Token);
        Assert.Equal(130, code);
        Assert.Contains("interrupted after 5 epochs", o.ToString());
        string resumed = cli.Ok("train", "--resume", ckpt);
        Assert.Contains("step: per-restart", resumed);
        Assert.Equal(File.ReadAllBytes(cli.File("straight.safetensors")), File.ReadAllBytes(cli.File("resumed.safetensors")));
        string[] Losses(string f) => File.ReadAllLines(cli.File(f)).Select(l => string.Join(",", l.Split(',').Take(6))).ToArray();
        Assert.Equal(Losses("straight.safetensors.csv"), Losses("resumed.safetensors.csv"));
    }
}
