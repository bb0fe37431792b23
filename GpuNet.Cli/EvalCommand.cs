using System.Text.Json;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Cli;

internal static class EvalCommand
{
    public const string Help = """
        usage: gpunet eval --model FILE --data SPEC [--split train|test|all] [--data-dir DIR] [--device SPEC] [--json]

        Loss and accuracy (with a confusion matrix) for classification; loss, MSE and MAE for regression.
        --split defaults to test when the data has a test split, else all. Labels are matched to the model's classes by
        name (integers by value), so the data may hold any subset of them; a CSV's labels are read as the model reads
        them (classes or regression targets) unless its spec says task=.

        """;

    public static int Run(IEnumerable<string> args, TextWriter stdout)
    {
        var a = new Arguments("eval", args, ["model", "data", "split", "data-dir", "device"], ["json"]);
        string model = a.String("model") ?? throw new UsageException("eval needs --model FILE");
        string spec = a.String("data") ?? throw new UsageException("eval needs --data SPEC (the data to evaluate on)");
        DataSpec dataSpec;
        try { dataSpec = DataSpec.Parse(spec); }
        catch (GpuNetException e) { throw new UsageException($"--data: {e.Message}"); }
        string? splitOption = a.String("split")?.ToLowerInvariant();
        if (splitOption is not (null or "train" or "test" or "all"))
            throw new UsageException($"--split: unknown '{splitOption}', use train, test or all");
        using var device = Gpu.Open(a.String("device", "auto"));
        using var predictor = Predictor.Load(device, model);
        var loaded = dataSpec.LoadForModel(a.String("data-dir"), predictor.Info.Task, predictor.Classes, predictor.Name);
        string split = splitOption ?? (loaded.Test != null ? "test" : "all");
        Dataset data = split switch
        {
            "train" => loaded.Train,
            "test" => loaded.Test ?? throw new UsageException($"--split test: '{spec}' has no test split; use train or all"),
            "all" => loaded.Test == null ? loaded.Train : loaded.Train.Concat(loaded.Test),
            _ => throw new UsageException($"--split: unknown '{split}', use train, test or all"),
        };
        var r = predictor.Evaluate(data, spec);
        if (a.Has("json"))
        {
            var json = new
            {
                model = Path.GetFullPath(model), data = spec, split, rows = r.Rows, loss = r.Loss, accuracy = r.Accuracy,
                mse = r.MeanSquaredError, mae = r.MeanAbsoluteError, classes = r.ClassNames,
                confusion = r.Confusion == null ? null : Enumerable.Range(0, r.Confusion.GetLength(0))
                    .Select(i => Enumerable.Range(0, r.Confusion.GetLength(1)).Select(j => r.Confusion[i, j]).ToArray()).ToArray(),
            };
            stdout.WriteLine(JsonSerializer.Serialize(json, TrainCommand.JsonOptions));
            return 0;
        }
        stdout.WriteLine($"{spec} ({split}, {r.Rows} rows) on {device.Info.Name}");
        stdout.WriteLine($"loss {r.Loss:F4} ({predictor.Info.Loss.Name()})");
        if (r.Accuracy != null) stdout.WriteLine($"accuracy {r.Accuracy.Value * 100:F2} %");
        if (r.MeanSquaredError != null) stdout.WriteLine($"mse {r.MeanSquaredError:G6}  mae {r.MeanAbsoluteError:G6}");
        if (r.Confusion != null) PrintConfusion(stdout, r.Confusion, r.ClassNames);
        return 0;
    }

    private static void PrintConfusion(TextWriter w, int[,] c, IReadOnlyList<string>? names)
    {
        int n = c.GetLength(0);
        var labels = Enumerable.Range(0, n).Select(i => names != null && i < names.Count ? names[i] : i.ToString()).ToArray();
        int width = Math.Max(5, Math.Max(labels.Max(l => l.Length), c.Cast<int>().Max().ToString().Length) + 1);
        int first = Math.Max(labels.Max(l => l.Length), "true\\pred".Length) + 1;
        w.WriteLine("confusion matrix (rows: true class, columns: predicted)");
        w.WriteLine("true\\pred".PadRight(first) + string.Concat(labels.Select(l => l.PadLeft(width))));
        for (int i = 0; i < n; i++)
            w.WriteLine(labels[i].PadRight(first) + string.Concat(Enumerable.Range(0, n).Select(j => c[i, j].ToString().PadLeft(width))));
    }
}
