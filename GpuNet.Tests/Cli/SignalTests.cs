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

    /// <summary>Far more epochs than a test waits for: the run cannot end before it is signalled, however fast or
    /// loaded the machine, and a run that ignores the signal fails the test by not exiting.</summary>
    private const int Endless = 100_000;

    /// <summary>SIGTERM twice back to back, as <c>timeout</c> sends it (to its child, then to the child's process group):
    /// one request, so the run stops after the current step with a checkpoint and exit 143.</summary>
    [Fact]
    public void SigtermWritesACheckpointPrintsTheResumeLineAndExits143()
    {
        using var cli = new CliRunner();
        using var p = new GpunetProcess(Sine(cli.Dir.Path, "m.safetensors", Endless));
        Assert.True(p.WaitFor("epoch 2/"), "the run ended before it could be stopped: " + p.Output + p.Errors);
        p.Signal(GpunetProcess.SigTerm, times: 2);
        Assert.Equal(143, p.Exit());
        Assert.Contains("terminated (SIGTERM): stopping after the current step", p.Errors);
        Assert.DoesNotContain("quitting at once", p.Errors);
        string dir = cli.File("m.checkpoint");
        Assert.Contains($"resume with: gpunet train --resume {dir}", p.Output);
        Assert.NotEmpty(Directory.GetFiles(dir, "checkpoint-*.safetensors"));
        Assert.False(File.Exists(cli.File("m.safetensors")));
    }

    /// <summary>SIGTERM, then Ctrl-C microseconds later: a second request (a different signal is never an echo of the
    /// first), so the run quits at once, wherever the first one found it (before the first step, inside it, or in the
    /// checkpoint written after it: a step of this network takes seconds), and leaves no file at all. The runtime hands
    /// each signal to its own thread-pool thread, so two signals this close may be handled in either order: the one
    /// handled first asks the run to stop, and the exit code is that of the other, the one that quit it.</summary>
    [Fact]
    public void ASecondSignalQuitsAtOnceAndLeavesNoPartialFile()
    {
        using var cli = new CliRunner();
        using var p = new GpunetProcess("train", "--hidden", "3000", "--batch", "2000", "--epochs", "50", "--device", "cpu",
            "--model", cli.File("m.safetensors"));
        Assert.True(p.WaitFor("step: "), "the run ended before it could be stopped: " + p.Output + p.Errors);
        p.Signal(GpunetProcess.SigTerm);
        p.Signal(GpunetProcess.SigInt);
        int exit = p.Exit();
        string errors = p.Errors;
        bool termFirst = errors.Contains("terminated (SIGTERM): stopping after the current step", StringComparison.Ordinal);
        bool intFirst = errors.Contains("interrupted: stopping after the current step", StringComparison.Ordinal);
        Assert.True(termFirst != intFirst, "exactly one signal must have asked the run to stop: " + p.Output + errors);
        Assert.True(exit == (termFirst ? 130 : 143), $"exit {exit}: " + p.Output + errors); // 128 + the signal that quit it
        Assert.Single(errors.Split('\n'), line => line == "quitting at once");
        Assert.DoesNotContain("resume with", p.Output);
        Assert.Empty(Directory.GetFiles(cli.Dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void ADifferentSignalRightAfterTheFirstQuitsAtOnce()
    {
        var stderr = new StringWriter();
        int? quit = null;
        var now = TimeSpan.Zero;
        using var interrupts = new Interrupts(stderr, code => quit = code, () => now, register: false);
        interrupts.Receive(15);
        Assert.True(interrupts.Token.IsCancellationRequested);
        now += TimeSpan.FromMilliseconds(1);
        interrupts.Receive(15); // timeout's second copy
        Assert.Null(quit);
        interrupts.Receive(2); // Ctrl-C: another request, however soon
        Assert.Equal(130, quit);
        Assert.Equal(143, interrupts.ExitCode);
    }

    [Fact]
    public void TheSameSignalAgainLaterQuitsAtOnce()
    {
        int? quit = null;
        var now = TimeSpan.FromSeconds(3);
        using var interrupts = new Interrupts(new StringWriter(), code => quit = code, () => now, register: false);
        interrupts.Receive(2);
        now += Interrupts.Echo;
        interrupts.Receive(2);
        Assert.Equal(130, quit);
        Assert.Equal(130, interrupts.ExitCode);
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
