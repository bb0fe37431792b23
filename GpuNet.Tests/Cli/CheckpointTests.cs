using System.Diagnostics;
using GpuNet.Cli;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>Interrupted runs, resumed from their checkpoints, end with the same model file, bit for bit, as runs that
/// were never interrupted (on the CPU accelerator, whose kernels are deterministic).</summary>
public class CheckpointTests
{
    private static string[] Run(string dir, string model, params string[] extra) =>
    [
        "train", "--data", "sine", "--hidden", "16", "--activation", "tanh", "--epochs", "25", "--batch", "8", "--lr", "0.01",
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

    private static void AssertSameRun(CliRunner cli, string a, string b)
    {
        Assert.Equal(File.ReadAllBytes(cli.File(a)), File.ReadAllBytes(cli.File(b)));
        // the per-epoch losses and accuracies too (the timing columns differ, of course)
        static string[] Losses(string f) => File.ReadAllLines(f).Select(l => string.Join(",", l.Split(',').Take(6))).ToArray();
        Assert.Equal(Losses(cli.File(a + ".csv")), Losses(cli.File(b + ".csv")));
    }

    [Fact]
    public void InterruptedInProcessThenResumedGivesTheSameModel()
    {
        using var cli = new CliRunner();
        cli.Ok(Run(cli.Dir.Path, "straight.safetensors"));
        var rng = new Random(11);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            string ckpt = cli.File($"ckpt{attempt}");
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300 + rng.Next(1500)));
            var o = new StringWriter();
            var e = new StringWriter();
            int code = CommandLine.Run(Run(cli.Dir.Path, $"resumed{attempt}.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "3"), o, e, cancel.Token);
            if (code == 130)
            {
                Assert.Contains($"resume with: gpunet train --resume {ckpt}", o.ToString());
                Assert.False(File.Exists(cli.File($"resumed{attempt}.safetensors")), "an interrupted run must not write the model");
                cli.Ok("train", "--resume", ckpt);
            }
            else Assert.Equal(0, code);
            AssertSameRun(cli, "straight.safetensors", $"resumed{attempt}.safetensors");
        }
    }

    [Fact]
    public void KilledProcessResumesToTheSameModel()
    {
        using var cli = new CliRunner();
        cli.Ok(Run(cli.Dir.Path, "straight.safetensors"));
        string ckpt = cli.File("ckpt");
        using (var p = StartGpunet(Run(cli.Dir.Path, "killed.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "1"), _ => { }))
        {
            var clock = Stopwatch.StartNew();
            while (!p.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60)
                   && !(Directory.Exists(ckpt) && Directory.EnumerateFiles(ckpt, "checkpoint-*.safetensors").Any()))
                Thread.Sleep(20);
            Thread.Sleep(new Random(3).Next(400)); // somewhere in the middle of an epoch or a checkpoint write
            if (!p.HasExited) p.Kill(entireProcessTree: true); // SIGKILL: no chance to clean up
            p.WaitForExit();
        }
        Assert.False(File.Exists(cli.File("killed.safetensors")) && !Directory.EnumerateFiles(ckpt).Any(), "the run finished before a checkpoint");
        cli.Ok("train", "--resume", ckpt);
        AssertSameRun(cli, "straight.safetensors", "killed.safetensors");
    }

    [Fact]
    public void CtrlCInTheRealProcessWritesACheckpointAndSaysHowToResume()
    {
        using var cli = new CliRunner();
        cli.Ok(Run(cli.Dir.Path, "straight.safetensors"));
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
        cli.Ok("train", "--resume", dir);
        AssertSameRun(cli, "straight.safetensors", "sigint.safetensors");
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
