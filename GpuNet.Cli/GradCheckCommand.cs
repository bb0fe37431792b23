using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary><c>gpunet gradcheck</c>: the device's gradient of a model's loss against float64 central finite differences.</summary>
internal static class GradCheckCommand
{
    public const string Help = """
        usage: gpunet gradcheck --model FILE --data SPEC [--rows N] [--split train|test] [--entries K] [--tolerance X]
                                [--data-dir DIR] [--device SPEC] [--json]

        Computes the gradient of the model's loss over the first N rows of the data (default 8, of the training split)
        on the device, with the training step's own forward and backward pass, and compares it with central finite
        differences (ℓ(p + h) − ℓ(p − h)) / 2h, h = 1e-6, of the same loss computed in float64 on the host: the check
        the test suite makes of the backward pass. Prints, per tensor, the relative error ‖g − fd‖₂ / ‖fd‖₂ and the
        entry with the largest difference. Exits 0 when every tensor is within the tolerance (default 1e-4: the
        device computes in float32, which gives about 1e-6; a wrong term gives 1e-2 or more), 1 otherwise.

        Missing edges of masked layers are not compared. An entry whose ±h step moves a ReLU pre-activation (or, for
        mae, an output's error) across 0 is left out and counted: there the quotient is no derivative.
        --rows is at most 1000. --entries K compares K entries per tensor, evenly spread, instead of all (two float64
        loss evaluations each).

        """;

    public static int Run(IEnumerable<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Arguments("gradcheck", args, ["model", "data", "rows", "split", "entries", "tolerance", "data-dir", "device"], ["json"]);
        string model = a.String("model") ?? throw new UsageException("gradcheck needs --model FILE");
        string spec = a.String("data") ?? throw new UsageException("gradcheck needs --data SPEC (the rows whose loss is differentiated)");
        OptionChecks.Readable("--model", model);
        DataSpec dataSpec;
        try { dataSpec = DataSpec.Parse(spec); }
        catch (GpuNetException e) { throw new UsageException($"--data: {e.Message}"); }
        int rows = a.Int("rows", 8, 1, 1000); // two float64 passes over the rows per entry: more rows buy little and cost much
        string split = a.String("split", "train").ToLowerInvariant();
        if (split is not ("train" or "test")) throw new UsageException($"--split: unknown '{split}', use train or test");
        var options = new GradientCheckOptions
        {
            EntriesPerTensor = a.Int("entries", 0, 0),
            Tolerance = a.Double("tolerance", GradientCheckOptions.DeviceTolerance, 0, double.PositiveInfinity, minExclusive: true),
        };
        using var device = Gpu.Open(OptionChecks.Device(a));
        using var predictor = Predictor.Load(device, model);
        var loaded = dataSpec.LoadForModel(a.String("data-dir"), predictor.Info.Task, predictor.Classes, predictor.Name);
        var data = split == "train" ? loaded.Train
            : loaded.Test ?? throw new UsageException($"--split test: '{spec}' has no test split; use train");
        data = data.Subset(Enumerable.Range(0, Math.Min(rows, data.Count)).ToArray());
        var report = GradientCheck.Run(predictor.Network, predictor.Prepare(data, spec), predictor.Info.Loss, options, predictor.Network.BestRestart);
        if (a.Has("json")) stdout.WriteLine(JsonSerializer.Serialize(Json(report, model, spec, split), TrainCommand.JsonOptions));
        else Print(stdout, report, $"{model} on {spec} ({split}, {report.Rows} row{(report.Rows == 1 ? "" : "s")}), loss {predictor.Info.Loss.Name()}, {device.Info.Name}");
        if (report.Passed) return 0;
        stderr.WriteLine($"gpunet: gradient check failed: {Failure(report)}");
        return 1;
    }

    private static string Failure(GradientCheckReport r)
    {
        if (!r.Tensors.Any(t => t.Checked > 0)) return "no entry could be compared (every one lies at a kink); try other --rows or --data";
        var bad = r.Tensors.Where(t => !(t.RelativeError <= r.Tolerance)).Select(t => $"{t.Name} {G(t.RelativeError)}");
        return $"relative error above the tolerance {G(r.Tolerance)} in {string.Join(", ", bad)}";
    }

    private static void Print(TextWriter w, GradientCheckReport r, string what)
    {
        w.WriteLine($"gradcheck: {what}");
        w.WriteLine($"loss: device {r.Loss:G9}, float64 {r.Float64Loss:G9}");
        int name = Math.Max(6, r.Tensors.Max(t => t.Name.Length));
        w.WriteLine($"{"tensor".PadRight(name)}  {"shape",-12} {"checked",8} {"skipped",8}  {"rel. error",-10}  worst entry: device vs finite difference");
        foreach (var t in r.Tensors)
        {
            string shape = $"[{string.Join(", ", t.Shape)}]";
            string worst = t.WorstIndex < 0 ? "-" : $"{t.WorstEntry} {G(t.WorstGradient)} vs {G(t.WorstFiniteDifference)}";
            string mark = t.RelativeError <= r.Tolerance ? "" : "  FAIL";
            w.WriteLine($"{t.Name.PadRight(name)}  {shape,-12} {t.Checked,8} {t.Skipped,8}  {G(t.RelativeError),-10}  {worst}{mark}");
        }
        w.WriteLine(r.Passed ? $"passed: worst relative error {G(r.WorstRelativeError)} ≤ tolerance {G(r.Tolerance)}" : "FAILED");
    }

    private static object Json(GradientCheckReport r, string model, string data, string split) => new
    {
        model = Path.GetFullPath(model), data, split, rows = r.Rows, loss = r.Loss, float64_loss = r.Float64Loss,
        tolerance = r.Tolerance, passed = r.Passed, worst_relative_error = r.WorstRelativeError,
        tensors = r.Tensors.Select(t => new
        {
            name = t.Name, shape = t.Shape, @checked = t.Checked, skipped = t.Skipped, relative_error = t.RelativeError,
            worst_entry = t.WorstIndex < 0 ? null : t.WorstEntry, worst_gradient = t.WorstGradient,
            worst_finite_difference = t.WorstFiniteDifference,
        }),
    };

    private static string G(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);
}
