using System.Diagnostics;
using System.Runtime.InteropServices;
using GpuNet.Distributed;
using GpuNet.Model;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Scale;

/// <summary>The mpirun tests start processes of their own and time them: they run alone, after the others.</summary>
[CollectionDefinition("mpirun", DisableParallelization = true)]
public sealed class MpirunCollection;

/// <summary>
/// <c>mpirun -np 2 gpunet …</c> on this machine's loopback: one model trained data-parallel, the same bits on every
/// run and the same as two replicas in one process, one rank alone printing and writing; a rank asked to stop stops
/// the job after the same step with one checkpoint, which a run under mpirun resumes to the same bits; a killed rank
/// ends the job; ranks that disagree on options or data, or read bad data, are refused before training.
/// </summary>
[Collection("mpirun")]
public class MpiTests(MpiTests.StraightRuns straight) : IClassFixture<MpiTests.StraightRuns>
{
    internal const int Epochs = 20;

    internal static string[] Train(string model, string device = "cpu", int epochs = Epochs, params string[] extra) =>
        ["train", "--data", "digits", "--hidden", "16", "--epochs", $"{epochs}", "--batch", "32", "--seed", "3", "--device", device, "--model", model, .. extra];

    /// <summary>The run every test compares with, twice (a rerun must give the same file), never interrupted.</summary>
    public sealed class StraightRuns : IDisposable
    {
        public StraightRuns()
        {
            (FirstCode, FirstOut, _) = Mpirun.Run(120, 2, Dir.Path, Train("first.safetensors"));
            (SecondCode, _, _) = Mpirun.Run(120, 2, Dir.Path, Train("second.safetensors"));
        }

        public TempDir Dir { get; } = new();
        public int FirstCode { get; }
        public int SecondCode { get; }
        public string FirstOut { get; }
        public byte[] Model => File.ReadAllBytes(Dir.File("first.safetensors"));

        public void Dispose() => Dir.Dispose();
    }

    private static int Count(string text, string what) => text.Split(what).Length - 1;

    /// <summary>Two ranks' sums have one addition each, which commutes exactly, so MPI's order cannot differ from the
    /// host's: two ranks give the bits of two replicas in one process; against one device they differ by the reordered
    /// sums only (<see cref="Tolerances.Replicated"/>).</summary>
    [Fact]
    public void TwoRanksGiveTheSameBitsOnEveryRunAndTheModelOfTwoReplicasInOneProcess()
    {
        Assert.True(straight.FirstCode == 0, straight.FirstOut);
        Assert.Equal(0, straight.SecondCode);
        Assert.Equal(straight.Model, File.ReadAllBytes(straight.Dir.File("second.safetensors")));
        Assert.Contains("step: replicated (one replica on each of 2 processes × 1 device, gradients all-reduced; each runs the fused step on its slice)", straight.FirstOut);
        Assert.Equal(1, Count(straight.FirstOut, "model written to"));
        Assert.DoesNotContain('\u001b', straight.FirstOut); // no terminal sequence from a rank's pseudo-terminal in mpirun's output
        Assert.Equal(1, Count(straight.FirstOut, $"epoch 1/{Epochs} "));

        using var cli = new CliRunner();
        cli.Ok(Train(cli.File("replicas.safetensors"), "cpu:2", Epochs, "--step", "replicated"));
        Assert.Equal(straight.Model, File.ReadAllBytes(cli.File("replicas.safetensors")));
        cli.Ok(Train(cli.File("one.safetensors")));
        var (_, one, _) = ModelFile.Read(cli.File("one.safetensors"));
        var (_, two, _) = ModelFile.Read(straight.Dir.File("first.safetensors"));
        Assert.NotEqual(one, two); // the sums were reordered, so a few bits differ …
        double error = Tolerances.RelativeError(two, Array.ConvertAll(one, v => (double)v));
        Assert.True(error <= Tolerances.Replicated, $"2 ranks vs one device: relative error {error:E3}"); // … and no more
    }

