using System.Globalization;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;

namespace GpuNet.Cli;

internal static class PredictCommand
{
    public const string Help = """
        usage: gpunet predict --model FILE --input FILE.csv [--output FILE.csv] [--labels] [--header] [--sep SEP] [--device SPEC]

        One output row per input row, in input order: the model's outputs (probabilities for softmax and logistic
        models), or with --labels the predicted class name. The input holds feature columns only; --header says its
        first line is a header. Without --header, a first line none of whose cells is a number is read as a header
        (and stderr says so); one mixing numbers and text is data, and its text is an error. --sep reads a file separated
        by semicolons, tabs or pipes (SEP: comma, semicolon, tab, pipe). Without --output, rows go to stdout.

        """;

    public static int Run(IEnumerable<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new Arguments("predict", args, ["model", "input", "output", "device", "sep"], ["labels", "header"]);
        string model = a.String("model") ?? throw new UsageException("predict needs --model FILE");
        string input = a.String("input") ?? throw new UsageException("predict needs --input FILE.csv");
        string? output = a.String("output");
        if (output != null) OptionChecks.Writable("--output", output);
        OptionChecks.Distinct(("--model", model, false), ("--input", input, false), ("--output", output, true));
        using var device = Gpu.Open(OptionChecks.Device(a));
        using var predictor = Predictor.Load(device, model);
        string sepName = a.String("sep", "comma");
        char sep = Csv.ParseSeparator(sepName) ?? throw new UsageException($"--sep: unknown '{sepName}', use {Csv.SeparatorNames}");
        var first = Csv.PeekFirstRecord(input, sep);
        if (first.Count != predictor.InputSize)
            throw new DataFormatException(
                $"{input}: line {first.Line} has {Count(first.Count, "column")}; {predictor.Name} takes {Count(predictor.InputSize, "feature")}" +
                (first.Count == predictor.InputSize + 1 ? " (is the label column still in the file? predict takes features only)" : "") +
                (first.SuggestedSeparator is { } s ? $"; the line looks separated by {s}s: add --sep {s}" : ""));
        bool hasHeader = a.Has("header");
        if (!hasHeader && first.LooksLikeHeader)
        {
            // Skipping a line is never silent: one output row per input row is the promise.
            hasHeader = true;
            stderr.WriteLine($"gpunet: {input}: line {first.Line} is read as a header, not predicted (none of its cells is a number); " +
                "--header says so and silences this");
        }
        var m = Csv.ReadMatrix(input, hasHeader, sep);
        List<IReadOnlyList<string>> rows;
        IReadOnlyList<string> header;
        if (a.Has("labels"))
        {
            if (predictor.Info.Task != TaskKind.Classification)
                throw new UsageException("--labels needs a classification model; this one does regression");
            var names = predictor.Info.ClassNames;
            rows = predictor.PredictClasses(m.Values, m.Rows)
                .Select(c => (IReadOnlyList<string>)new[] { names != null && c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture) }).ToList();
            header = ["label"];
        }
        else
        {
            var outs = predictor.Predict(m.Values, m.Rows);
            int o = predictor.Network.Spec.OutputSize;
            var names = predictor.Info.ClassNames;
            header = Enumerable.Range(0, o).Select(j => names != null && names.Count == o ? names[j] : $"output_{j}").ToArray();
            rows = Enumerable.Range(0, m.Rows).Select(r => (IReadOnlyList<string>)Enumerable.Range(0, o)
                .Select(j => outs[(long)r * o + j].ToString("R", CultureInfo.InvariantCulture)).ToArray()).ToList();
        }
        if (output != null) Csv.Write(output, header, rows);
        else Csv.Write(stdout, header, rows);
        return 0;
    }

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";
}
