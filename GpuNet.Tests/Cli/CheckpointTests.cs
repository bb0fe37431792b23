using System.Globalization;
using System.Text.RegularExpressions;
using GpuNet.Cli;
using GpuNet.IO;
using GpuNet.Tests.IO;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>Interrupted runs, resumed from their checkpoints, end with the same model file, bit for bit, as runs that
/// were never interrupted (on the CPU accelerator, whose kernels are deterministic); a run owns its checkpoints; a
/// checkpoint is checked field by field before anything trains; and resuming takes the habits people bring from
/// Keras: the original command with the resume option added, and more epochs for a run that finished.</summary>
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

    internal static string[] Run(string dir, string model, params string[] extra) => RunWithSeed(5, dir, model, extra);

    private static string[] RunWithSeed(int seed, string dir, string model, params string[] extra) =>
    [
        "train", "--data", "sine", "--hidden", "16", "--activation", "tanh", "--epochs", $"{Epochs}", "--batch", $"{Batch}", "--lr", "0.01",
        "--restarts", "2", "--validation", "0.2", "--lr-schedule", "cosine", "--seed", $"{seed}", "--device", "cpu",
        "--model", Path.Combine(dir, model), "--metrics", Path.Combine(dir, model + ".csv"), .. extra,
    ];

    /// <summary>The steps a run's summary says it took: the whole run's, a resumed run's included.</summary>
    private static long Steps(string summary, int epochs = Epochs)
    {
        var m = Regex.Match(summary, $@"trained {epochs} epochs \((\d+) steps\)");
        Assert.True(m.Success, $"no 'trained {epochs} epochs (N steps)' line in: {summary}");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>What a resumed run's summary says of the resume: the epochs done before it and the steps taken since.</summary>
    private static (int Epochs, long Steps) Resumed(string summary)
    {
        var m = Regex.Match(summary, @"; resumed after (\d+) epochs, (\d+) steps this time");
        Assert.True(m.Success, $"no 'resumed after N epochs, M steps this time' in: {summary}");
        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
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

    /// <summary>Runs gpunet in-process and interrupts it after the given epoch; returns what it printed and the target
    /// of its "resume with:" line.</summary>
    private static (string Out, string ResumeTarget) Interrupt(int epoch, string[] args)
    {
        using var cancel = new CancellationTokenSource();
        var o = new CancelAtEpochLine(epoch, cancel);
        var e = new StringWriter();
        int code = CommandLine.Run(args, o, e, cancel.Token);
        Assert.True(code == 130, $"exit {code}, expected 130 (interrupted): {e}");
        Assert.Contains($"interrupted after {epoch} epochs and 0 rows of the next", o.ToString());
        var m = Regex.Match(o.ToString(), "resume with: gpunet train --resume (.*)");
        Assert.True(m.Success, $"no resume line in: {o}");
        return (o.ToString(), m.Groups[1].Value.TrimEnd());
    }

    /// <summary>Interrupted at epoch 2 (before the first periodic checkpoint, so only the interrupt's own one exists), at
    /// epoch 4 (between periodic checkpoints) and at epoch 6 (just after one): each resumed run ends as the straight one,
    /// and its summary counts the whole run.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void InterruptedInProcessThenResumedGivesTheSameModel(int epoch)
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        var (_, target) = Interrupt(epoch, Run(cli.Dir.Path, "resumed.safetensors", "--checkpoint", ckpt, "--checkpoint-every", "3"));
        Assert.Equal(ckpt, target);
        Assert.False(File.Exists(cli.File("resumed.safetensors")), "an interrupted run must not write the model");
        string resumed = cli.Ok("train", "--resume", ckpt);
        Assert.Matches($@"resuming from {Regex.Escape(ckpt)}/checkpoint-[0-9a-f]{{16}}-e{epoch:D6}-r000000000\.safetensors", resumed);
        // It continued (a run started over would end with the same model too): only the epochs left were trained now,
        // and the summary counts the whole run.
        Assert.Equal(Epochs * straight.StepsPerEpoch, Steps(resumed));
        Assert.Equal((epoch, (Epochs - epoch) * straight.StepsPerEpoch), Resumed(resumed));
        AssertSameAsStraight(cli, "resumed.safetensors");
        var seconds = File.ReadLines(cli.File("resumed.safetensors.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[6], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(seconds.Order(), seconds); // the run's clock goes on across the resume
    }

    /// <summary>An interrupted run without --checkpoint, resumed to its end, leaves its end in the folder of the
    /// interruption: <c>--resume DIR --epochs N</c> then continues from there, not from the interruption again.</summary>
    [Fact]
    public void AResumedRunThatFinishesCanBeContinuedWithMoreEpochs()
    {
        using var cli = new CliRunner();
        var (_, target) = Interrupt(4, Run(cli.Dir.Path, "more.safetensors"));
        string resumed = cli.Ok("train", "--resume", target);
        Assert.Equal((4, (Epochs - 4) * straight.StepsPerEpoch), Resumed(resumed));
        string more = cli.Ok("train", "--resume", target, "--epochs", $"{Epochs + 2}");
        Assert.Contains($": {Epochs} epochs and 0 rows of the next done", more);
        Assert.Equal((Epochs, 2 * straight.StepsPerEpoch), Resumed(more));
        Assert.Equal((Epochs + 2) * straight.StepsPerEpoch, Steps(more, Epochs + 2));
    }

    /// <summary>The options of <see cref="Run"/> with a constant step size: such a run's first N epochs do not depend on
    /// how many epochs it was asked for, so a run of <see cref="Endless"/> epochs (which cannot end before a test stops
    /// it, however fast or loaded the machine) resumed with <c>--epochs N</c> ends as a straight N-epoch run.</summary>
    private static string[] Constant(string dir, string model, int epochs, params string[] extra) =>
        [.. Run(dir, model, extra).Select(a => a == "cosine" ? "constant" : a == $"{Epochs}" ? $"{epochs}" : a)];

    private const int Endless = 100_000;

    /// <summary>Resumes an endless run stopped after <paramref name="done"/> epochs with <c>--epochs</c> two more, and
    /// checks that it trained only the steps left and ended as a straight run of that many epochs, bit for bit.</summary>
    private static void ResumeAsStraight(CliRunner cli, string checkpoint, string model, int done, long stepsDone)
    {
        int epochs = done + 2;
        string resumed = cli.Ok("train", "--resume", checkpoint, "--epochs", $"{epochs}");
        long stepsPerEpoch = Steps(cli.Ok(Constant(cli.Dir.Path, "straight.safetensors", epochs)), epochs) / epochs;
        Assert.Equal(epochs * stepsPerEpoch, Steps(resumed, epochs)); // the summary counts the whole run
        Assert.Equal((done, epochs * stepsPerEpoch - stepsDone), Resumed(resumed));
        Assert.Equal(File.ReadAllBytes(cli.File("straight.safetensors")), File.ReadAllBytes(cli.File(model)));
        Assert.Equal(LossColumns(cli.File("straight.safetensors.csv")), LossColumns(cli.File(model + ".csv")));
    }

    [Fact]
    public void KilledProcessResumesToTheSameModel()
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        using (var p = new GpunetProcess(Constant(cli.Dir.Path, "killed.safetensors", Endless, "--checkpoint", ckpt, "--checkpoint-every", "1")))
        {
            // Epoch 2's checkpoint is renamed into place, whole, before epoch 3's line is printed; the kill lands in
            // epoch 3's checkpoint write or later.
            Assert.True(p.WaitFor("epoch 3/"), "the run ended before it could be killed: " + p.Output + p.Errors);
            p.Kill(); // SIGKILL: no chance to clean up
        }
        Assert.False(File.Exists(cli.File("killed.safetensors")), "the killed run wrote its model");
        // The resume continues from the newest checkpoint written before the kill (a run started over would end alike,
        // but it would train every epoch); no temporary file of a write the kill cut short is taken for one.
        string newest = Directory.GetFiles(ckpt, "checkpoint-*.safetensors").Max(StringComparer.Ordinal)!;
        var name = Regex.Match(Path.GetFileName(newest), @"^checkpoint-[0-9a-f]{16}-e(\d{6})-r000000000\.safetensors$");
        Assert.True(name.Success, $"not a checkpoint written at an epoch's end: {newest}");
        int done = int.Parse(name.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(done, 2, Endless - 1);
        ResumeAsStraight(cli, ckpt, "killed.safetensors", done, done * straight.StepsPerEpoch);
    }

    /// <summary>SIGINT, as Ctrl-C sends it, to the real process, wherever in an epoch it lands: a checkpoint, the resume
    /// line, exit 130, and the resumed run trains only the steps left and ends as a straight run.</summary>
    [Fact]
    public void CtrlCInTheRealProcessWritesACheckpointAndSaysHowToResume()
    {
        using var cli = new CliRunner();
        using var p = new GpunetProcess(Constant(cli.Dir.Path, "sigint.safetensors", Endless));
        Assert.True(p.WaitFor("epoch 2/"), "the run ended before it could be interrupted: " + p.Output + p.Errors);
        p.Signal("INT");
        Assert.Equal(130, p.Exit());
        string text = p.Output;
        string dir = cli.File("sigint.checkpoint");
        Assert.Contains($"resume with: gpunet train --resume {dir}", text);
        Assert.False(File.Exists(cli.File("sigint.safetensors")));
        var at = Regex.Match(text, @"interrupted after (\d+) epochs and (\d+) rows of the next");
        Assert.True(at.Success, $"no 'interrupted after' line in: {text}");
        int epochs = int.Parse(at.Groups[1].Value, CultureInfo.InvariantCulture);
        int rows = int.Parse(at.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.InRange(epochs, 2, Endless - 1);
        ResumeAsStraight(cli, dir, "sigint.safetensors", epochs, epochs * straight.StepsPerEpoch + (rows + Batch - 1) / Batch);
    }

    [Fact]
    public void ResumeNamesWhatIsMissing()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--resume", cli.File("nothing"));
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: checkpoint folder or file '{cli.File("nothing")}' does not exist\n", err);
        Directory.CreateDirectory(cli.File("empty"));
        (code, _, err) = cli.Run("train", "--resume", cli.File("empty"), "--lr", "0.1");
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: '{cli.File("empty")}' holds no checkpoint (checkpoint-*.safetensors); nothing to resume\n", err);
    }

    /// <summary>The original command with --resume added continues the run, spelled as it was or otherwise (a relative
    /// path, 1e-2 for 0.01); an option that contradicts the run is named with both values, exit 2, nothing trained.</summary>
    [Fact]
    public void RerunningTheOriginalCommandWithResumeAddedContinuesTheRun()
    {
        using var cli = new CliRunner();
        string ckpt = cli.File("ckpt");
        string[] original = Run(cli.Dir.Path, "again.safetensors", "--checkpoint", ckpt);
        Interrupt(3, original);
        string[] conflicting = [.. original.Select(x => x == "0.01" ? "0.02" : x), "--resume", ckpt];
        var (code, output, err) = cli.Run(conflicting);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith($"gpunet: --lr 0.02 differs from the run's --lr 0.01 (checkpoint '{ckpt}/checkpoint-", err);
        Assert.EndsWith("a resumed run keeps its options; give --lr 0.01 or leave it out, or start a new run\n", err);
        (code, _, err) = cli.Run([.. original, "--standardize", "--resume", ckpt]);
        Assert.Equal(2, code);
        Assert.StartsWith("gpunet: --standardize: the run was started without --standardize (checkpoint '", err);
        // The same options, one spelled otherwise: accepted.
        string[] same = [.. original.Select(x => x == "0.01" ? "1e-2" : x), "--resume", ckpt];
        string resumed = cli.Ok(same);
        Assert.Equal((3, (Epochs - 3) * straight.StepsPerEpoch), Resumed(resumed));
        AssertSameAsStraight(cli, "again.safetensors");
    }

    /// <summary>Like Keras' initial_epoch: "--resume DIR --epochs N" trains a finished run on up to N epochs, and ends
    /// with the model a run of N epochs from the start gives (constant step size: the schedule does not depend on N);
    /// fewer epochs than were done are refused.</summary>
    [Fact]
    public void MoreEpochsContinueAFinishedRun()
    {
        using var cli = new CliRunner();
        string[] Sine(string model, int epochs, params string[] extra) =>
        [
            "train", "--data", "sine", "--hidden", "8", "--epochs", $"{epochs}", "--batch", "16", "--lr", "0.01", "--seed", "2",
            "--device", "cpu", "--model", cli.File(model), .. extra,
        ];
        string five = cli.Ok(Sine("five.safetensors", 5));
        cli.Ok(Sine("extended.safetensors", 3, "--checkpoint", cli.File("ck")));
        var (code, _, err) = cli.Run("train", "--resume", cli.File("ck"), "--epochs", "2");
        Assert.Equal(1, code);
        Assert.Contains("has completed 3 epochs, more than the 2 asked for; ask for 3 epochs or more (--epochs) to continue it", err);
        string extended = cli.Ok("train", "--resume", cli.File("ck"), "--epochs", "5");
        long steps = Steps(five, 5);
        Assert.Equal(steps, Steps(extended, 5));
        Assert.Equal((3, steps * 2 / 5), Resumed(extended));
        Assert.Equal(File.ReadAllBytes(cli.File("five.safetensors")), File.ReadAllBytes(cli.File("extended.safetensors")));
        // and the extended run's checkpoint continues it again
        Assert.Equal((5, steps * 3 / 5), Resumed(cli.Ok("train", "--resume", cli.File("ck"), "--epochs", "8")));
    }

    /// <summary>A --checkpoint folder holds one run: a new run refuses a folder with another run's checkpoints before
    /// it trains, and leaves them as they were.</summary>
    [Fact]
    public void ANewRunRefusesAFolderHoldingAnotherRunsCheckpoints()
    {
        using var cli = new CliRunner();
        string ck = cli.File("ck");
        string[] xor = ["train", "--data", "xor", "--hidden", "2", "--epochs", "2", "--batch", "4", "--device", "cpu", "--checkpoint", ck];
        cli.Ok([.. xor, "--model", cli.File("a.safetensors")]);
        var before = Directory.GetFiles(ck).Order().ToArray();
        var (code, output, err) = cli.Run([.. xor, "--model", cli.File("b.safetensors")]);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Matches($@"^gpunet: error: checkpoint folder '{Regex.Escape(ck)}' holds the checkpoints of another run \(run [0-9a-f]{{16}}: 2 epochs and 0 rows done, newest ", err);
        Assert.Contains($"continue that run by resuming from '{ck}' (--resume), or give this run a checkpoint folder of its own (--checkpoint)", err);
        Assert.Equal(before, Directory.GetFiles(ck).Order().ToArray());
        Assert.False(File.Exists(cli.File("b.safetensors")));
    }

    /// <summary>Two runs with the same model and no --checkpoint share the folder beside the model. A stale checkpoint
    /// of the one cannot hijack the other: neither prunes the other's file, the later one's resume line names its own
    /// checkpoint file, resuming it continues exactly that run, and resuming the folder is refused, naming both runs.</summary>
    [Fact]
    public void RunsInterruptedBesideTheSameModelKeepTheirOwnCheckpoints()
    {
        using var cli = new CliRunner();
        string folder = cli.File("shared.checkpoint");
        var (_, staleTarget) = Interrupt(2, RunWithSeed(6, cli.Dir.Path, "shared.safetensors"));
        Assert.Equal(folder, staleTarget); // alone in the folder then
        string stale = Directory.GetFiles(folder).Single();
        var (_, target) = Interrupt(4, Run(cli.Dir.Path, "shared.safetensors"));
        Assert.NotEqual(folder, target);
        Assert.StartsWith(folder + "/checkpoint-", target);
        Assert.Equal(new[] { stale, target }.Order(), Directory.GetFiles(folder).Order());
        var (code, _, err) = cli.Run("train", "--resume", folder);
        Assert.Equal(1, code);
        Assert.Contains($"'{folder}' holds the checkpoints of 2 runs, so it does not say which to continue", err);
        Assert.Contains(stale, err);
        Assert.Contains(target, err);
        string resumed = cli.Ok("train", "--resume", target);
        Assert.Contains($"resuming from {target}: 4 epochs", resumed);
        AssertSameAsStraight(cli, "shared.safetensors");
        Assert.True(File.Exists(stale), "the other run's checkpoint is gone");
    }

    /// <summary>A checkpoint that was damaged or edited, or that no longer fits the data, is refused before anything
    /// trains, in one line naming the checkpoint and what differs; exit 1, no stack trace.</summary>
    [Fact]
    public void ADamagedOrMismatchedCheckpointIsRefusedBeforeTraining()
    {
        using var cli = new CliRunner();
        string data = cli.Dir.WriteText("xor.csv", "0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
        string ck = cli.File("ck");
        cli.Ok("train", "--data", $"csv:{data}", "--hidden", "3", "--epochs", "2", "--batch", "2", "--device", "cpu",
            "--model", cli.File("m.safetensors"), "--checkpoint", ck);
        string newest = CheckpointFolder.List(ck).Last().Path;
        var good = SafeTensors.Read(newest);
        void Refused(string expected, Action<Dictionary<string, string>, List<TensorEntry>> change)
        {
            var meta = good.Metadata.ToDictionary();
            var tensors = good.Tensors.ToList();
            change(meta, tensors);
            File.WriteAllBytes(newest, SafeTensors.ToBytes(newest, tensors, meta));
            var (code, output, err) = cli.Run("train", "--resume", ck);
            Assert.True(code == 1, $"exit {code}: {err}");
            Assert.DoesNotContain("epoch ", output);
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.DoesNotContain("   at ", err);
            Assert.Contains($"checkpoint '{newest}'", err);
            Assert.True(err.Contains(expected, StringComparison.Ordinal), $"'{expected}' not in: {err}");
        }
        Refused("history row 1 is null", (m, _) => m["history"] = m["history"][..m["history"].IndexOf("},{", StringComparison.Ordinal)] + "},null]");
        Refused("history has 2 rows but epochs_completed is 2147483646", (m, _) => m["epochs_completed"] = "2147483646");
        Refused("parameters[0, 4] = NaN is not finite", (_, t) =>
        {
            var p = (float[])t[0].Data.Clone();
            p[4] = float.NaN;
            t[0] = t[0] with { Data = p };
        });
        // a checkpoint whose tensors are of another network (here, one more input)
        Refused("holds 21 parameters (1 restart of 21); the network built from the options and the data (--data csv:" + data + ": 2 features, 2 classes) has 17 (1 restart of 17, 2-3-2 (relu, identity))",
            (_, t) =>
            {
                for (int i = 0; i < t.Count; i++) t[i] = t[i] with { Shape = [1, 21], Data = new float[21] };
            });
        File.WriteAllBytes(newest, SafeTensors.ToBytes(newest, good.Tensors, good.Metadata));
        // the data changed since: a column more
        File.WriteAllText(data, "0,0,0,0\n0,1,0,1\n1,0,0,1\n1,1,0,0\n");
        var (rc, _, e) = cli.Run("train", "--resume", ck);
        Assert.Equal(1, rc);
        // the message names the checkpoint and the data that changed
        Assert.Contains($"checkpoint '{newest}' holds 17 parameters (1 restart of 17); the network built from the options and the data (--data csv:{data}: 3 features, 2 classes) has 20 (1 restart of 20, 3-3-2", e);
        // or a row more
        File.WriteAllText(data, "0,0,0\n0,1,1\n1,0,1\n1,1,0\n1,1,0\n");
        (rc, _, e) = cli.Run("train", "--resume", ck);
        Assert.Equal(1, rc);
        Assert.Contains($"checkpoint '{newest}' was taken after 4 steps, 2 epochs and 0 rows; with 5 training rows in batches of 2 (3 steps an epoch) " +
                        "that is not a step of this run: the training data or the batch size differs from the run's " +
                        $"(the data now: --data csv:{data}, 5 rows before any validation split)", e);
    }

    /// <summary>A model, metrics or checkpoint folder that cannot be written is found before the data is even read,
    /// not after the run has trained; the error names the path as given. (The folder is made unwritable in a way that
    /// holds for root too; see <see cref="UnwritableFolder"/>.)</summary>
    [Fact]
    public void OutputsThatCannotBeWrittenAreFoundBeforeTraining()
    {
        using var cli = new CliRunner();
        using var ro = new UnwritableFolder();
        string[] xor = ["train", "--data", "xor", "--hidden", "2", "--epochs", "1", "--device", "cpu"];
        string blocker = cli.Dir.WriteText("not-a-folder", "x");
        foreach (var (extra, path) in new[]
                 {
                     (new[] { "--model", ro.File("m.safetensors") }, ro.File("m.safetensors")),
                     (["--model", cli.File("m.safetensors"), "--metrics", ro.File("m.csv")], ro.File("m.csv")),
                     (["--model", cli.File("m.safetensors"), "--checkpoint", Path.Combine(ro.Path, "ck")], Path.Combine(ro.Path, "ck")),
                     (["--model", cli.File("m.safetensors"), "--checkpoint", Path.Combine(blocker, "ck")], Path.Combine(blocker, "ck")),
                 })
        {
            var (code, output, err) = cli.Run([.. xor, .. extra]);
            Assert.True(code == 1, $"{ro.How}, {path}: exit {code}: {err}");
            Assert.Equal("", output); // not even the data was read
            Assert.StartsWith("gpunet: error: cannot write", err);
            Assert.Contains(path, err);
            Assert.DoesNotContain(".tmp-", err);
        }
        Assert.Equal(["not-a-folder"], cli.Dir.Names());
    }
}
