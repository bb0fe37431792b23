using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>
/// Training checkpoints: a <see cref="TrainingState"/> as a safetensors file (parameters, optimizer moments and the
/// early-stopping snapshot as [R, P] tensors; the run's identity, position, sums, history and the caller's strings as
/// metadata), written atomically as <c>checkpoint-{run id}-e{epochs}-r{rows}.safetensors</c>. Every checkpoint names
/// the run that wrote it, so that a run prunes and resumes only its own (see <see cref="CheckpointFolder"/>); the
/// newest two of each run are kept.
/// </summary>
public static class Checkpoint
{
    /// <summary>Value of the "format" metadata key.</summary>
    public const string Format = "gpunet-checkpoint/2";

    /// <summary>The format before run identities, which is refused by name.</summary>
    internal const string FormatVersion1 = "gpunet-checkpoint/1";

    /// <summary>Hex digits in a run id (64 random bits).</summary>
    public const int RunIdLength = 16;

    /// <summary>How many checkpoints of a run <see cref="Save"/> keeps in a folder.</summary>
    public const int Kept = 2;

    /// <summary>The metadata keys of the checkpoint itself; a caller's strings must use others.</summary>
    public static readonly IReadOnlySet<string> ReservedKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "format", "run_id", "epochs_completed", "rows_done", "steps", "loss_sums", "hit_sums", "best_validation",
        "best_epoch", "history", "elapsed_seconds",
    };

    /// <summary>The fields of each history row, in the order they are written.</summary>
    internal static readonly string[] HistoryFields =
        ["epoch", "epochs", "lr", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "seconds", "samples_per_second"];

    /// <summary>A new run identity: <see cref="RunIdLength"/> lower-case hex digits from a cryptographic source, so
    /// that two runs started at once never share one.</summary>
    public static string NewRunId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RunIdLength / 2));

    /// <summary>Whether <paramref name="text"/> has the form of a run id.</summary>
    public static bool IsRunId(string? text) =>
        text is { Length: RunIdLength } && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>
    /// Writes <paramref name="state"/> of run <paramref name="runId"/> into <paramref name="folder"/> (created if
    /// missing), then removes that run's older checkpoints there beyond the newest <see cref="Kept"/>; other runs'
    /// files are never touched. Returns the new file's path.
    /// </summary>
    /// <exception cref="ArgumentException">The run id is malformed, the state is inconsistent, or
    /// <paramref name="metadata"/> uses one of <see cref="ReservedKeys"/>.</exception>
    /// <exception cref="IOException">The folder or file cannot be written; the message names them.</exception>
    public static string Save(string folder, string runId, TrainingState state, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(metadata);
        if (!IsRunId(runId)) throw new ArgumentException($"run id '{runId}' is not {RunIdLength} lower-case hex digits", nameof(runId));
        if (metadata.Keys.FirstOrDefault(ReservedKeys.Contains) is { } reserved)
            throw new ArgumentException($"metadata key '{reserved}' is one of the checkpoint's own", nameof(metadata));
        int k = state.Restarts;
        if (k < 1 || state.Parameters.Length == 0 || state.Parameters.Length % k != 0 || state.HitSums.Length != k)
            throw new ArgumentException($"the state holds {state.Parameters.Length} parameters and {state.LossSums.Length} and {state.HitSums.Length} sums: not [R, P] for R restarts", nameof(state));
        long[] shape = [k, state.Parameters.Length / k];
        var tensors = new List<TensorEntry> { new("parameters", shape, state.Parameters) };
        if (state.Moment1 != null) tensors.Add(new("moment1", shape, state.Moment1));
        if (state.Moment2 != null) tensors.Add(new("moment2", shape, state.Moment2));
        if (state.BestParameters != null) tensors.Add(new("best_parameters", shape, state.BestParameters));
        var meta = new Dictionary<string, string>(metadata)
        {
            ["format"] = Format, ["run_id"] = runId,
            ["epochs_completed"] = Invariant(state.EpochsCompleted), ["rows_done"] = Invariant(state.RowsDone), ["steps"] = Invariant(state.Steps),
            ["loss_sums"] = Json(w => Doubles(w, state.LossSums)), ["hit_sums"] = Json(w => Doubles(w, state.HitSums)),
            ["best_validation"] = state.BestValidation.ToString("R", CultureInfo.InvariantCulture), ["best_epoch"] = Invariant(state.BestEpoch),
            ["history"] = Json(w => History(w, state.History)),
            ["elapsed_seconds"] = state.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
        };
        CreateFolder(folder);
        string path = Path.Combine(folder, FileName(runId, state.EpochsCompleted, state.RowsDone));
        SafeTensors.Write(path, tensors, meta);
        CheckpointFolder.Prune(folder, runId, Kept);
        return path;
    }

    /// <summary>Reads and checks one checkpoint file, field by field (see <see cref="CheckpointFile"/>).</summary>
    /// <exception cref="ModelFormatException">Anything missing, malformed, out of range or inconsistent, or weights
    /// that are not finite in any restart; the message names the file and the field.</exception>
    /// <exception cref="GpuNetException">The path is a folder, pipe, FIFO or device (refused unopened).</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static CheckpointFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return CheckpointReader.Read(SafeTensors.Read(path, "checkpoint"), path);
    }

    /// <summary>Reads and checks a checkpoint held in memory; <paramref name="name"/> stands for the file in messages.</summary>
    /// <exception cref="ModelFormatException">As for <see cref="Read(string)"/>.</exception>
    public static CheckpointFile Read(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return CheckpointReader.Read(SafeTensors.Read(bytes, name), name);
    }

    /// <summary>"checkpoint-{run}-e{epochs:D6}-r{rows:D9}.safetensors".</summary>
    internal static string FileName(string runId, int epochs, int rows) =>
        string.Create(CultureInfo.InvariantCulture, $"checkpoint-{runId}-e{epochs:D6}-r{rows:D9}.safetensors");

    private static void CreateFolder(string folder)
    {
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create checkpoint folder '{folder}': " +
                (e is UnauthorizedAccessException ? "permission denied" : e.Message), e);
        }
    }

    private static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Doubles(Utf8JsonWriter w, IReadOnlyList<double>? values)
    {
        if (values == null) { w.WriteNullValue(); return; }
        w.WriteStartArray();
        foreach (double v in values) JsonValues.Write(w, v);
        w.WriteEndArray();
    }

    private static void History(Utf8JsonWriter w, IReadOnlyList<EpochReport> history)
    {
        w.WriteStartArray();
        foreach (var r in history)
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", r.Epoch);
            w.WriteNumber("epochs", r.Epochs);
            w.WriteNumber("lr", (double)r.LearningRate);
            w.WritePropertyName("train_loss"); Doubles(w, r.TrainLoss);
            w.WritePropertyName("train_accuracy"); Doubles(w, r.TrainAccuracy);
            w.WritePropertyName("validation_loss"); Doubles(w, r.ValidationLoss);
            w.WritePropertyName("validation_accuracy"); Doubles(w, r.ValidationAccuracy);
            w.WriteNumber("seconds", r.Elapsed.TotalSeconds);
            w.WriteNumber("samples_per_second", r.SamplesPerSecond);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
