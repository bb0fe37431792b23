using System.Diagnostics;
using System.Text.Json;
using GpuNet.Cli;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>Mistakes on the command line are refused before any data is loaded or anything is written: exit 2, one line
/// that names the option and the value, and every file on disk as it was.</summary>
public class OptionCheckTests
{
    /// <summary>Expects a usage error: exit 2, one line naming <paramref name="expected"/>, nothing on stdout.</summary>
    private static string Refused(CliRunner cli, string[] args, params string[] expected)
    {
        var (code, output, err) = cli.Run(args);
        Assert.True(code == 2, $"gpunet {string.Join(' ', args)} exited {code}: {err}");
        Assert.StartsWith("gpunet: ", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", output);
        foreach (var e in expected) Assert.Contains(e, err);
        return err;
    }

    private static string TrainXor(CliRunner cli, string name, params string[] extra)
    {
        string model = cli.File(name);
        cli.Ok(["train", "--data", "xor", "--hidden", "2", "--epochs", "2", "--batch", "4", "--device", "cpu", "--model", model, .. extra]);
        return model;
    }

    [Fact]
    public void AValueOptionDoesNotTakeTheNextOptionAsItsValue()
    {
        using var cli = new CliRunner();
        Refused(cli, ["train", "--data", "xor", "--model", "--json"], "--model needs a value; got the option --json");
        Refused(cli, ["predict", "--model", cli.File("m.safetensors"), "--input", cli.File("in.csv"), "--output", "--labels"],
            "--output needs a value; got the option --labels");
        Assert.False(File.Exists("--json"));
        Assert.False(File.Exists("--labels"));
        // a negative number is a value, not an option: it reaches the range check
        Refused(cli, ["train", "--data", "xor", "--seed", "-1", "--model", cli.File("m.safetensors")], "--seed: -1 is out of range");
        Assert.Empty(cli.Dir.Names());
    }

    [Theory]
    [InlineData("--epochs", "1", "--epochs", "2")]
    [InlineData("--epochs=1", "--epochs", "2")]
    [InlineData("--json", "--json")]
    public void AnOptionGivenTwiceIsAUsageError(params string[] twice)
    {
        using var cli = new CliRunner();
        Refused(cli, ["train", "--data", "xor", "--model", cli.File("m.safetensors"), .. twice], $"{twice[0].Split('=')[0]} is given twice");
        Assert.Empty(cli.Dir.Names());
    }

    [Theory]
    [InlineData("--lr", "1e40", "is too large for single precision")]
    [InlineData("--lr", "1e-50", "becomes 0 in single precision")]
    [InlineData("--weight-decay", "1e40", "is too large for single precision")]
    [InlineData("--momentum", "0.999999999", "becomes 1 in single precision")]
    public void NumbersThatSinglePrecisionCannotHoldAreUsageErrors(string option, string value, string says)
    {
        using var cli = new CliRunner();
        Refused(cli, ["train", "--data", "xor", "--optimizer", "momentum", "--model", cli.File("m.safetensors"), option, value],
            $"{option}: {value} {says}");
        Assert.Empty(cli.Dir.Names());
    }

    [Fact]
    public void ResumeTakesTheEqualsFormOfItsOptions()
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        string model = TrainXor(cli, "m.safetensors", "--checkpoint", ckpt);
        File.Delete(model);
        // the run was started with --device cpu: given again, it replaces that one rather than being given twice
        var json = cli.Json("train", $"--resume={ckpt}", "--device=cpu");
        Assert.Equal(model, json.GetProperty("model").GetString());
        Assert.True(File.Exists(model));
        Refused(cli, ["train", $"--resume={ckpt}", "--epochs=3"], "only --device and --json may be added");
    }

    [Fact]
    public void UsageWithoutACommandGoesToStderrAndSaysWhichCommandsTakeDevice()
    {
        using var cli = new CliRunner();
        var (code, output, err) = cli.Run();
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("usage: gpunet <command>", err);
        Assert.Contains("train, eval and predict take --device", err);
        var help = cli.Ok("--help");
        Assert.Contains("usage: gpunet <command>", help);
        // devices lists every device; it takes no --device, and says so
        Refused(cli, ["devices", "--device", "cpu"], "unknown option --device for 'gpunet devices'");
    }

    [Fact]
    public void AnIntegerOutOfRangeSaysSoAndGivesTheRange()
    {
        using var cli = new CliRunner();
        Refused(cli, ["train", "--data", "xor", "--model", cli.File("m.safetensors"), "--epochs", "99999999999"],
            "--epochs: 99999999999 is out of range (it must be in [1, 2147483647])");
        Refused(cli, ["train", "--data", "xor", "--model", cli.File("m.safetensors"), "--epochs", "-5"], "--epochs: -5 is out of range (it must be ≥ 1)");
        Assert.Empty(cli.Dir.Names());
    }
}
