using System.Globalization;
using System.Text.Json;
using GpuNet.IO;

namespace GpuNet.Training;

/// <summary>
/// Reads a checkpoint as strictly as a model file: every field is checked for its kind, its range and its agreement
/// with the others (the history has one row per completed epoch, every per-restart list has R items, the tensors are
/// [R, P]), and the weights and moments must be finite for at least one restart, so that nothing a damaged or edited
/// file says can crash, overflow or mislead the run that continues from it.
/// </summary>
internal sealed class CheckpointReader
{
    private readonly SafeTensorsFile file;
    private readonly IReadOnlyDictionary<string, string> meta;
    private readonly string name;
    private int restarts;
    private long perNetwork;

    private CheckpointReader(SafeTensorsFile file, string name)
    {
        this.file = file;
        this.name = name;
        meta = file.Metadata;
    }

    public static CheckpointFile Read(SafeTensorsFile file, string name) => new CheckpointReader(file, name).Read();

    private ModelFormatException Fail(string what) => new($"checkpoint '{name}': {what}");

    private string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw Fail($"metadata key '{key}' is missing");

    private CheckpointFile Read()
    {
        string format = Need("format");
        if (format == Checkpoint.FormatVersion1)
            throw Fail($"it was written by an earlier gpunet ({format}), which recorded no run identity; it cannot be resumed by this one");
        if (format != Checkpoint.Format) throw Fail($"format is '{JsonValues.Shown(format)}', expected '{Checkpoint.Format}'");
        string runId = Need("run_id");
        if (!Checkpoint.IsRunId(runId))
            throw Fail($"run_id '{JsonValues.Shown(runId)}' is not {Checkpoint.RunIdLength} lower-case hex digits");
        var parameters = Tensors();
        int epochs = (int)Integer("epochs_completed", int.MaxValue - 1);
        int rows = (int)Integer("rows_done", int.MaxValue - 1);
        long steps = Integer("steps", long.MaxValue / 2);
        var (lossSums, hitSums) = Sums(rows);
        var history = History(epochs);
        var (bestEpoch, bestValidation) = EarlyStopping(epochs, parameters.Best != null);
        double seconds = Seconds();
        var state = new TrainingState
        {
            EpochsCompleted = epochs, RowsDone = rows, Steps = steps,
            Parameters = parameters.Weights, Moment1 = parameters.Moment1, Moment2 = parameters.Moment2, BestParameters = parameters.Best,
            LossSums = lossSums, HitSums = hitSums, BestEpoch = bestEpoch, BestValidation = bestValidation,
            History = history, Elapsed = TimeSpan.FromSeconds(seconds), Source = $"checkpoint '{name}'",
        };
        var own = meta.Where(kv => !Checkpoint.ReservedKeys.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return new CheckpointFile(name, runId, state, own);
    }

    private sealed record Blocks(float[] Weights, float[]? Moment1, float[]? Moment2, float[]? Best);

    /// <summary>parameters [R, P], optional moment1, moment2 (only with moment1) and best_parameters of the same shape,
    /// nothing else; R and P come from here, so every later count is checked against real data.</summary>
    private Blocks Tensors()
    {
        var weights = file.Find("parameters") ?? throw Fail("tensor 'parameters' is missing");
        if (weights.Shape.Length != 2 || weights.Shape[0] < 1 || weights.Shape[0] > int.MaxValue || weights.Shape[1] < 1)
            throw Fail($"tensor 'parameters' has shape {TensorEntry.FormatShape(weights.Shape)}, expected [restarts, parameters] with both at least 1");
        restarts = (int)weights.Shape[0];
        perNetwork = weights.Shape[1];
        float[]? Optional(string tensor)
        {
            var t = file.Find(tensor);
            if (t == null) return null;
            if (!t.Shape.AsSpan().SequenceEqual(weights.Shape))
                throw Fail($"tensor '{tensor}' has shape {TensorEntry.FormatShape(t.Shape)}; 'parameters' has {TensorEntry.FormatShape(weights.Shape)}");
            return t.Data;
        }
        var blocks = new Blocks(weights.Data, Optional("moment1"), Optional("moment2"), Optional("best_parameters"));
        if (blocks.Moment2 != null && blocks.Moment1 == null) throw Fail("tensor 'moment2' is there without 'moment1' (Adam keeps both)");
        foreach (var t in file.Tensors)
            if (t.Name is not ("parameters" or "moment1" or "moment2" or "best_parameters"))
                throw Fail($"tensor '{JsonValues.Shown(t.Name)}' is not part of a checkpoint (parameters, moment1, moment2, best_parameters)");
        CheckFinite(blocks);
        return blocks;
    }

    /// <summary>At least one restart must be finite in every block: a run whose every restart diverged cannot go on,
    /// and continuing it would only write a "last good" model that holds NaN.</summary>
    private void CheckFinite(Blocks b)
    {
        const string Diverged = "the run had diverged when it was written and cannot continue from it; resume from an earlier checkpoint or start again";
        var bad = Enumerable.Range(0, restarts).Select(k => FirstNonFinite(k, ("parameters", b.Weights), ("moment1", b.Moment1), ("moment2", b.Moment2))).ToArray();
        if (bad.All(x => x != null))
            throw Fail(restarts == 1 ? $"{bad[0]} is not finite: {Diverged}"
                : $"every one of the {restarts} restarts holds a value that is not finite ({string.Join(", ", bad.Take(3))}{(restarts > 3 ? ", …" : "")}): {Diverged}");
        if (b.Best == null) return;
        var badBest = Enumerable.Range(0, restarts).Select(k => FirstNonFinite(k, ("best_parameters", b.Best))).ToArray();
        if (badBest.All(x => x != null))
            throw Fail($"{badBest[0]} is not finite, nor is some value of every other restart: early stopping's best weights are unusable");
    }

    /// <summary>"parameters[1, 2] = NaN": the first value of restart <paramref name="k"/> that is not finite, or null.</summary>
    private string? FirstNonFinite(int k, params (string Name, float[]? Data)[] tensors)
    {
        foreach (var (tensor, data) in tensors)
        {
            if (data == null) continue;
            var row = data.AsSpan((int)(k * perNetwork), (int)perNetwork);
            for (int i = 0; i < row.Length; i++)
                if (!float.IsFinite(row[i])) return $"{tensor}[{k}, {i}] = {row[i].ToString(CultureInfo.InvariantCulture)}";
        }
        return null;
    }

    private long Integer(string key, long max) => JsonValues.Integer(Need(key), key, 0, max, Fail);

    /// <summary>loss_sums and hit_sums: R values each; zero at an epoch boundary; hits are whole counts up to the rows done.</summary>
    private (double[] Loss, double[] Hits) Sums(int rows)
    {
        using var lossDoc = JsonValues.Parse(Need("loss_sums"), "loss_sums", Fail);
        using var hitDoc = JsonValues.Parse(Need("hit_sums"), "hit_sums", Fail);
        var loss = JsonValues.Doubles(lossDoc.RootElement, $"loss_sums ({restarts} restarts)", restarts, allowNonFinite: true, Fail);
        var hits = JsonValues.Doubles(hitDoc.RootElement, $"hit_sums ({restarts} restarts)", restarts, allowNonFinite: false, Fail);
        for (int k = 0; k < restarts; k++)
        {
            if (loss[k] < 0 || (rows == 0 && loss[k] != 0))
                throw Fail($"loss_sums[{k}] is {loss[k].ToString(CultureInfo.InvariantCulture)}; with {rows} rows of the epoch done it must be {(rows == 0 ? "0" : "≥ 0")}");
            if (hits[k] < 0 || hits[k] > rows || hits[k] != Math.Floor(hits[k]))
                throw Fail($"hit_sums[{k}] is {hits[k].ToString(CultureInfo.InvariantCulture)}; it counts rows, so a whole number from 0 to the {rows} rows done");
        }
        return (loss, hits);
    }

    /// <summary>best_epoch and best_validation: no best (0, +∞) without best_parameters; a finite loss of an epoch done with them.</summary>
    private (int Epoch, double Validation) EarlyStopping(int epochs, bool hasBest)
    {
        int best = (int)JsonValues.Integer(Need("best_epoch"), "best_epoch", 0, epochs, Fail);
        string text = Need("best_validation");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw Fail($"best_validation is '{JsonValues.Shown(text)}', expected a number or Infinity");
        bool none = best == 0 && double.IsPositiveInfinity(v) && !hasBest;
        bool some = best > 0 && double.IsFinite(v) && v >= 0 && hasBest;
        if (!none && !some)
            throw Fail($"best_epoch {best}, best_validation {text} and {(hasBest ? "a" : "no")} best_parameters tensor do not agree " +
                       "(no best: 0, Infinity and no tensor; a best: its epoch, its finite loss and the tensor)");
        return (best, v);
    }

    private double Seconds()
    {
        string text = Need("elapsed_seconds");
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && double.IsFinite(s) && s >= 0 && s < 1e12)
            return s;
        throw Fail($"elapsed_seconds is '{JsonValues.Shown(text)}', expected a number of seconds ≥ 0");
    }

