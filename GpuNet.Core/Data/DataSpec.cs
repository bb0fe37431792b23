using System.Globalization;
using System.Text;

namespace GpuNet.Data;

/// <summary>Which data a <see cref="DataSpec"/> names.</summary>
public enum DataSpecKind
{
    /// <summary><c>digits</c>: the embedded 8 × 8 handwritten digits (<see cref="BuiltIn.Digits"/>).</summary>
    Digits,
    /// <summary><c>fashion-mnist</c>: found by <see cref="Idx.FindFashionMnist(string?)"/>.</summary>
    FashionMnist,
    /// <summary><c>mnist-idx:DIR</c>: the four standard IDX files in DIR (<see cref="Idx.LoadDirectory"/>).</summary>
    MnistIdx,
    /// <summary><c>csv:PATH[,options]</c>: <see cref="Csv.Load(string, CsvOptions?)"/>.</summary>
    Csv,
    /// <summary><c>xor</c>: <see cref="BuiltIn.Xor"/>.</summary>
    Xor,
    /// <summary><c>parity:N</c>: <see cref="BuiltIn.Parity"/>.</summary>
    Parity,
    /// <summary><c>sine</c>: <see cref="BuiltIn.Sine"/>.</summary>
    Sine,
}

/// <summary>Data ready for training: the training set, the test set when the source has one, and a one-line summary.</summary>
public sealed class LoadedData
{
    /// <summary>Training examples.</summary>
    public required Dataset Train { get; init; }
    /// <summary>Held-out test examples, when the source has them (null for xor and parity, and for csv without test=).</summary>
    public Dataset? Test { get; init; }
    /// <summary>What was loaded, from where, with row, feature and class counts.</summary>
    public required string Description { get; init; }
}

/// <summary>
/// The value of the command-line option <c>--data SPEC</c>. Accepted forms (keywords and option names are
/// case-insensitive, paths are taken as written):
/// <list type="bullet">
/// <item><c>digits</c> — embedded 8 × 8 handwritten digits, fixed 75/25 split.</item>
/// <item><c>fashion-mnist</c> — Fashion-MNIST IDX files from the data directory, $GPUNET_DATA or the Debian package.</item>
/// <item><c>mnist-idx:DIR</c> — the four standard MNIST-layout IDX files (plain or .gz) in DIR.</item>
/// <item><c>csv:PATH[,label=COL][,header][,sep=SEP][,task=classify|regress|auto][,test=PATH][,drop-nonfinite]</c> — a
/// CSV file; COL is a header name or a 0-based index (negative from the end; default: last column); header says the
/// first line names the columns (without it, a first line none of whose cells is a number is taken for a header);
/// SEP is comma (default), semicolon, tab or pipe; test= names a test file read with the same options and the training
/// classes; when the training file has a header, the test file's must equal it. Paths cannot contain commas.</item>
/// <item><c>xor</c>, <c>parity:N</c> (N in 1..20), <c>sine</c> — synthetic problems.</item>
/// </list>
/// </summary>
public sealed record DataSpec
{
    /// <summary>The forms <see cref="Parse"/> accepts, as shown in its errors.</summary>
    public const string AcceptedForms =
        "digits | fashion-mnist | mnist-idx:DIR | csv:PATH[,label=COL][,header][,sep=SEP][,task=classify|regress|auto][,test=PATH][,drop-nonfinite] " +
        "| xor | parity:N (N in 1..20) | sine";

    /// <summary>Which data.</summary>
    public required DataSpecKind Kind { get; init; }
    /// <summary>The directory (mnist-idx) or training file (csv).</summary>
    public string? Path { get; init; }
    /// <summary>The csv test file (test=).</summary>
    public string? TestPath { get; init; }
    /// <summary>The csv label column (label=): header name or 0-based index; null = last column.</summary>
    public string? LabelColumn { get; init; }
    /// <summary>The csv files have a header line (header); without it the header rule decides
    /// (<see cref="CsvOptions.HasHeader"/>).</summary>
    public bool HasHeader { get; init; }
    /// <summary>The csv separator (sep=): ',', ';', '\t' or '|'.</summary>
    public char Separator { get; init; } = ',';
    /// <summary>The csv task (task=).</summary>
    public CsvTask Task { get; init; } = CsvTask.Auto;
    /// <summary>Drop csv rows holding NaN or ±infinity (drop-nonfinite).</summary>
    public bool DropNonFinite { get; init; }
    /// <summary>N of parity:N.</summary>
    public int ParityBits { get; init; }
    /// <summary>Bounds on what the files may make the readers hold; null: <see cref="DataLimits.FromEnvironment"/>.</summary>
    public DataLimits? Limits { get; init; }

