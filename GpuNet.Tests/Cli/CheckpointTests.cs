using System.Diagnostics;
using GpuNet.Cli;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>Interrupted runs, resumed from their checkpoints, end with the same model file, bit for bit, as runs that
/// were never interrupted (on the CPU accelerator, whose kernels are deterministic).</summary>
public class CheckpointTests(CheckpointTests.StraightRun straight) : IClassFixture<CheckpointTests.StraightRun>
{
    /// <summary>The run every test compares with, never interrupted: made once for the class (the model file does not
    /// record its own path, so one straight run serves every test).</summary>
    public sealed class StraightRun : IDisposable
    {
        private readonly CliRunner cli = new();

        public StraightRun()
        {
            StepsPerEpoch = Steps(cli.Ok(Run(cli.Dir.Path, "straight.safetensors"))) / Epochs;
            Model = File.ReadAllBytes(cli.File("straight.safetensors"));
            Losses = LossColumns(cli.File("straight.safetensors.csv"));
        }

        public long StepsPerEpoch { get; }
        public byte[] Model { get; }
        public string[] Losses { get; }

        public void Dispose() => cli.Dispose();
    }

    private const int Epochs = 25, Batch = 8;

    internal static string[] Run(string dir, string model, params string[] extra) =>
    [
        "train", "--data", "sine", "--hidden", "16", "--activation", "tanh", "--epochs", $"{Epochs}", "--batch", $"{Batch}", "--lr", "0.01",
        "--restarts", "2", "--validation", "0.2", "--lr-schedule", "cosine", "--seed", "5", "--device", "cpu",
        "--model", Path.Combine(dir, model), "--metrics", Path.Combine(dir, model + ".csv"), .. extra,
    ];

