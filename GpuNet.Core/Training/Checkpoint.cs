using System.Globalization;
using System.Text.Json;
using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>
/// Training checkpoints: a <see cref="TrainingState"/> as a safetensors file (parameters, optimizer moments and the
/// early-stopping snapshot as tensors; position, sums, history and the caller's metadata as strings), written
/// atomically into a folder as <c>checkpoint-e{epochs}-r{rows}.safetensors</c>. The newest two are kept.
/// </summary>
public static class Checkpoint
{
    /// <summary>Value of the "format" metadata key.</summary>
    public const string Format = "gpunet-checkpoint/1";
    private const string Prefix = "checkpoint-e", Suffix = ".safetensors";
    // A diverged copy's sums are NaN: written as "NaN" rather than refused.
    private static readonly JsonSerializerOptions JsonOptions = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Writes <paramref name="state"/> into <paramref name="folder"/> (created if missing); returns the file's path.</summary>
    public static string Save(string folder, TrainingState state, IReadOnlyDictionary<string, string> metadata)
    {
        Directory.CreateDirectory(folder);
        var tensors = new List<TensorEntry> { new("parameters", [state.Parameters.Length], state.Parameters) };
        if (state.Moment1 != null) tensors.Add(new("moment1", [state.Moment1.Length], state.Moment1));
        if (state.Moment2 != null) tensors.Add(new("moment2", [state.Moment2.Length], state.Moment2));
        if (state.BestParameters != null) tensors.Add(new("best_parameters", [state.BestParameters.Length], state.BestParameters));
        var meta = new Dictionary<string, string>(metadata)
        {
            ["format"] = Format,
            ["epochs_completed"] = state.EpochsCompleted.ToString(CultureInfo.InvariantCulture),
            ["rows_done"] = state.RowsDone.ToString(CultureInfo.InvariantCulture),
            ["steps"] = state.Steps.ToString(CultureInfo.InvariantCulture),
            ["loss_sums"] = Doubles(state.LossSums),
            ["hit_sums"] = Doubles(state.HitSums),
            ["best_validation"] = state.BestValidation.ToString("R", CultureInfo.InvariantCulture),
            ["best_epoch"] = state.BestEpoch.ToString(CultureInfo.InvariantCulture),
            ["history"] = JsonSerializer.Serialize(state.History.Select(Row.From).ToArray(), JsonOptions),
        };
        string path = Path.Combine(folder, $"{Prefix}{state.EpochsCompleted:D6}-r{state.RowsDone:D9}{Suffix}");
        SafeTensors.Write(path, tensors, meta);
        foreach (var old in List(folder).SkipLast(2)) File.Delete(old);
        return path;
    }

    /// <summary>The newest checkpoint in <paramref name="folder"/>, or an error saying there is none.</summary>
    public static (TrainingState State, IReadOnlyDictionary<string, string> Metadata, string Path) LoadLatest(string folder)
    {
        if (!Directory.Exists(folder)) throw new GpuNetException($"checkpoint folder '{folder}' does not exist");
        var latest = List(folder).LastOrDefault()
            ?? throw new GpuNetException($"'{folder}' holds no checkpoint ({Prefix}*{Suffix}); nothing to resume");
        return (Read(latest, out var meta), meta, latest);
    }

    /// <summary>Reads one checkpoint file.</summary>
    public static TrainingState Read(string path, out IReadOnlyDictionary<string, string> metadata) =>
        Parse(SafeTensors.Read(path), path, out metadata);

    /// <summary>Reads one checkpoint file's bytes (read by another process: under MPI, rank 0 reads the file and sends
    /// it); <paramref name="path"/> names it in messages.</summary>
    public static TrainingState Read(byte[] bytes, string path, out IReadOnlyDictionary<string, string> metadata) =>
        Parse(SafeTensors.Read(new MemoryStream(bytes, writable: false), path), path, out metadata);

    private static TrainingState Parse(SafeTensorsFile file, string path, out IReadOnlyDictionary<string, string> metadata)
    {
        var meta = file.Metadata;
        ModelFormatException Fail(string what) => new($"checkpoint '{path}': {what}");
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw Fail($"metadata key '{key}' is missing");
        if (Need("format") != Format) throw Fail($"format is '{meta["format"]}', expected '{Format}'");
        float[]? Tensor(string name) => file.Tensors.FirstOrDefault(t => t.Name == name)?.Data;
        try
        {
            var state = new TrainingState
            {
                EpochsCompleted = int.Parse(Need("epochs_completed"), CultureInfo.InvariantCulture),
                RowsDone = int.Parse(Need("rows_done"), CultureInfo.InvariantCulture),
                Steps = long.Parse(Need("steps"), CultureInfo.InvariantCulture),
                Parameters = Tensor("parameters") ?? throw Fail("tensor 'parameters' is missing"),
                Moment1 = Tensor("moment1"),
                Moment2 = Tensor("moment2"),
                BestParameters = Tensor("best_parameters"),
                LossSums = JsonSerializer.Deserialize<double[]>(Need("loss_sums"), JsonOptions) ?? throw Fail("loss_sums is null"),
                HitSums = JsonSerializer.Deserialize<double[]>(Need("hit_sums"), JsonOptions) ?? throw Fail("hit_sums is null"),
                BestValidation = double.Parse(Need("best_validation"), CultureInfo.InvariantCulture),
                BestEpoch = int.Parse(Need("best_epoch"), CultureInfo.InvariantCulture),
                History = (JsonSerializer.Deserialize<Row[]>(Need("history"), JsonOptions) ?? []).Select(r => r.ToReport()).ToArray(),
            };
            metadata = meta;
            return state;
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException)
        {
            throw Fail($"malformed value: {e.Message}");
        }
    }

    private static IEnumerable<string> List(string folder) =>
        Directory.EnumerateFiles(folder, Prefix + "*" + Suffix).Order(StringComparer.Ordinal);

    private static string Doubles(double[] values) => JsonSerializer.Serialize(values, JsonOptions);

    private sealed record Row(int Epoch, int Epochs, float Lr, double[] TrainLoss, double[]? TrainAccuracy, double[]? ValidationLoss,
        double[]? ValidationAccuracy, double Seconds, double SamplesPerSecond)
    {
        public static Row From(EpochReport r) => new(r.Epoch, r.Epochs, r.LearningRate, r.TrainLoss, r.TrainAccuracy, r.ValidationLoss,
            r.ValidationAccuracy, r.Elapsed.TotalSeconds, r.SamplesPerSecond);

        public EpochReport ToReport() => new(Epoch, Epochs, Lr, TrainLoss, TrainAccuracy, ValidationLoss, ValidationAccuracy,
            TimeSpan.FromSeconds(Seconds), SamplesPerSecond);
    }
}
