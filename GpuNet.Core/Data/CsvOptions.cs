namespace GpuNet.Data;

/// <summary>How <see cref="Csv.Load(string, CsvOptions?)"/> reads the label column.</summary>
public enum CsvTask
{
    /// <summary>Decide from the labels (<see cref="TaskInference"/>).</summary>
    Auto,
    /// <summary>Labels are class names or integers.</summary>
    Classify,
    /// <summary>Labels are real numbers.</summary>
    Regress,
}

/// <summary>Options of <see cref="Csv.Load(string, CsvOptions?)"/>. Each has a csv option of the same meaning in a
/// data spec (<see cref="DataSpec"/>), named in brackets.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// The label column (<c>label=</c>): a header name (when the file has a header and exactly one header cell equals
    /// it), otherwise a 0-based column index, negative counting from the end (-1 = last). Null means the last column.
    /// Every other column is a feature.
    /// </summary>
    public string? LabelColumn { get; init; }

    /// <summary>True: the first non-blank line names the columns (<c>header</c>). False: every line is data.
    /// Null (the default): the first line is a header when none of its cells is a number, the rule
    /// <see cref="CsvFirstRecord.LooksLikeHeader"/> states; <see cref="CsvLoadResult.HeaderDetected"/> says when it was.</summary>
    public bool? HasHeader { get; init; }

    /// <summary>Classification, regression, or decide from the labels (<c>task=</c>; default: decide).</summary>
    public CsvTask Task { get; init; } = CsvTask.Auto;

    /// <summary>Drop rows holding NaN or ±infinity (in a feature, or in a regression target) instead of failing
    /// (<c>drop-nonfinite</c>); <see cref="CsvLoadResult.DroppedRows"/> says how many went.</summary>
    public bool DropNonFinite { get; init; }

    /// <summary>The character between cells (<c>sep=</c>): ',' (default), ';', '\t' or '|'.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Another character.</exception>
    public char Separator
    {
        get => _separator;
        init => _separator = CsvText.ParseSeparator(value.ToString()) ?? throw new ArgumentOutOfRangeException(
            nameof(Separator), $"'{value}' is not a CSV separator; use one of {CsvText.SeparatorNames}");
    }

    private readonly char _separator = ',';

    /// <summary>
    /// Fixed classes in index order, e.g. <see cref="Dataset.ClassNames"/> of the training set when loading its test
    /// set: implies classification, and every label must name one of them (integer labels compare by value, so
    /// "07" matches class "7").
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Where <see cref="ClassNames"/> come from, named when a label is not one of them
    /// (e.g. "the training file train.csv" or "model file 'm.safetensors'"); null says "known classes".</summary>
    public string? ClassNamesSource { get; init; }

    /// <summary>Bounds on a line's and a cell's length; null: <see cref="DataLimits.FromEnvironment"/>.</summary>
    public DataLimits? Limits { get; init; }
}
