using System.Globalization;
using System.Text.RegularExpressions;
using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>
/// The checkpoints in a folder, told apart by the run that wrote them. The rules that keep runs from losing each
/// other's work: a run prunes only its own files (<see cref="Checkpoint.Save"/>); a folder given to resume must hold
/// the checkpoints of one run only, or the file to continue must be named (<see cref="Resolve"/>); and a new run
/// refuses a folder that holds another run's checkpoints (<see cref="CheckFreeFor"/>).
/// </summary>
public static partial class CheckpointFolder
{
    /// <summary>One checkpoint file, as its name describes it; <see cref="RunId"/> is null for a file of the earlier
    /// format, whose name holds no run.</summary>
    public sealed record Entry(string Path, string? RunId, int Epochs, int Rows);

    [GeneratedRegex(@"^checkpoint-(?<run>[0-9a-f]{16})-e(?<e>\d{1,10})-r(?<r>\d{1,10})\.safetensors$")]
    private static partial Regex Named();

    [GeneratedRegex(@"^checkpoint-e\d+-r\d+\.safetensors$")]
    private static partial Regex OldNamed();

    /// <summary>The checkpoints in <paramref name="folder"/> (none when it does not exist), ordered by run, then
    /// epochs and rows done.</summary>
    public static IReadOnlyList<Entry> List(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (FileKinds.Of(folder) != FileKind.Directory) return [];
        var entries = new List<Entry>();
        foreach (var path in Directory.EnumerateFiles(folder, "checkpoint-*.safetensors"))
        {
            var entry = Parse(path);
            if (entry != null) entries.Add(entry);
        }
        return entries.OrderBy(e => e.RunId, StringComparer.Ordinal).ThenBy(e => e.Epochs).ThenBy(e => e.Rows).ToArray();
    }

    /// <summary>What the file name at <paramref name="path"/> says, or null when it is not a checkpoint's name.</summary>
    public static Entry? Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        var m = Named().Match(name);
        if (m.Success && int.TryParse(m.Groups["e"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int e)
                      && int.TryParse(m.Groups["r"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int r))
            return new Entry(path, m.Groups["run"].Value, e, r);
        return OldNamed().IsMatch(name) ? new Entry(path, null, 0, 0) : null;
    }

    /// <summary>
    /// Refuses, for a new run <paramref name="runId"/>, a folder that already holds checkpoints of another run: one
    /// folder keeps one run, so that "--resume FOLDER" is never ambiguous and no run is continued in another's place.
    /// </summary>
    /// <exception cref="GpuNetException">The folder holds another run's checkpoints; the message names that run, its
    /// newest file and the ways out.</exception>
    public static void CheckFreeFor(string folder, string runId)
    {
        var others = List(folder).Where(e => e.RunId != runId).ToArray();
        if (others.Length == 0) return;
        throw new GpuNetException($"checkpoint folder '{folder}' holds the checkpoints of another run ({Describe(others)}); " +
            $"a folder keeps one run's checkpoints: continue that run by resuming from '{folder}' (resume), " +
            "or give this run a checkpoint folder of its own (checkpointFolder), or remove the old checkpoints")
        { Settings = ["resume", "checkpointFolder"] };
    }

    /// <summary>What a run should be told to resume from after writing <paramref name="path"/> into
    /// <paramref name="folder"/>: the folder while it holds this run's checkpoints only, else the file itself, so that
    /// the resume line always continues this run.</summary>
    public static string ResumeTarget(string folder, string runId, string path) =>
        List(folder).All(e => e.RunId == runId) ? folder : path;

    /// <summary>
    /// The checkpoint that "--resume <paramref name="target"/>" continues: the file itself, or the newest checkpoint
    /// in the folder, which must hold one run's checkpoints only. The file is read and checked in full.
    /// </summary>
    /// <exception cref="GpuNetException">Nothing to resume, several runs in the folder, a path that is neither a
    /// folder nor a file, or a damaged checkpoint (a <see cref="ModelFormatException"/>, naming the run's previous
    /// checkpoint when there is one).</exception>
    public static CheckpointFile Resolve(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var kind = FileKinds.Of(target);
        if (kind == FileKind.Regular) return ReadNamed(target);
        if (kind == FileKind.Missing) throw new GpuNetException($"checkpoint folder or file '{target}' does not exist");
        if (kind != FileKind.Directory) throw new GpuNetException($"'{target}' is {kind.Describe()}, not a checkpoint folder or file");
        var entries = List(target);
        var runs = entries.Where(e => e.RunId != null).GroupBy(e => e.RunId).ToArray();
        if (runs.Length == 0)
            throw new GpuNetException(entries.Count > 0
                ? $"'{target}' holds only checkpoints of an earlier gpunet ({Checkpoint.FormatVersion1}, no run identity), which cannot be resumed"
                : $"'{target}' holds no checkpoint (checkpoint-*.safetensors); nothing to resume");
        if (runs.Length > 1)
            throw new GpuNetException($"'{target}' holds the checkpoints of {runs.Length} runs, so it does not say which to continue: " +
                string.Join("; ", runs.Select(r => Describe(r.ToArray()))) + "; resume from the checkpoint file of the one to continue (resume)")
            { Settings = ["resume"] };
        var own = runs[0].ToArray();
        try
        {
            return ReadNamed(own[^1].Path);
        }
        catch (ModelFormatException e) when (own.Length > 1)
        {
            throw new ModelFormatException($"{e.Message}; the run's previous checkpoint is {own[^2].Path}: resume from that file (resume)", e)
            { Settings = ["resume"] };
        }
    }

    /// <summary>Removes run <paramref name="runId"/>'s checkpoints in <paramref name="folder"/> but the newest
    /// <paramref name="keep"/>; a file that cannot be removed is left (the new checkpoint is written already).</summary>
    internal static void Prune(string folder, string runId, int keep)
    {
        foreach (var old in List(folder).Where(e => e.RunId == runId).SkipLast(keep))
        {
            try { File.Delete(old.Path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Reads a checkpoint and, when its name is a checkpoint's, checks that the name tells the truth.</summary>
    private static CheckpointFile ReadNamed(string path)
    {
        var file = Checkpoint.Read(path);
        var named = Parse(path);
        if (named?.RunId != null && (named.RunId != file.RunId || named.Epochs != file.State.EpochsCompleted || named.Rows != file.State.RowsDone))
            throw new ModelFormatException($"checkpoint '{path}': its name says run {named.RunId} after {named.Epochs} epochs and {named.Rows} rows, " +
                $"but it holds run {file.RunId} after {file.State.EpochsCompleted} epochs and {file.State.RowsDone} rows; was it renamed or copied over?");
        return file;
    }

    /// <summary>"run 1a2b…: 4 epochs and 0 rows done, newest …/checkpoint-….safetensors", for one run's entries.</summary>
    private static string Describe(IReadOnlyList<Entry> entries)
    {
        var newest = entries[^1];
        return newest.RunId == null
            ? $"a checkpoint of an earlier gpunet, {newest.Path}"
            : $"run {newest.RunId}: {newest.Epochs} epochs and {newest.Rows} rows done, newest {newest.Path}";
    }
}
