using GpuNet.Model;
using GpuNet.Training;
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
    private const string XorCsv = "0,0,0\n0,1,1\n1,0,1\n1,1,0\n";

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

    [Theory]
    [InlineData("--metrics", "data.csv", "--data csv")]
    [InlineData("--model", "data.csv", "--data csv")]
    [InlineData("--plot", "test.csv", "--data test=")]
    [InlineData("--model", "test.csv", "--data test=")]
    [InlineData("--metrics", "m.safetensors", "--model")]
    [InlineData("--plot", "m.safetensors", "--model")]
    [InlineData("--checkpoint", "m.safetensors", "--model")]
    [InlineData("--plot", "./sub/../m.csv", "--metrics")]
    public void TrainRefusesOutputsThatWouldOverwriteAnInputOrEachOther(string option, string file, string other)
    {
        using var cli = new CliRunner();
        Directory.CreateDirectory(cli.File("sub"));
        string data = cli.Dir.WriteText("data.csv", XorCsv), test = cli.Dir.WriteText("test.csv", XorCsv);
        var outputs = new Dictionary<string, string> { ["--model"] = cli.File("m.safetensors"), ["--metrics"] = cli.File("m.csv") };
        outputs[option] = Path.Combine(cli.Dir.Path, file);
        Refused(cli, ["train", "--data", $"csv:{data},test={test}", "--epochs", "1", "--device", "cpu", .. outputs.SelectMany(o => new[] { o.Key, o.Value })],
            option, other);
        Assert.Equal(XorCsv, File.ReadAllText(data));
        Assert.Equal(XorCsv, File.ReadAllText(test));
        Assert.Equal(["data.csv", "test.csv"], cli.Dir.Names());
    }

    [Fact]
    public void TrainRefusesMetricsOverItsInitFileButMayWriteTheModelOverIt()
    {
        using var cli = new CliRunner();
        string model = TrainXor(cli, "m.safetensors");
        var before = File.ReadAllBytes(model);
        Refused(cli, ["train", "--data", "xor", "--init", model, "--model", cli.File("n.safetensors"), "--metrics", model], "--metrics", "--init");
        Assert.Equal(before, File.ReadAllBytes(model));
        // continuing a model in place is what --init and --model on one file are for
        cli.Ok("train", "--data", "xor", "--init", model, "--model", model, "--epochs", "1", "--lr", "0.1", "--device", "cpu");
        Assert.NotEqual(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void PredictRefusesAnOutputThatWouldOverwriteTheModelOrTheInput()
    {
        using var cli = new CliRunner();
        string model = TrainXor(cli, "m.safetensors");
        string input = cli.Dir.WriteText("in.csv", "0,1\n1,1\n");
        var modelBytes = File.ReadAllBytes(model);
        Refused(cli, ["predict", "--model", model, "--input", input, "--output", model], "--output", "--model");
        Refused(cli, ["predict", "--model", model, "--input", input, "--output", input], "--output", "--input");
        Assert.Equal(modelBytes, File.ReadAllBytes(model));
        Assert.Equal("0,1\n1,1\n", File.ReadAllText(input));
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

    /// <summary>The data named does not exist: had it been loaded first, that would have been the error (exit 1).</summary>
    [Fact]
    public void OutputsAndInitThatCannotWorkAreRefusedBeforeTheDataIsLoaded()
    {
        using var cli = new CliRunner();
        string folder = cli.File("folder");
        Directory.CreateDirectory(folder);
        string file = cli.Dir.WriteText("file.txt", "keep");
        string[] train = ["train", "--data", $"csv:{cli.File("absent.csv")}", "--device", "cpu"];
        Refused(cli, [.. train, "--model", folder], "--model", folder, "is a folder");
        Refused(cli, [.. train, "--model", cli.File("new") + "/"], "--model", "ends in '/'");
        Refused(cli, [.. train, "--model", cli.File("m.safetensors"), "--metrics", folder], "--metrics", folder, "is a folder");
        Refused(cli, [.. train, "--model", cli.File("m.safetensors"), "--plot", folder], "--plot", folder, "is a folder");
        Refused(cli, [.. train, "--model", cli.File("m.safetensors"), "--checkpoint", file], "--checkpoint", file, "is a file");
        Refused(cli, [.. train, "--model", cli.File("m.safetensors"), "--init", cli.File("absent.safetensors")],
            "--init", "absent.safetensors", "does not exist");
        Refused(cli, [.. train, "--model", cli.File("m.safetensors"), "--init", folder], "--init", "is a folder");
        Refused(cli, [.. train, "--model", cli.File("no-such-folder/m.safetensors")], "--model", "no-such-folder", "does not exist");
        Assert.Equal("keep", File.ReadAllText(file));
        Assert.Equal(["file.txt"], cli.Dir.Names());
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
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

    [Theory]
    [InlineData("parity:0")]
    [InlineData("parity:40")]
    [InlineData("foo")]
    [InlineData("")]
    [InlineData("xor:3")]
    [InlineData("csv:{0},lable=0")]
    [InlineData("csv:{0},task=foo")]
    public void AMalformedDataSpecIsAUsageError(string spec)
    {
        using var cli = new CliRunner();
        string data = cli.Dir.WriteText("d.csv", XorCsv);
        Refused(cli, ["train", "--data", string.Format(spec, data), "--model", cli.File("m.safetensors")], "--data", "Accepted data specs");
        Assert.Equal(["d.csv"], cli.Dir.Names());
    }

    [Fact]
    public void TheDeviceIsCheckedBeforeTheDataIsLoaded()
    {
        using var cli = new CliRunner();
        string[] train = ["train", "--data", $"csv:{cli.File("absent.csv")}", "--model", cli.File("m.safetensors")];
        Refused(cli, [.. train, "--device", "gpu7"], "--device", "gpu7");
        Refused(cli, ["predict", "--model", cli.File("m.safetensors"), "--input", cli.File("in.csv"), "--device", "gpu7"], "--device", "gpu7");
        // a well-formed index that is not there: found when the device is opened, still before the data
        int missing = GpuNet.Devices.Gpu.List().Count;
        var (code, _, err) = cli.Run([.. train, "--device", missing.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.Equal(1, code);
        Assert.Contains($"device index {missing} does not exist", err);
        Assert.DoesNotContain("absent.csv", err);
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
        Refused(cli, ["train", $"--resume={ckpt}", "--lr=0.5"], "--lr 0.5: the run was started without --lr");
    }

    /// <summary>Started in one folder with relative paths, resumed from another: the files are read and written where
    /// the first run would have. Runs the executable, whose working directory can be chosen without disturbing other tests.</summary>
    [Fact]
    public void AResumedRunReadsAndWritesWhereTheRunStarted()
    {
        using var cli = new CliRunner();
        string started = cli.File("started"), elsewhere = cli.File("elsewhere");
        Directory.CreateDirectory(started);
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(started, "xor.csv"), XorCsv);
        Gpunet(started, "train", "--data", "csv:xor.csv,test=xor.csv", "--hidden", "2", "--epochs", "2", "--batch", "4", "--device", "cpu",
            "--model", "rx.safetensors", "--metrics", "rx.csv", "--plot", "rx.png", "--checkpoint", "ck");
        var first = File.ReadAllBytes(Path.Combine(started, "rx.safetensors"));
        foreach (var f in new[] { "rx.safetensors", "rx.csv", "rx.png" }) File.Delete(Path.Combine(started, f));

        Gpunet(elsewhere, "train", "--resume", Path.Combine(started, "ck"));
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(started, "rx.safetensors")));
        Assert.True(File.Exists(Path.Combine(started, "rx.csv")));
        Assert.True(File.Exists(Path.Combine(started, "rx.png")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        // the checkpoint records absolute paths
        var args = CheckpointFolder.Resolve(Path.Combine(started, "ck")).Strings("cli_args")!;
        Assert.Contains($"--data=csv:{Path.Combine(started, "xor.csv")},test={Path.Combine(started, "xor.csv")}", args);
        Assert.Contains($"--checkpoint={Path.Combine(started, "ck")}", args);
        // while the model records the data as typed: the same command in another folder writes the same model file
        Assert.Equal("csv:xor.csv,test=xor.csv", ModelFile.Read(Path.Combine(started, "rx.safetensors")).Info.Training["data"]);
    }

    [Fact]
    public void ACheckpointWithMalformedArgumentsIsAClearError()
    {
        using var cli = new CliRunner();
        string ck = cli.File("ck");
        cli.Ok("train", "--data", "xor", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"), "--checkpoint", ck);
        var saved = CheckpointFolder.Resolve(ck);
        foreach (var bad in new[] { "{\"a\":1}", "[1,2]", "[\"train\",null]", "not json" })
        {
            var m = new Dictionary<string, string>(saved.Metadata) { ["cli_args"] = bad };
            Checkpoint.Save(ck, saved.RunId, saved.State, m);
            var (code, _, err) = cli.Run("train", "--resume", ck);
            Assert.Equal(1, code);
            Assert.StartsWith("gpunet: error: checkpoint '", err);
            Assert.DoesNotContain("   at ", err);
            Assert.DoesNotContain("System.", err); // no .NET type names ("could not be converted to System.String")
        }
    }

    private static void Gpunet(string workingDirectory, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpunet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"gpunet {string.Join(' ', args)} in {workingDirectory} exited {p.ExitCode}: {err}{output.Result}");
    }

    [Fact]
    public void OptionsThatWouldBeIgnoredOrDoNothingAreUsageErrors()
    {
        using var cli = new CliRunner();
        string model = TrainXor(cli, "m.safetensors");
        string[] train = ["train", "--data", "xor", "--model", cli.File("n.safetensors")];
        Refused(cli, [.. train, "--hidden", ""], "--hidden", "none");
        Refused(cli, [.. train, "--init", model, "--hidden", "8"], "--hidden", "--init");
        Refused(cli, [.. train, "--init", model, "--activation", "tanh"], "--activation", "--init");
        Refused(cli, [.. train, "--init", model, "--output", "logistic"], "--output", "--init");
        Refused(cli, [.. train, "--data-dir", cli.File("absent")], "--data-dir", cli.File("absent"), "does not exist");
        Refused(cli, [.. train, "--checkpoint", cli.File("ck"), "--checkpoint-every", "0"], "--checkpoint-every: 0 is out of range");
        Refused(cli, [.. train, "--checkpoint-every", "2"], "--checkpoint-every needs --checkpoint");
        Assert.Equal(["m.safetensors"], cli.Dir.Names());
    }

    [Fact]
    public void UsageWithoutACommandGoesToStderrAndSaysWhichCommandsTakeDevice()
    {
        using var cli = new CliRunner();
        var (code, output, err) = cli.Run();
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("usage: gpunet <command>", err);
        Assert.Contains("train, eval, predict and gradcheck take --device", err);
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

    [Fact]
    public void TooManyParametersIsAnErrorOfHidden()
    {
        using var cli = new CliRunner();
        // too many between the hidden layers: refused before the data is loaded ...
        Refused(cli, ["train", "--data", $"csv:{cli.File("absent.csv")}", "--model", cli.File("m.safetensors"), "--hidden", "200000,20000"],
            "--hidden 200000,20000", "parameters");
        // ... and with the input layer, once the data says how wide that is
        var (code, output, err) = cli.Run("train", "--data", "xor", "--model", cli.File("m.safetensors"), "--hidden", "1000000000");
        Assert.Equal(2, code);
        Assert.StartsWith("data: xor", output);
        Assert.Contains("--hidden 1000000000: network has 4000000001 parameters; at most 2147483647 are supported; use smaller layers", err);
        Assert.Empty(cli.Dir.Names());
    }

    [Fact]
    public void CountsOfOneAreSingular()
    {
        using var cli = new CliRunner();
        string xor = TrainXor(cli, "x.safetensors");
        var (code, _, err) = cli.Run("train", "--data", "sine", "--init", xor, "--model", cli.File("s.safetensors"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains("takes 2 inputs but the data has 1 feature per row", err);
    }

    [Fact]
    public void PredictChecksTheOutputFolderBeforePredicting()
    {
        using var cli = new CliRunner();
        string model = TrainXor(cli, "m.safetensors");
        string input = cli.Dir.WriteText("in.csv", "0,1\n1,1\n");
        Refused(cli, ["predict", "--model", model, "--input", input, "--output", cli.File("absent/out.csv")], "--output", cli.File("absent"), "does not exist");
        Directory.CreateDirectory(cli.File("folder"));
        Refused(cli, ["predict", "--model", model, "--input", input, "--output", cli.File("folder")], "--output", "is a folder");
        Assert.Equal(["in.csv", "m.safetensors"], cli.Dir.Names());
        Assert.Empty(Directory.EnumerateFileSystemEntries(cli.File("folder")));
        cli.Ok("predict", "--model", model, "--input", input, "--output", cli.File("out.csv"));
        Assert.Equal(3, File.ReadAllLines(cli.File("out.csv")).Length);
    }
}
