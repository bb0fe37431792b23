namespace GpuNet.Data;

/// <summary>What <see cref="Csv.Load(string, CsvOptions?)"/> read.</summary>
public sealed class CsvLoadResult
{
    /// <summary>The examples kept.</summary>
    public required Dataset Dataset { get; init; }

    /// <summary>Rows dropped for NaN or ±infinity (only with <see cref="CsvOptions.DropNonFinite"/>).</summary>
    public int DroppedRows { get; init; }

    /// <summary>0-based index of the label column in the file.</summary>
    public int LabelColumn { get; init; }

    /// <summary>The header cells (all columns), when the file has one.</summary>
    public IReadOnlyList<string>? Header { get; init; }

    /// <summary>The first line was taken for a header by the header rule (<see cref="CsvOptions.HasHeader"/> null).</summary>
    public bool HeaderDetected { get; init; }

    /// <summary>Header names of the feature columns in feature order, when the file has a header.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }
}

/// <summary>The first record of a CSV file, as <see cref="Csv.PeekFirstRecord"/> read it.</summary>
/// <param name="Line">Its 1-based line.</param>
/// <param name="Cells">Its cells.</param>
public sealed record CsvFirstRecord(int Line, IReadOnlyList<string> Cells)
{
    /// <summary>Number of cells.</summary>
    public int Count => Cells.Count;

    /// <summary>True when no cell is a number: the line reads as a header. A line mixing numbers and other text is
    /// taken for data (whose non-numeric cells are errors), never for a header. <see cref="Csv.Load(string, CsvOptions?)"/>
    /// applies the same rule when <see cref="CsvOptions.HasHeader"/> is null.</summary>
    public bool LooksLikeHeader => CsvText.IsHeader(Cells);

    /// <summary>When the line is a single cell holding another separator (e.g. "1;2;3" read with commas): advice naming
    /// that separator and the csv option <c>sep=</c> that reads it; otherwise null.</summary>
    public string? SeparatorHint { get; init; }

    /// <summary>With <see cref="SeparatorHint"/>: the separator the line seems to use, by the name <c>sep=</c> gives it
    /// ("semicolon"); otherwise null.</summary>
    public string? SuggestedSeparator { get; init; }
}

/// <summary>Numbers read from a CSV file: row-major [Rows, Columns].</summary>
public sealed class CsvMatrix
{
    /// <summary>Row-major values.</summary>
    public required float[] Values { get; init; }
    /// <summary>Data rows.</summary>
    public required int Rows { get; init; }
    /// <summary>Values per row.</summary>
    public required int Columns { get; init; }
    /// <summary>The header cells, when the file has one.</summary>
    public IReadOnlyList<string>? Header { get; init; }
}