    /// <summary>SIGTERM to rank 1 alone: its vote travels with the next step's all-reduce, so both ranks stop after that
    /// step; rank 0 writes one checkpoint and the resume line; <c>mpirun … train --resume … --epochs 20</c> ends with
    /// the straight 20-epoch run's bits. The signalled run asks for far more epochs than it can train before the signal
    /// (its constant step size makes its first 20 epochs those of the straight run), so it cannot end first.</summary>
    [Fact]
    public void ASignalledRankStopsTheJobAfterTheSameStepAndTheRunResumesUnderMpirun()
    {
        using var dir = new TempDir();
        using (var job = Mpirun.Start(2, dir.Path, Train("term.safetensors", epochs: 100_000)))
        {
            Assert.True(job.WaitFor("epoch 1/", 120), $"the run ended before it could be signalled:\n{job.Output}");
            int rank1 = job.Ranks()[^1];
            Process.Start("kill", ["-TERM", rank1.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            var (code, output, _) = job.Wait(120);
            Assert.True(code is 130 or 143, $"exit code {code}:\n{output}");
            Assert.Equal(1, Count(output, $"resume with: mpirun -np 2 gpunet train --resume {dir.File("term.checkpoint")}"));
            var at = System.Text.RegularExpressions.Regex.Match(output, @"interrupted after (\d+) epochs");
            Assert.True(at.Success && int.Parse(at.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < Epochs,
                $"not stopped within the first {Epochs} epochs:\n{output}");
        }
        Assert.False(File.Exists(dir.File("term.safetensors")), "an interrupted run must not write the model");
        var written = Directory.GetFiles(dir.File("term.checkpoint"));
        Assert.Single(written);
        var (resumed, text, err) = Mpirun.Run(120, 2, dir.Path, "train", "--resume", dir.File("term.checkpoint"), "--epochs", $"{Epochs}");
        Assert.True(resumed == 0, text + err);
        Assert.Contains("resuming from", text);
        Assert.Equal(straight.Model, File.ReadAllBytes(dir.File("term.safetensors")));
    }

    /// <summary>A rank killed outright (SIGKILL) while the other waits for it in an all-reduce: mpirun ends the job with
    /// exit 137 and says which rank died of which signal (the killed rank itself cannot), and no rank is left behind.</summary>
    [Fact]
    public void AKilledRankEndsTheJobWithoutAHang()
    {
        using var dir = new TempDir();
        using var job = Mpirun.Start(2, dir.Path, Train("killed.safetensors", epochs: 200));
        Assert.True(job.WaitFor("epoch 1/", 60), $"the run ended before a rank could be killed:\n{job.Output}");
        var ranks = job.Ranks();
        Assert.Equal(2, ranks.Length);
        Process.GetProcessById(ranks[^1]).Kill();
        var (code, err) = EndsPromptly(job, ranks, dir.File("killed.safetensors"));
        Assert.True(code == 137, $"exit {code}:\n{err}");
        Assert.Contains("process rank 1", err);
        Assert.Contains("exited on signal 9 (Killed)", err);
    }

    /// <summary>An error on one rank during training (here rank 0 cannot write its checkpoint: the folder became a file)
    /// while the other waits for it in the next all-reduce: the failing rank says what went wrong in one line naming
    /// itself, and MPI_Abort ends the whole job with its exit code; no rank is left behind, no model is written.</summary>
    [Fact]
    public void AnErrorDuringTrainingAbortsTheWholeJob()
    {
        using var dir = new TempDir();
        using var job = Mpirun.Start(2, dir.Path, Train("failed.safetensors", epochs: 200, extra: ["--checkpoint", "ck"]));
        // Epoch 1's checkpoint is written after its line is printed, so by epoch 2's line the folder is there.
        Assert.True(job.WaitFor("epoch 2/", 60), $"the run ended before it could fail:\n{job.Output}");
        var ranks = job.Ranks();
        Directory.Move(dir.File("ck"), dir.File("ck.moved")); // atomic: a checkpoint being written fails as well
        File.WriteAllText(dir.File("ck"), "not a folder");
        var (code, err) = EndsPromptly(job, ranks, dir.File("failed.safetensors"));
        Assert.True(code == 1, $"exit {code}:\n{err}");
        string line = OneLineFromGpunet(err);
        Assert.Contains("gpunet: rank 0 of 2 (", line);
        // Caught between checkpoints, the folder cannot be made again; caught in the middle of one, its file cannot be written.
        Assert.Matches(@"error: cannot (create checkpoint folder 'ck'|write .*ck)", line);
    }

    /// <summary>A step size that blows up training: every rank finds the divergence at the same step (the sums are
    /// all-reduced), rank 0 alone reports it in one line and writes the last good weights, once; every rank exits 1.</summary>
    [Fact]
    public void ADivergenceIsReportedAndItsWeightsWrittenOnce()
    {
        using var dir = new TempDir();
        var (code, output, err) = Mpirun.Run(60, 2, dir.Path, Train("diverged.safetensors", epochs: 2, extra: ["--lr", "1e30", "--optimizer", "sgd"]));
        Assert.True(code == 1, $"exit {code}:\n{err}");
        string line = OneLineFromGpunet(err);
        Assert.Contains("gpunet: rank 0 of 2 (", line);
        Assert.Contains("error: training diverged: the loss or the weights became NaN or infinite at epoch 1", line);
        Assert.Equal(["diverged.last-good-epoch0.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.DoesNotContain("epoch 1/", output);
    }

    /// <summary>Waits for a job that a rank's failure must end: within 30 s, no rank left behind, no model written.</summary>
    private static (int Code, string Err) EndsPromptly(Mpirun job, int[] ranks, string model)
    {
        var clock = Stopwatch.StartNew();
        var (code, _, err) = job.Wait(60);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the job took {clock.Elapsed.TotalSeconds:F1} s to end");
        Thread.Sleep(200);
        Assert.DoesNotContain(ranks, Mpirun.Alive);
        Assert.False(File.Exists(model));
        return (code, err);
    }

    /// <summary>The one line gpunet wrote among mpirun's standard error.</summary>
    private static string OneLineFromGpunet(string err)
    {
        var lines = err.Split('\n').Where(l => l.Contains("gpunet:", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length == 1, $"one line from gpunet expected, got:\n{err}");
        return lines[0];
    }

    /// <summary>Every way ranks can disagree, or one can fail, before training: one line from the rank at fault, the
    /// same non-zero exit on every rank (so mpirun's is it), and nothing written.</summary>
    [Fact]
    public void RanksThatDisagreeOrFailAreRefusedBeforeTraining()
    {
        using var dir = new TempDir();
        string a = Directory.CreateDirectory(dir.File("a")).FullName, b = Directory.CreateDirectory(dir.File("b")).FullName;
        string[] rows = [.. Enumerable.Range(0, 30).Select(i => $"{i % 7},{i % 3},{i % 2}")];
        File.WriteAllLines(Path.Combine(a, "t.csv"), rows);
        File.WriteAllLines(Path.Combine(b, "t.csv"), rows.Select((r, i) => i == 4 ? "9,9,1" : r));
        string[] csv = ["train", "--data", "csv:t.csv", "--epochs", "1", "--device", "cpu", "--model", "m.safetensors"];

        using (var job = Mpirun.Start((1, a, csv), (1, b, [.. csv.Take(4), "2", .. csv.Skip(5)])))
            AssertRefused(job.Wait(60), 2, "rank 1 of 2", "its command line differs from rank 0's: '--epochs 2' here, '--epochs 1' on rank 0");
        using (var job = Mpirun.Start((1, a, csv), (1, b, csv)))
            AssertRefused(job.Wait(60), 1, "rank 1 of 2", "error: its training data differs from rank 0's: 30 rows of 2 features, fingerprint ");
        File.AppendAllLines(Path.Combine(b, "t.csv"), ["1,x,0"]);
        using (var job = Mpirun.Start((1, a, csv), (1, b, csv)))
            AssertRefused(job.Wait(60), 1, "rank 1 of 2", "error: t.csv: line 31, column 2: \"x\" is not a number");
        AssertRefused(Mpirun.Run(60, 2, a, [.. csv.Take(6), "0,1", .. csv.Skip(7)]), 2, "rank 0 of 2",
            "--device 0,1: under mpirun each process takes the device of its local rank");
        Assert.DoesNotContain(Directory.GetFiles(a).Concat(Directory.GetFiles(b)), f => !f.EndsWith("t.csv", StringComparison.Ordinal));
    }

    private static void AssertRefused((int Code, string Out, string Err) run, int code, string who, string message)
    {
        Assert.True(run.Code == code, $"exit {run.Code}, not {code}: {run.Err}");
        string line = OneLineFromGpunet(run.Err);
        Assert.Contains($"gpunet: {who} (", line);
        Assert.Contains(message, line);
        Assert.DoesNotContain("epoch 1/", run.Out);
    }

    /// <summary><c>mpirun -np 2 gpunet devices</c>: each rank's host, local rank and device, and a check of the
    /// collectives the binding offers (broadcast, float and double all-reduce, barrier).</summary>
    [Fact]
    public void DevicesShowsEveryRankAndChecksTheCollectives()
    {
        using var dir = new TempDir();
        var (code, output, err) = Mpirun.Run(60, 2, dir.Path, "devices");
        Assert.True(code == 0, output + err);
        Assert.Contains("job: 2 processes on 1 host(s)", output);
        Assert.Contains($"rank 0 on {Environment.MachineName} (local rank 0): [", output);
        Assert.Contains($"rank 1 on {Environment.MachineName} (local rank 1): [", output);
        Assert.Contains("collectives: broadcast, float and double all-reduce and barrier agree on every rank", output);
    }
}

/// <summary>The binding's symbols, checked against the installed Open MPI without starting a job.</summary>
public class MpiBindingTests
{
    [Fact]
    public void EveryFunctionAndHandleOfTheBindingIsInTheInstalledLibrary()
    {
        nint lib = MpiLibrary.Open();
        foreach (var symbol in MpiLibrary.Symbols)
            Assert.True(NativeLibrary.TryGetExport(lib, symbol, out _), $"libmpi has no {symbol}");
        Assert.False(MpiWorld.IsLaunched, "the tests themselves do not run under mpirun");
    }

    [Fact]
    public void FingerprintsTellValuesApart()
    {
        float[] x = [1f, 2f, 3f, 4f, 5f];
        Assert.Equal(Fingerprint.Of<float>(x), Fingerprint.Of<float>([1f, 2f, 3f, 4f, 5f]));
        Assert.NotEqual(Fingerprint.Of<float>(x), Fingerprint.Of<float>([1f, 2f, 3f, 4f, 5.0000005f])); // one ulp
        Assert.NotEqual(Fingerprint.Of<float>(x), Fingerprint.Of<float>([2f, 1f, 3f, 4f, 5f])); // order
        Assert.NotEqual(Fingerprint.Of<float>(x), Fingerprint.Of<float>(x.AsSpan(0, 4))); // length
        Assert.NotEqual(Fingerprint.Of<float>(x), Fingerprint.Of<float>(x, seed: 1));
    }
}