    /// <summary>Reads a spec.</summary>
    /// <exception cref="GpuNetException">The spec is empty, unknown or malformed; the message lists the accepted forms.</exception>
    public static DataSpec Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw Bad("empty data spec");
        spec = spec.Trim();
        int colon = spec.IndexOf(':');
        string keyword = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        string? argument = colon < 0 ? null : spec[(colon + 1)..];

        DataSpec NoArgument(DataSpecKind kind) =>
            argument == null ? new DataSpec { Kind = kind } : throw Bad($"data spec \"{spec}\": {keyword} takes no argument");

        switch (keyword)
        {
            case "digits": return NoArgument(DataSpecKind.Digits);
            case "fashion-mnist": return NoArgument(DataSpecKind.FashionMnist);
            case "xor": return NoArgument(DataSpecKind.Xor);
            case "sine": return NoArgument(DataSpecKind.Sine);
            case "mnist-idx":
                if (string.IsNullOrWhiteSpace(argument)) throw Bad($"data spec \"{spec}\": mnist-idx needs a directory, as in mnist-idx:DIR");
                return new DataSpec { Kind = DataSpecKind.MnistIdx, Path = argument.Trim() };
            case "parity":
                if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int bits)
                    || bits < 1 || bits > BuiltIn.MaxParityBits)
                    throw Bad($"data spec \"{spec}\": parity:N needs a whole number N from 1 to {BuiltIn.MaxParityBits}, got \"{argument}\"");
                return new DataSpec { Kind = DataSpecKind.Parity, ParityBits = bits };
            case "csv":
                return ParseCsv(spec, argument);
            default:
                throw Bad($"unknown data spec \"{spec}\"");
        }
    }

    /// <summary>Parses <paramref name="spec"/> and loads it (<see cref="Load(string?)"/>).</summary>
    public static LoadedData Load(string spec, string? dataDir) => Parse(spec).Load(dataDir);

    /// <summary>Loads the data this spec names.</summary>
    /// <param name="dataDir">The data directory: where to look first for Fashion-MNIST; other forms ignore it.</param>
    /// <exception cref="DataFormatException">The data is missing or malformed.</exception>
    public LoadedData Load(string? dataDir)
    {
        switch (Kind)
        {
            case DataSpecKind.Digits:
            {
                var (train, test) = BuiltIn.Digits();
                return Loaded("digits (8×8 handwritten digits, embedded)", train, test);
            }
            case DataSpecKind.FashionMnist:
            {
                string dir = Idx.FindFashionMnist(dataDir);
                var (train, test) = Idx.LoadDirectory(dir, Idx.FashionMnistClassNames, Limits);
                return Loaded($"fashion-mnist ({dir})", train, test);
            }
            case DataSpecKind.MnistIdx:
            {
                var (train, test) = Idx.LoadDirectory(Path!, limits: Limits);
                return Loaded($"mnist-idx ({Path})", train, test);
            }
            case DataSpecKind.Csv:
                return LoadCsv(CsvOptionsOf());
            case DataSpecKind.Xor:
                return Loaded("xor", BuiltIn.Xor(), null);
            case DataSpecKind.Parity:
                return Loaded($"parity:{ParityBits}", BuiltIn.Parity(ParityBits), null);
            case DataSpecKind.Sine:
            {
                var (train, test) = BuiltIn.Sine();
                return Loaded("sine (sin x on [−π, π])", train, test);
            }
            default:
                throw new InvalidOperationException($"unknown data kind {Kind}");
        }
    }

    /// <summary>
    /// Loads the data to evaluate a model on. CSV labels are read the way the model reads them instead of being
    /// decided from the file: as regression targets for a regression model; for a classifier, through its classes
    /// (integer labels compare by value), so a file may hold any subset of them in any order, and a label the model
    /// does not know is an error naming the file, line and label. An explicit <c>task=</c> in the spec is kept.
    /// Other sources load as <see cref="Load(string?)"/> does.
    /// </summary>
    /// <param name="dataDir">As for <see cref="Load(string?)"/>.</param>
    /// <param name="task">The model's task.</param>
    /// <param name="classes">The model's classes in output order (classification).</param>
    /// <param name="model">Names the model in errors, e.g. "model file 'm.safetensors'".</param>
    /// <exception cref="DataFormatException">The data is missing or malformed, or holds a label the model does not know.</exception>
    public LoadedData LoadForModel(string? dataDir, TaskKind task, IReadOnlyList<string>? classes, string model)
    {
        if (Kind != DataSpecKind.Csv) return Load(dataDir);
        var options = CsvOptionsOf();
        if (task == TaskKind.Classification && classes != null && Task != CsvTask.Regress)
            options = options with { ClassNames = classes, ClassNamesSource = model };
        else if (task == TaskKind.Regression && Task == CsvTask.Auto)
            options = options with { Task = CsvTask.Regress };
        return LoadCsv(options);
    }

    /// <summary>The spec in the form <see cref="Parse"/> reads.</summary>
    public override string ToString()
    {
        switch (Kind)
        {
            case DataSpecKind.Digits: return "digits";
            case DataSpecKind.FashionMnist: return "fashion-mnist";
            case DataSpecKind.Xor: return "xor";
            case DataSpecKind.Sine: return "sine";
            case DataSpecKind.MnistIdx: return $"mnist-idx:{Path}";
            case DataSpecKind.Parity: return $"parity:{ParityBits.ToString(CultureInfo.InvariantCulture)}";
        }
        var sb = new StringBuilder("csv:").Append(Path);
        if (LabelColumn != null) sb.Append(",label=").Append(LabelColumn);
        if (HasHeader) sb.Append(",header");
        if (Separator != ',') sb.Append(",sep=").Append(CsvText.SeparatorName(Separator));
        if (Task != CsvTask.Auto) sb.Append(",task=").Append(Task == CsvTask.Classify ? "classify" : "regress");
        if (TestPath != null) sb.Append(",test=").Append(TestPath);
        if (DropNonFinite) sb.Append(",drop-nonfinite");
        return sb.ToString();
    }

    private const string CsvOptionsText = "label=COL, header, sep=SEP, task=classify|regress|auto, test=PATH, drop-nonfinite";

    private static DataSpec ParseCsv(string spec, string? argument)
    {
        var parts = (argument ?? "").Split(',');
        string path = parts[0].Trim();
        if (path.Length == 0) throw Bad($"data spec \"{spec}\": csv needs a file, as in csv:PATH");
        string? label = null, test = null;
        bool header = false, drop = false;
        char separator = ',';
        CsvTask task = CsvTask.Auto;
        var seen = new HashSet<string>();
        foreach (var raw in parts.Skip(1))
        {
            string part = raw.Trim();
            int eq = part.IndexOf('=');
            string name = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            string? value = eq < 0 ? null : part[(eq + 1)..].Trim();
            if (name.Length == 0) throw Bad($"data spec \"{spec}\": empty csv option (csv options: {CsvOptionsText})");
            if (!seen.Add(name)) throw Bad($"data spec \"{spec}\": csv option {name} given twice");
            switch (name)
            {
                case "header" when value == null:
                    header = true;
                    break;
                case "drop-nonfinite" when value == null:
                    drop = true;
                    break;
                case "label" when !string.IsNullOrEmpty(value):
                    label = value;
                    break;
                case "test" when !string.IsNullOrEmpty(value):
                    test = value;
                    break;
                case "sep" when value != null:
                    separator = CsvText.ParseSeparator(value)
                        ?? throw Bad($"data spec \"{spec}\": sep={value} is not a separator: use {CsvText.SeparatorNames}");
                    break;
                case "task" when value != null:
                    task = value.ToLowerInvariant() switch
                    {
                        "classify" => CsvTask.Classify,
                        "regress" => CsvTask.Regress,
                        "auto" => CsvTask.Auto,
                        _ => throw Bad($"data spec \"{spec}\": task={value} is not classify, regress or auto"),
                    };
                    break;
                default:
                    throw Bad($"data spec \"{spec}\": unknown or malformed csv option \"{part}\" (csv options: {CsvOptionsText}; paths cannot contain commas)");
            }
        }
        return new DataSpec
        {
            Kind = DataSpecKind.Csv, Path = path, LabelColumn = label, HasHeader = header, Task = task, TestPath = test,
            DropNonFinite = drop, Separator = separator,
        };
    }

    private CsvOptions CsvOptionsOf() => new()
    {
        LabelColumn = LabelColumn, HasHeader = HasHeader ? true : null, Task = Task, DropNonFinite = DropNonFinite,
        Separator = Separator, Limits = Limits,
    };

    private LoadedData LoadCsv(CsvOptions options)
    {
        var train = Csv.Load(Path!, options);
        CsvLoadResult? test = null;
        if (TestPath != null)
        {
            // Columns first: a test file laid out differently fails on its layout, not on whatever cell it misreads.
            CheckTestColumns(train);
            var testOptions = options.ClassNames != null ? options // fixed classes (a model's) hold for both files
                : train.Dataset.Task == TaskKind.Classification
                    ? options with { ClassNames = train.Dataset.ClassNames, ClassNamesSource = $"the training file {Path}" }
                    : options with { Task = CsvTask.Regress };
            // A training header was checked against the test file's first line; without one, the rule decides there too.
            test = Csv.Load(TestPath, testOptions with { HasHeader = train.Header != null ? true : options.HasHeader });
        }
        string dropped = train.DroppedRows + (test?.DroppedRows ?? 0) is var d && d > 0 ? $"; dropped {d} rows holding NaN or ±infinity" : "";
        return Loaded($"csv ({Path}{(TestPath != null ? ", test " + TestPath : "")}{Detected(train, test)}){dropped}", train.Dataset, test?.Dataset);
    }

    private string Detected(CsvLoadResult train, CsvLoadResult? test)
    {
        var files = new[] { (train, Path), (test, TestPath) }.Where(f => f.Item1?.HeaderDetected == true).Select(f => f.Item2).ToArray();
        return files.Length == 0 ? ""
            : $"; the first line of {string.Join(" and ", files)} read as a header (none of its cells is a number; the csv option header says so)";
    }

    /// <summary>The test file has the training file's columns: as many, and with a header the same names in the same order.</summary>
    private void CheckTestColumns(CsvLoadResult train)
    {
        var first = Csv.PeekFirstRecord(TestPath!, Separator, Limits);
        int columns = train.Dataset.FeatureCount + 1;
        if (first.Count != columns)
            throw new DataFormatException(
                $"{TestPath}: line {first.Line} has {DataFiles.Count(first.Count, "column")}; the training file {Path} has {columns} " +
                "(the test file needs the same columns in the same order)");
        if (train.Header == null) return;
        for (int c = 0; c < columns; c++)
            if (first.Cells[c] != train.Header[c])
                throw new DataFormatException(
                    $"{TestPath}: header column {c + 1} is {CsvText.Quote(first.Cells[c])} but column {c + 1} of the training file {Path} is {CsvText.Quote(train.Header[c])} " +
                    "(the test file needs the same columns in the same order)");
    }

    private static LoadedData Loaded(string what, Dataset train, Dataset? test)
    {
        string targets = train.Task == TaskKind.Classification
            ? $"{train.TargetCount} classes"
            : $"{train.TargetCount} regression target{(train.TargetCount == 1 ? "" : "s")}";
        string rows = test != null ? $"{train.Count} training / {test.Count} test rows" : $"{train.Count} training rows, no test set";
        return new LoadedData { Train = train, Test = test, Description = $"{what}: {rows}, {train.FeatureCount} feature{(train.FeatureCount == 1 ? "" : "s")}, {targets}" };
    }

    private static GpuNetException Bad(string problem) => new($"{problem}. Accepted data specs: {AcceptedForms}");
}
