using GpuNet.IO;
using GpuNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.IO;

/// <summary>Checkpoints are read as strictly as model files: every field is checked for kind, range and agreement with
/// the others, and a damaged or edited file fails with a one-line message naming the checkpoint and the field.</summary>
public class CheckpointReaderTests(ITestOutputHelper output)
{
    private const string Run = "0123456789abcdef";

    /// <summary>2 restarts of 5 parameters with Adam moments and early stopping, 3 epochs done, 8 rows into the
    /// fourth; restart 1 diverged in epoch 2 (its losses NaN, its weights infinite).</summary>
    private static TrainingState State()
    {
        var rng = new Random(5);
        float[] Block() => TestData.Uniform(rng, 10);
        var weights = Block();
        weights[7] = float.PositiveInfinity;
        EpochReport Row(int e, double loss1) =>
            new(e, 10, 0.01f, [0.5 / e, loss1], [0.25, 0.5], [0.75 / e, double.NaN], [0.5, 0], TimeSpan.FromSeconds(1.5 * e), 123.25);
        return new TrainingState
        {
            EpochsCompleted = 3, RowsDone = 8, Steps = 3 * 4 + 2, Parameters = weights, Moment1 = Block(), Moment2 = Block(),
            LossSums = [2.5, double.NaN], HitSums = [3, 0], BestValidation = 0.25, BestEpoch = 3, BestParameters = Block(),
            History = [Row(1, 0.9), Row(2, double.PositiveInfinity), Row(3, double.NaN)], Elapsed = TimeSpan.FromSeconds(4.75),
        };
    }

    private static byte[] Bytes(TempDir dir, TrainingState state, Action<Dictionary<string, string>, List<TensorEntry>>? change = null)
    {
        string path = Checkpoint.Save(dir.Path, Run, state, new Dictionary<string, string> { ["cli_args"] = "[\"--epochs=10\"]" });
        var file = SafeTensors.Read(path);
        var meta = file.Metadata.ToDictionary();
        var tensors = file.Tensors.ToList();
        change?.Invoke(meta, tensors);
        return SafeTensors.ToBytes(path, tensors, meta);
    }

    [Fact]
    public void ReadsBackWhatWasSavedBitForBit()
    {
        using var dir = new TempDir();
        var s = State();
        string path = Checkpoint.Save(dir.Path, Run, s, new Dictionary<string, string> { ["cli_args"] = "[\"--lr=0.5\"]", ["note"] = "x" });
        Assert.Equal(Path.Combine(dir.Path, $"checkpoint-{Run}-e000003-r000000008.safetensors"), path);
        var c = Checkpoint.Read(path);
        Assert.Equal(Run, c.RunId);
        Assert.Equal(["--lr=0.5"], c.Strings("cli_args"));
        Assert.Equal(new Dictionary<string, string> { ["cli_args"] = "[\"--lr=0.5\"]", ["note"] = "x" }, c.Metadata);
        var r = c.State;
        Assert.Equal((3, 8, 14L, 3, 0.25), (r.EpochsCompleted, r.RowsDone, r.Steps, r.BestEpoch, r.BestValidation));
        foreach (var (a, b) in new[] { (s.Parameters, r.Parameters), (s.Moment1!, r.Moment1!), (s.Moment2!, r.Moment2!), (s.BestParameters!, r.BestParameters!) })
            Assert.Equal(SafeTensorsBytes.Bits(a), SafeTensorsBytes.Bits(b));
        Assert.Equal(s.LossSums, r.LossSums);
        Assert.Equal(s.HitSums, r.HitSums);
        Assert.Equal(s.Elapsed, r.Elapsed);
        Assert.Equal(s.History.Count, r.History.Count);
        for (int i = 0; i < s.History.Count; i++)
        {
            var (x, y) = (s.History[i], r.History[i]);
            Assert.Equal((x.Epoch, x.Epochs, x.LearningRate, x.Elapsed, x.SamplesPerSecond), (y.Epoch, y.Epochs, y.LearningRate, y.Elapsed, y.SamplesPerSecond));
            Assert.Equal(x.TrainLoss, y.TrainLoss);
            Assert.Equal(x.TrainAccuracy, y.TrainAccuracy);
            Assert.Equal(x.ValidationLoss, y.ValidationLoss);
            Assert.Equal(x.ValidationAccuracy, y.ValidationAccuracy);
        }
    }

