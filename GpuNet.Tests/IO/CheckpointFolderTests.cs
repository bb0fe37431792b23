using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.IO;

/// <summary>A folder of checkpoints told apart by run: pruning, resuming and the resume line touch one run only.</summary>
public class CheckpointFolderTests
{
    private const string X = "00000000000000aa", Y = "00000000000000bb";

    /// <summary>A state of one restart of 3 parameters after <paramref name="epochs"/> epochs.</summary>
    private static TrainingState After(int epochs) => new()
    {
        EpochsCompleted = epochs, RowsDone = 0, Steps = 2L * epochs, Parameters = [1, 2, 3], LossSums = [0], HitSums = [0],
        History = Enumerable.Range(1, epochs)
            .Select(e => new EpochReport(e, 10, 0.1f, [0.5], null, null, null, TimeSpan.FromSeconds(e), 10)).ToArray(),
    };

    private static readonly Dictionary<string, string> NoMetadata = [];

    [Fact]
    public void ARunPrunesOnlyItsOwnCheckpoints()
    {
        using var dir = new TempDir();
        var others = Enumerable.Range(1, 3).Select(e => Checkpoint.Save(dir.Path, Y, After(e), NoMetadata)).ToArray();
        Assert.Equal(others[1..], CheckpointFolder.List(dir.Path).Select(c => c.Path)); // Y keeps its newest two
        var mine = Enumerable.Range(1, 4).Select(e => Checkpoint.Save(dir.Path, X, After(e), NoMetadata)).ToArray();
        Assert.Equal([mine[2], mine[3], others[1], others[2]], CheckpointFolder.List(dir.Path).Select(c => c.Path));
    }

    [Fact]
    public void NewestIsByNumberNotByName()
    {
        using var dir = new TempDir();
        foreach (var name in new[] { $"checkpoint-{X}-e999999-r000000008.safetensors", $"checkpoint-{X}-e1000000-r000000000.safetensors",
                                     $"checkpoint-{X}-e999999-r000000016.safetensors", "checkpoint-e000001-r000000000.safetensors", "notes.txt" })
            dir.WriteText(name, "");
        var list = CheckpointFolder.List(dir.Path);
        Assert.Equal([(null, 0, 0), (X, 999999, 8), (X, 999999, 16), (X, 1000000, 0)], list.Select(c => (c.RunId, c.Epochs, c.Rows)));
    }

    [Fact]
    public void TheResumeLineNamesTheFolderOnlyWhileItHoldsOneRun()
    {
        using var dir = new TempDir();
        string mine = Checkpoint.Save(dir.Path, X, After(1), NoMetadata);
        Assert.Equal(dir.Path, CheckpointFolder.ResumeTarget(dir.Path, X, mine));
        Assert.Equal(mine, CheckpointFolder.Resolve(dir.Path).Path);
        Checkpoint.Save(dir.Path, Y, After(5), NoMetadata);
        Assert.Equal(mine, CheckpointFolder.ResumeTarget(dir.Path, X, mine));
        var e = Assert.Throws<GpuNetException>(() => CheckpointFolder.Resolve(dir.Path));
        Assert.StartsWith($"'{dir.Path}' holds the checkpoints of 2 runs, so it does not say which to continue: run {X}: 1 epochs and 0 rows done, newest {mine}; run {Y}: 5 epochs", e.Message);
        Assert.Equal(X, CheckpointFolder.Resolve(mine).RunId);
    }

    [Fact]
    public void ANewRunIsRefusedAFolderOfAnotherRunsCheckpoints()
    {
        using var dir = new TempDir();
        CheckpointFolder.CheckFreeFor(dir.File("missing"), X);
        CheckpointFolder.CheckFreeFor(dir.Path, X);
        Checkpoint.Save(dir.Path, X, After(2), NoMetadata);
        CheckpointFolder.CheckFreeFor(dir.Path, X); // its own
        var e = Assert.Throws<GpuNetException>(() => CheckpointFolder.CheckFreeFor(dir.Path, Y));
        Assert.Contains($"holds the checkpoints of another run (run {X}: 2 epochs and 0 rows done", e.Message);
        using var old = new TempDir();
        old.WriteText("checkpoint-e000001-r000000000.safetensors", "");
        Assert.Contains("a checkpoint of an earlier gpunet", Assert.Throws<GpuNetException>(() => CheckpointFolder.CheckFreeFor(old.Path, Y)).Message);
        Assert.Contains("holds only checkpoints of an earlier gpunet (gpunet-checkpoint/1, no run identity)",
            Assert.Throws<GpuNetException>(() => CheckpointFolder.Resolve(old.Path)).Message);
    }

    [Fact]
    public void ARenamedCheckpointAndADamagedNewestOneAreNamed()
    {
        using var dir = new TempDir();
        string first = Checkpoint.Save(dir.Path, X, After(1), NoMetadata);
        string second = Checkpoint.Save(dir.Path, X, After(2), NoMetadata);
        File.WriteAllBytes(second, File.ReadAllBytes(second)[..100]);
        var e = Assert.Throws<ModelFormatException>(() => CheckpointFolder.Resolve(dir.Path));
        Assert.StartsWith($"safetensors file '{second}': ", e.Message);
        Assert.EndsWith($"; the run's previous checkpoint is {first}: resume from that file (resume)", e.Message);
        Assert.Equal(["resume"], e.Settings);
        string renamed = Path.Combine(dir.Path, $"checkpoint-{Y}-e000001-r000000000.safetensors");
        File.Move(first, renamed);
        Assert.Equal($"checkpoint '{renamed}': its name says run {Y} after 1 epochs and 0 rows, but it holds run {X} after 1 epochs and 0 rows; " +
                     "was it renamed or copied over?", Assert.Throws<ModelFormatException>(() => CheckpointFolder.Resolve(renamed)).Message);
        string plain = Path.Combine(dir.Path, "best.safetensors");
        File.Copy(renamed, plain);
        Assert.Equal(X, CheckpointFolder.Resolve(plain).RunId); // a name of the user's own is not a checkpoint's name: nothing to check
    }
}