    /// <summary>Starts the built gpunet executable (the test's copy) with <paramref name="args"/>, passing each stdout line on.</summary>
    private static Process StartGpunet(string[] args, Action<string?> onLine)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpunet.dll"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => onLine(e.Data);
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>The steps a run's summary says it took (this run's own: a resumed run counts from where it resumed).</summary>
    private static long Steps(string summary)
    {
        var m = System.Text.RegularExpressions.Regex.Match(summary, $@"trained {Epochs} epochs \((\d+) steps\)");
        Assert.True(m.Success, $"no 'trained {Epochs} epochs (N steps)' line in: {summary}");
        return long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The per-epoch losses and accuracies of a metrics file (the timing columns differ, of course).</summary>
    private static string[] LossColumns(string metrics) => File.ReadAllLines(metrics).Select(l => string.Join(",", l.Split(',').Take(6))).ToArray();

    private void AssertSameAsStraight(CliRunner cli, string model)
    {
        Assert.Equal(straight.Model, File.ReadAllBytes(cli.File(model)));
        Assert.Equal(straight.Losses, LossColumns(cli.File(model + ".csv")));
    }

    /// <summary>Collects stdout and cancels the run once it prints the progress line of a given epoch: the run then stops
    /// before the next step, at the same point on any machine.</summary>
    internal sealed class CancelAtEpochLine(int epoch, CancellationTokenSource cancel) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value != null && value.StartsWith($"epoch {epoch}/", StringComparison.Ordinal)) cancel.Cancel();
        }
    }

    /// <summary>Interrupted at epoch 2 (before the first periodic checkpoint, so only the interrupt's own one exists), at
    /// epoch 4 (between periodic checkpoints) and at epoch 6 (just after one): each resumed run ends as the straight one.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void InterruptedInProcessThenResumedGivesTheSameModel(int epoch)
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        using var cancel = new CancellationTokenSource();
        var o = new CancelAtEpochLine(epoch, cancel);
        var e = new StringWriter();
        int code = CommandLine.Run(Run(cli.Dir.Path, "resumed.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "3"), o, e, cancel.Token);
        Assert.True(code == 130, $"exit {code}, expected 130 (interrupted): {e}");
        Assert.Contains($"interrupted after {epoch} epochs and 0 rows of the next", o.ToString());
        Assert.Contains($"resume with: gpunet train --resume {ckpt}", o.ToString());
        Assert.False(File.Exists(cli.File("resumed.safetensors")), "an interrupted run must not write the model");
        string resumed = cli.Ok("train", "--resume", ckpt);
        Assert.Contains($"resuming from {Path.Combine(ckpt, $"checkpoint-e{epoch:D6}-r000000000.safetensors")}", resumed);
        // It continued (a run started over would end with the same model too): only the epochs left were trained.
        Assert.Equal((Epochs - epoch) * straight.StepsPerEpoch, Steps(resumed));
        AssertSameAsStraight(cli, "resumed.safetensors");
    }

    [Fact]
    public void KilledProcessResumesToTheSameModel()
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        // Killed as soon as the checkpoint of epoch 2 is there (they are renamed into place whole), so in epoch 3 or a
        // later checkpoint write, long before the 25 epochs are done.
        string second = Path.Combine(ckpt, "checkpoint-e000002-r000000000.safetensors");
        using (var p = StartGpunet(Run(cli.Dir.Path, "killed.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "1"), _ => { }))
        {
            var clock = Stopwatch.StartNew();
            while (!p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120) && !File.Exists(second))
                Thread.Sleep(20);
            bool killed = !p.HasExited;
            if (killed) p.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
            p.WaitForExit();
            Assert.True(killed, $"the run exited (code {p.ExitCode}) before it could be killed");
        }
        Assert.False(File.Exists(cli.File("killed.safetensors")), "the killed run wrote its model");
        // The resume continues from a checkpoint written before the kill; a run started over would end alike, but it
        // would train every epoch.
        string resumed = cli.Ok("train", "--resume", ckpt);
        var from = System.Text.RegularExpressions.Regex.Match(resumed, @"resuming from .*: (\d+) epochs and 0 rows");
        Assert.True(from.Success, $"no 'resuming from' line in: {resumed}");
        int done = int.Parse(from.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(done, 2, Epochs - 1);
        Assert.Equal((Epochs - done) * straight.StepsPerEpoch, Steps(resumed));
        AssertSameAsStraight(cli, "killed.safetensors");
    }

    [Fact]
    public void CtrlCInTheRealProcessWritesACheckpointAndSaysHowToResume()
    {
        using var cli = new CliRunner();
        var stdout = new System.Text.StringBuilder();
        using var p = StartGpunet(Run(cli.Dir.Path, "sigint.safetensors"), line => { lock (stdout) stdout.AppendLine(line); });
        var clock = Stopwatch.StartNew();
        while (!p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            lock (stdout) if (stdout.ToString().Contains("epoch 2/")) break;
            Thread.Sleep(10);
        }
        Assert.False(p.HasExited, "the run ended before it could be interrupted");
        Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.True(p.WaitForExit(60_000));
        p.WaitForExit();
        string text;
        lock (stdout) text = stdout.ToString();
        Assert.Equal(130, p.ExitCode);
        string dir = cli.File("sigint.checkpoint");
        Assert.Contains($"resume with: gpunet train --resume {dir}", text);
        Assert.False(File.Exists(cli.File("sigint.safetensors")));
        // Wherever the signal landed, the resumed run trains only the steps left.
        var at = System.Text.RegularExpressions.Regex.Match(text, @"interrupted after (\d+) epochs and (\d+) rows of the next");
        Assert.True(at.Success, $"no 'interrupted after' line in: {text}");
        int epochs = int.Parse(at.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int rows = int.Parse(at.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        long stepsDone = epochs * straight.StepsPerEpoch + (rows + Batch - 1) / Batch;
        Assert.Equal(Epochs * straight.StepsPerEpoch - stepsDone, Steps(cli.Ok("train", "--resume", dir)));
        AssertSameAsStraight(cli, "sigint.safetensors");
    }

    [Fact]
    public void ResumeRefusesOtherOptionsAndMissingCheckpoints()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--resume", cli.File("nothing"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", err);
        Directory.CreateDirectory(cli.File("empty"));
        (code, _, err) = cli.Run("train", "--resume", cli.File("empty"));
        Assert.Equal(1, code);
        Assert.Contains("holds no checkpoint", err);
        (code, _, err) = cli.Run("train", "--resume", cli.File("empty"), "--lr", "0.1");
        Assert.Equal(2, code);
        Assert.Contains("only --device", err);
    }
}
