using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>A checkpoint as read back and checked field by field (<see cref="Checkpoint.Read(string)"/>): the run it
/// belongs to, the state that run continues from, and the strings its writer added.</summary>
public sealed class CheckpointFile
{
    internal CheckpointFile(string path, string runId, TrainingState state, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        RunId = runId;
        State = state;
        Metadata = metadata;
    }

    /// <summary>The file it was read from, as given (or the name given with the bytes).</summary>
    public string Path { get; }

    /// <summary>The identity of the run that wrote it: <see cref="Checkpoint.RunIdLength"/> lower-case hex digits,
    /// the same in every checkpoint of the run, resumed or not.</summary>
    public string RunId { get; }

    /// <summary>Where the run stood.</summary>
    public TrainingState State { get; }

    /// <summary>The strings the writer passed to <see cref="Checkpoint.Save"/> (the checkpoint's own fields left out).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The writer's value of <paramref name="key"/> read as a JSON list of strings (a command line, say), or
    /// null when the key is absent.</summary>
    /// <exception cref="ModelFormatException">The value is not a JSON array of strings; the message names the
    /// checkpoint, the key and the item.</exception>
    public IReadOnlyList<string>? Strings(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!Metadata.TryGetValue(key, out var json)) return null;
        ModelFormatException Fail(string what) => new($"checkpoint '{Path}': {what}");
        using var doc = JsonValues.Parse(json, key, Fail);
        return JsonValues.Strings(doc.RootElement, key, null, Fail);
    }
}
