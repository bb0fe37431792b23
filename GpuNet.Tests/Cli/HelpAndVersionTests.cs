using GpuNet.Cli;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>gpunet --version, gpunet help [COMMAND] and COMMAND --help.</summary>
public class HelpAndVersionTests
{
    [Theory]
    [InlineData("devices", "usage: gpunet devices [--json]")]
    [InlineData("train", "usage: gpunet train [options]")]
    [InlineData("eval", "usage: gpunet eval --model FILE --data SPEC")]
    [InlineData("predict", "usage: gpunet predict --model FILE --input FILE.csv")]
    [InlineData("gradcheck", "usage: gpunet gradcheck --model FILE --data SPEC")]
    [InlineData("export", "usage: gpunet export --onnx FILE --model FILE")]
    public void HelpOfACommandIsItsOwnHelpOnStdout(string command, string firstLine)
    {
        using var cli = new CliRunner();
        var help = cli.Run("help", command);
        Assert.Equal(0, help.Code);
        Assert.Equal("", help.Err);
        Assert.StartsWith(firstLine, help.Out);
        Assert.EndsWith("\n", help.Out);
        Assert.Equal(help, cli.Run(command, "--help"));
        Assert.Equal(help, cli.Run(command, "-h"));
        Assert.Contains($"  {command} ", cli.Ok("help")); // the overview lists it
    }

    [Fact]
    public void HelpWithoutACommandIsTheOverviewAndAnUnknownOneIsAMistake()
    {
        using var cli = new CliRunner();
        Assert.Equal((0, CommandLine.Usage, ""), cli.Run("help"));
        Assert.Equal((0, CommandLine.Usage, ""), cli.Run("--help"));
        Assert.EndsWith("errors)\n", CommandLine.Usage); // a newline after the last line, as every help has
        Assert.Equal((2, "", "gpunet: unknown command 'nosuch': use devices, train, eval, predict, gradcheck or export (gpunet help lists them)\n"),
            cli.Run("help", "nosuch"));
        Assert.Equal(2, cli.Run("nosuch").Code);
    }

    [Fact]
    public void VersionNamesGpunetIlgpuAndDotnet()
    {
        using var cli = new CliRunner();
        string line = cli.Ok("--version");
        Assert.Matches(@"^gpunet \d+\.\d+\.\d+(-[0-9A-Za-z.]+)?(\+[0-9a-f]{7})? \(ILGPU 1\.5\.3, \.NET \d+\.\d+\.\d+\)\n$", line);
        Assert.StartsWith($"gpunet {VersionText.Package}", line);
        Assert.Equal(line, cli.Ok("-V"));
    }

    [Fact]
    public void StatedDefaultsAreTheOnesInForce()
    {
        Assert.Contains("(default 1e-4:", GradCheckCommand.Help);
        Assert.Equal(1e-4, GradientCheckOptions.DeviceTolerance);
        Assert.Contains($"opset {OnnxExport.Opset})", ExportCommand.Help);
        Assert.Contains("opset 17", ExportCommand.Help);
    }

    /// <summary>The defaults <c>gpunet train --help</c> states are the library's: <c>new TrainOptions()</c>, which the
    /// command starts from.</summary>
    [Fact]
    public void TheTrainHelpStatesTheLibrarysDefaults()
    {
        var d = new TrainOptions();
        string Line(string option) =>
            TrainCommand.Help.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(option + " ", StringComparison.Ordinal));
        string Text(float v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"{d.Optimizer.Kind.ToString().ToLowerInvariant()} (default)", Line("--optimizer"));
        Assert.Contains($"(default {Text(OptimizerOptions.Adam().DefaultLearningRate)} for adam, {Text(OptimizerOptions.Sgd().DefaultLearningRate)} otherwise)", Line("--lr"));
        Assert.Contains($"(default {Text(d.Optimizer.Momentum)})", Line("--momentum"));
        Assert.Contains($"(default {Text(d.Optimizer.WeightDecay)})", Line("--weight-decay"));
        Assert.Contains($"{d.Schedule.Name} (default)", Line("--lr-schedule"));
        Assert.Contains($"(default {d.BatchSize};", Line("--batch"));
        Assert.Contains($"(default {d.Epochs})", Line("--epochs"));
        Assert.Contains($"(default {d.ShuffleSeed})", Line("--seed"));
        Assert.Contains($"(default {d.ValidationFraction})", Line("--validation"));
        Assert.Contains($"{d.Step.Name()} (default", Line("--step"));
        Assert.True(d.Shuffle, "the help offers --no-shuffle, so shuffling is the default");
        Assert.False(d.Standardize, "the help offers --standardize, so scaling is off by default");
    }
}