    /// <summary>history: exactly one row per completed epoch, in order, each an object with every field.</summary>
    private EpochReport[] History(int epochs)
    {
        using var doc = JsonValues.Parse(Need("history"), "history", Fail);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Array) throw Fail($"history is {JsonValues.Describe(root)}, expected an array of epoch rows");
        if (root.GetArrayLength() != epochs)
            throw Fail($"history has {root.GetArrayLength()} rows but epochs_completed is {epochs}; there is one row per completed epoch");
        var rows = new EpochReport[epochs];
        int i = 0;
        foreach (var row in root.EnumerateArray())
        {
            rows[i] = HistoryRow(row, i);
            if (i > 0 && (rows[i].TrainAccuracy != null) != (rows[0].TrainAccuracy != null)
                      || i > 0 && (rows[i].ValidationLoss != null) != (rows[0].ValidationLoss != null))
                throw Fail($"history row {i} has other fields than row 0 (accuracy or validation); a run keeps its task and validation data");
            i++;
        }
        return rows;
    }

    private EpochReport HistoryRow(JsonElement row, int index)
    {
        string what = $"history row {index}";
        if (row.ValueKind != JsonValueKind.Object) throw Fail($"{what} is {JsonValues.Describe(row)}, expected an object");
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in row.EnumerateObject())
        {
            string key;
            try { key = p.Name; }
            catch (InvalidOperationException) { throw Fail($"{what} has a field name that is not valid Unicode"); }
            if (Array.IndexOf(Checkpoint.HistoryFields, key) < 0)
                throw Fail($"{what} has an unknown field '{JsonValues.Shown(key)}' (fields: {string.Join(", ", Checkpoint.HistoryFields)})");
            if (!fields.TryAdd(key, p.Value)) throw Fail($"{what} has the field '{key}' twice");
        }
        JsonElement Field(string key) => fields.TryGetValue(key, out var v) ? v : throw Fail($"{what} has no '{key}'");
        int epoch = (int)JsonValues.Integer(Field("epoch"), $"{what}: epoch", index + 1, index + 1, Fail);
        int of = (int)JsonValues.Integer(Field("epochs"), $"{what}: epochs", epoch, int.MaxValue, Fail);
        double lr = JsonValues.Number(Field("lr"), $"{what}: lr", allowNonFinite: false, Fail);
        // 0 is a step size a schedule reaches: cosine annealing ends there, on a run's last epoch.
        if (!(lr >= 0) || !float.IsFinite((float)lr)) throw Fail($"{what}: lr is {lr.ToString(CultureInfo.InvariantCulture)}, expected a step size of 0 or more");
        double[]? Optional(string key, bool fraction)
        {
            var e = Field(key);
            if (e.ValueKind == JsonValueKind.Null) return null;
            var values = JsonValues.Doubles(e, $"{what}: {key}", restarts, allowNonFinite: !fraction, Fail);
            int bad = Array.FindIndex(values, v => fraction ? !(v >= 0 && v <= 1) : v < 0);
            if (bad >= 0) throw Fail($"{what}: {key}[{bad}] is {values[bad].ToString(CultureInfo.InvariantCulture)}, expected {(fraction ? "a fraction from 0 to 1" : "a loss ≥ 0")}");
            return values;
        }
        var trainLoss = Optional("train_loss", fraction: false) ?? throw Fail($"{what}: train_loss is null, expected {restarts} losses");
        double seconds = JsonValues.Number(Field("seconds"), $"{what}: seconds", allowNonFinite: false, Fail);
        double rate = JsonValues.Number(Field("samples_per_second"), $"{what}: samples_per_second", allowNonFinite: false, Fail);
        if (seconds < 0 || rate < 0) throw Fail($"{what}: seconds and samples_per_second must be ≥ 0");
        return new EpochReport(epoch, of, (float)lr, trainLoss, Optional("train_accuracy", fraction: true), Optional("validation_loss", fraction: false),
            Optional("validation_accuracy", fraction: true), TimeSpan.FromSeconds(Math.Min(seconds, 1e12)), rate);
    }
}