    /// <summary>(what, metadata key, new value or null to remove it, what the message says).</summary>
    public static TheoryData<string, string, string?, string> BadFields() => new()
    {
        { "a null history row", "history", "[null,null,null]", "history row 0 is null, expected an object" },
        { "a row without its loss", "history", Rows(r => r.Replace("\"train_loss\":[0.5,0.9],", "")), "history row 0 has no 'train_loss'" },
        { "a row with an unknown field", "history", Rows(r => r.Replace("\"epoch\":1,", "\"epoch\":1,\"x\":2,")), "history row 0 has an unknown field 'x'" },
        { "a row with a field twice", "history", Rows(r => r.Replace("\"epoch\":1,", "\"epoch\":1,\"epoch\":1,")), "history row 0 has the field 'epoch' twice" },
        { "rows out of order", "history", Rows(r => r.Replace("\"epoch\":1,", "\"epoch\":2,")), "history row 0: epoch is a number (2), expected a whole number from 1 to 1" },
        { "a loss as text", "history", Rows(r => r.Replace("[0.5,0.9]", "[\"0.5\",0.9]")), "item 0 of history row 0: train_loss is a string (\"0.5\")" },
        { "a loss list of 3", "history", Rows(r => r.Replace("[0.5,0.9]", "[0.5,0.9,1]")), "history row 0: train_loss has 3 items, expected 2" },
        { "an accuracy above 1", "history", Rows(r => r.Replace("[0.25,0.5]", "[1.25,0.5]")), "history row 0: train_accuracy[0] is 1.25, expected a fraction from 0 to 1" },
        { "a negative step size", "history", Rows(r => r.Replace("\"lr\":0.009999999776482582", "\"lr\":-0.01")), "history row 0: lr is -0.01, expected a step size of 0 or more" },
        { "a row without validation", "history", Rows(r => r.Replace("\"validation_loss\":[0.75,\"NaN\"]", "\"validation_loss\":null")), "history row 1 has other fields than row 0" },
        { "history not JSON", "history", "[{", "history is not valid JSON" },
        { "history nested too deep", "history", new string('[', 10_000) + new string(']', 10_000), "history is not valid JSON at character 9: The maximum configured depth of 8 has been exceeded. Cannot read next JSON array." },
        { "an epoch counter near int.MaxValue", "epochs_completed", "2147483646", "history has 3 rows but epochs_completed is 2147483646" },
        { "an epoch counter at int.MaxValue", "epochs_completed", "2147483647", "epochs_completed is '2147483647', expected a whole number from 0 to 2147483646" },
        { "a negative row count", "rows_done", "-8", "rows_done is '-8', expected a whole number from 0" },
        { "steps near long.MaxValue", "steps", "9223372036854775807", "steps is '9223372036854775807', expected a whole number from 0 to 4611686018427387903" },
        { "a fractional epoch count", "epochs_completed", "3.0", "epochs_completed is '3.0'" },
        { "one loss sum for two restarts", "loss_sums", "[2.5]", "loss_sums (2 restarts) has 1 items, expected 2" },
        { "a negative loss sum", "loss_sums", "[-2.5,1]", "loss_sums[0] is -2.5" },
        { "hits that are not whole", "hit_sums", "[2.5,0]", "hit_sums[0] is 2.5; it counts rows" },
        { "more hits than rows", "hit_sums", "[9,0]", "hit_sums[0] is 9" },
        { "a best epoch beyond the epochs", "best_epoch", "4", "best_epoch is '4', expected a whole number from 0 to 3" },
        { "a best loss that is not one", "best_validation", "Infinity", "best_epoch 3, best_validation Infinity and a best_parameters tensor do not agree" },
        { "a best loss that is text", "best_validation", "abc", "best_validation is 'abc'" },
        { "a negative time", "elapsed_seconds", "-1", "elapsed_seconds is '-1'" },
        { "no run id", "run_id", null, "metadata key 'run_id' is missing" },
        { "a run id of other letters", "run_id", "0123456789ABCDEF", "run_id '0123456789ABCDEF' is not 16 lower-case hex digits" },
        { "the earlier format", "format", "gpunet-checkpoint/1", "it was written by an earlier gpunet (gpunet-checkpoint/1)" },
        { "another format", "format", "gpunet-mlp/1", "format is 'gpunet-mlp/1', expected 'gpunet-checkpoint/2'" },
    };

