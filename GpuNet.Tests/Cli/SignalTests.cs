using GpuNet.Cli;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>SIGTERM (timeout, docker stop, Kubernetes, Slurm) is Ctrl-C's twin; a second signal quits at once, leaving no
/// partial file; a Ctrl-C during the final evaluation stops the run there, as between steps.</summary>
public class SignalTests
{
    private static string[] Sine(string dir, string model, int epochs) =>
        ["train", "--data", "sine", "--hidden", "16", "--epochs", $"{epochs}", "--batch", "4", "--seed", "3", "--device", "cpu",
         "--model", Path.Combine(dir, model)];

    /// <summary>SIGTERM once, or twice at once as timeout(1) sends it (to the process, then to its process group): one
    /// request to stop, not a second one to quit.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SigtermWritesACheckpointPrintsTheResumeLineAndExits143(int times)
    {
        using var cli = new CliRunner();
        using var p = new GpunetProcess(Sine(cli.Dir.Path, "m.safetensors", 500));
        Assert.True(p.WaitFor("epoch 2/"), "the run ended before it could be stopped: " + p.Output + p.Errors);
        for (int i = 0; i < times; i++) p.Signal("TERM");
        Assert.Equal(143, p.Exit());
        Assert.Contains("terminated (SIGTERM): stopping after the current step", p.Errors);
        Assert.DoesNotContain("quitting at once", p.Errors);
        string dir = cli.File("m.checkpoint");
        Assert.Contains($"resume with: gpunet train --resume {dir}", p.Output);
        Assert.NotEmpty(Directory.GetFiles(dir, "checkpoint-*.safetensors"));
        Assert.False(File.Exists(cli.File("m.safetensors")));
    }

    [Fact]
    public void ASecondSignalQuitsAtOnceAndLeavesNoPartialFile()
    {
        using var cli = new CliRunner();
        // One step of a wide network on all 1347 rows (an epoch) takes seconds: once the first has ended, both signals
        // land inside the second, however loaded the machine (before the first step, the first signal alone would
        // stop the run at once).
        using var p = new GpunetProcess("train", "--hidden", "3000", "--batch", "2000", "--epochs", "50", "--device", "cpu",
            "--model", cli.File("m.safetensors"));
        Assert.True(p.WaitFor("epoch 1/"), "the run ended before it could be stopped: " + p.Output + p.Errors);
        p.Signal("TERM");
        p.Signal("INT");
        Assert.Equal(130, p.Exit()); // 128 + SIGINT, the signal that quit it
        Assert.Contains("quitting at once", p.Errors);
        Assert.DoesNotContain("resume with", p.Output);
        Assert.Empty(Directory.GetFiles(cli.Dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void AbandoningAWriteUnderWayLeavesTheTargetAsItWasAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        string target = dir.File("model.safetensors");
        File.WriteAllText(target, "old");
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var writer = Task.Run(() => AtomicFile.Write(target, s =>
        {
            s.Write(new byte[1000]);
            inside.Set();
            release.Wait();
        }));
        Assert.True(inside.Wait(10_000));
        AtomicFile.AbandonWrites();
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        release.Set();
        Assert.ThrowsAny<IOException>(() => writer.GetAwaiter().GetResult());
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    /// <summary>Cancels its token when the last epoch's line is written: a Ctrl-C that lands in the final evaluation.</summary>
    private sealed class CancelAt(string text, CancellationTokenSource cancel) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value != null && value.StartsWith(text, StringComparison.Ordinal)) cancel.Cancel();
        }
    }

    [Fact]
    public void ACtrlCDuringTheFinalEvaluationStopsTheRunWithACheckpointThatResumesToTheSameModel()
    {
        using var cli = new CliRunner();
        using var cancel = new CancellationTokenSource();
        var stdout = new CancelAt("epoch 3/3", cancel);
        var stderr = new StringWriter();
        int code = CommandLine.Run(Sine(cli.Dir.Path, "m.safetensors", 3), stdout, stderr, cancel.Token);
        Assert.True(code == CommandLine.Interrupted, stderr.ToString());
        Assert.Contains("interrupted after 3 epochs and 0 rows of the next", stdout.ToString());
        Assert.False(File.Exists(cli.File("m.safetensors")));
        string resumed = cli.Ok("train", "--resume", cli.File("m.checkpoint"));
        Assert.Contains("; resumed after 3 epochs, 0 steps this time", resumed); // the summary counts the whole run
        cli.Ok(Sine(cli.Dir.Path, "straight.safetensors", 3));
        Assert.Equal(File.ReadAllBytes(cli.File("straight.safetensors")), File.ReadAllBytes(cli.File("m.safetensors")));
    }

    [Fact]
    public void OneEpochIsOneEpochAndTheSeedIsPrintedAndInTheJson()
    {
        using var cli = new CliRunner();
        string text = cli.Ok(Sine(cli.Dir.Path, "one.safetensors", 1));
        Assert.Contains("trained 1 epoch (", text);
        Assert.Contains("; seed 3", text);
        var json = cli.Json(Sine(cli.Dir.Path, "two.safetensors", 1));
        Assert.Equal(3, json.GetProperty("seed").GetInt64());
        Assert.Equal("fused", json.GetProperty("step").GetString());
    }
}
