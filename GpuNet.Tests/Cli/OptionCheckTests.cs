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
}