    /// <summary>The history as saved from <see cref="State"/>, changed by <paramref name="edit"/>.</summary>
    private static string Rows(Func<string, string> edit)
    {
        using var dir = new TempDir();
        return edit(SafeTensors.Read(Checkpoint.Save(dir.Path, Run, State(), new Dictionary<string, string>())).Metadata["history"]);
    }

    [Theory]
    [MemberData(nameof(BadFields))]
    public void EveryFieldIsChecked(string what, string key, string? value, string expected)
    {
        using var dir = new TempDir();
        var bytes = Bytes(dir, State(), (m, _) =>
        {
            if (value == null) m.Remove(key);
            else m[key] = value;
        });
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Read(bytes, "ck/checkpoint.safetensors"));
        Assert.StartsWith("checkpoint 'ck/checkpoint.safetensors': ", e.Message);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{what}: '{expected}' not in: {e.Message}");
        Assert.DoesNotContain("System.", e.Message);
        Assert.DoesNotContain("LineNumber", e.Message); // the parser's position words; the message says where in its own
    }

    [Fact]
    public void TensorsMustBeRestartsByParameters()
    {
        using var dir = new TempDir();
        ModelFormatException Read(Action<Dictionary<string, string>, List<TensorEntry>> change) =>
            Assert.Throws<ModelFormatException>(() => Checkpoint.Read(Bytes(dir, State(), change), "c"));
        Assert.Contains("tensor 'parameters' is missing", Read((_, t) => t.RemoveAll(x => x.Name == "parameters")).Message);
        Assert.Contains("tensor 'parameters' has shape [10], expected [restarts, parameters]",
            Read((_, t) => t[0] = t[0] with { Shape = [10] }).Message);
        Assert.Contains("tensor 'moment1' has shape [5, 2]; 'parameters' has [2, 5]",
            Read((_, t) => t[1] = t[1] with { Shape = [5, 2] }).Message);
        Assert.Contains("tensor 'moment2' is there without 'moment1'", Read((_, t) => t.RemoveAll(x => x.Name == "moment1")).Message);
        Assert.Contains("tensor 'extra' is not part of a checkpoint", Read((_, t) => t.Add(new TensorEntry("extra", [1], [0]))).Message);
        Assert.Contains("best_epoch 3, best_validation 0.25 and no best_parameters tensor do not agree",
            Read((_, t) => t.RemoveAll(x => x.Name == "best_parameters")).Message);
    }

    /// <summary>A restart may have diverged (the trainer keeps it and never picks it), but a checkpoint in which every
    /// restart holds a NaN or infinite weight or moment cannot be continued: the run would only diverge at once and
    /// write a "last good" model that holds NaN.</summary>
    [Fact]
    public void NonFiniteWeightsAreRefusedUnlessSomeRestartIsWhole()
    {
        using var dir = new TempDir();
        Assert.Equal(float.PositiveInfinity, Checkpoint.Read(Bytes(dir, State()), "c").State.Parameters[7]); // restart 1 diverged, restart 0 is whole
        TrainingState With(Func<TrainingState, float[]> block, int index)
        {
            var s = State();
            block(s)[index] = float.NaN;
            return s;
        }
        const string Diverged = "the run had diverged when it was written and cannot continue from it; resume from an earlier checkpoint or start again";
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Read(Bytes(dir, With(s => s.Parameters, 2)), "c"));
        Assert.Equal("checkpoint 'c': every one of the 2 restarts holds a value that is not finite (parameters[0, 2] = NaN, parameters[1, 2] = Infinity): " +
                     Diverged, e.Message);
        e = Assert.Throws<ModelFormatException>(() => Checkpoint.Read(Bytes(dir, With(s => s.Moment2!, 1)), "c"));
        Assert.Contains("(moment2[0, 1] = NaN, parameters[1, 2] = Infinity)", e.Message);
        // early stopping's best weights: one whole restart is enough there too
        Assert.Equal(float.NaN, Checkpoint.Read(Bytes(dir, With(s => s.BestParameters!, 0)), "c").State.BestParameters![0]);
        var best = State();
        best.BestParameters![6] = float.NaN;
        best.BestParameters[0] = float.NaN;
        Assert.Equal("checkpoint 'c': best_parameters[0, 0] = NaN is not finite, nor is some value of every other restart: early stopping's best weights are unusable",
            Assert.Throws<ModelFormatException>(() => Checkpoint.Read(Bytes(dir, best), "c")).Message);
        // one restart alone
        var single = new TrainingState
        {
            EpochsCompleted = 0, RowsDone = 0, Steps = 0, Parameters = [1, float.NaN, 3], LossSums = [0], HitSums = [0],
        };
        Assert.Equal("checkpoint 'c': parameters[0, 1] = NaN is not finite: " + Diverged,
            Assert.Throws<ModelFormatException>(() => Checkpoint.Read(Bytes(dir, single), "c")).Message);
    }

    /// <summary>Seeded fuzzing of the checkpoint reader: damaged metadata values never escape as anything but a
    /// <see cref="ModelFormatException"/>, and reading allocates a small multiple of the file's size at most.</summary>
    [Fact]
    public void DamagedCheckpointsFailCleanlyWithBoundedAllocation()
    {
        using var dir = new TempDir();
        var rng = new Random(77);
        var good = Bytes(dir, State());
        Checkpoint.Read(good, "warm-up");
        string[] hostile = ["", "null", "[]", "{}", "-1", "2147483647", "9223372036854775807", "1e308", "NaN", "[null]", "[1,2,3]", "\"x\"",
            "[" + string.Join(",", Enumerable.Repeat("{}", 5000)) + "]", "[" + string.Join(",", Enumerable.Repeat("0", 100_000)) + "]"];
        int accepted = 0;
        for (int i = 0; i < 400; i++)
        {
            var bytes = Bytes(dir, State(), (m, _) =>
            {
                var keys = m.Keys.Order(StringComparer.Ordinal).ToArray();
                string key = keys[rng.Next(keys.Length)];
                if (rng.Next(2) == 0 && m[key].Length > 0)
                {
                    int at = rng.Next(m[key].Length);
                    m[key] = m[key].Remove(at, 1).Insert(at, "0,[]{}\"-9n"[rng.Next(10)].ToString());
                }
                else m[key] = hostile[rng.Next(hostile.Length)];
            });
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                Checkpoint.Read(bytes, "c");
                accepted++;
            }
            catch (ModelFormatException e)
            {
                Assert.StartsWith("checkpoint 'c': ", e.Message);
                Assert.DoesNotContain("System.", e.Message);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= 256 * 1024 + 32L * bytes.Length, $"variant {i}: {allocated} bytes for a {bytes.Length}-byte file");
        }
        output.WriteLine($"{accepted} of 400 accepted");
        Assert.InRange(accepted, 0, 200);
    }
}
