namespace GpuNet.Data;

/// <summary>
/// Reads datasets from comma-separated text and writes such text.
/// </summary>
/// <remarks>
/// <para>Format: UTF-8 (a byte order mark is skipped; a file starting with the gzip magic bytes 1f 8b is decompressed
/// as it is read, and its gzip trailer must match the data); cells separated by commas (or the
/// <see cref="CsvOptions.Separator"/>: semicolons, tabs, pipes); LF, CRLF or CR line ends; blank lines, including a
/// trailing one, are skipped. A cell starting with a double quote is quoted (RFC 4180): it ends at the matching quote
/// and may hold separators, line breaks and doubled quotes (""). Unquoted cells are trimmed of spaces and tabs.</para>
/// <para>Numbers are parsed with the invariant culture (decimal point, optional exponent; "NaN", "Infinity" and the
/// Python spellings "nan" and "inf" are recognised so that they are reported as non-finite rather than non-numeric).
/// Values outside the float32 range count as non-finite.</para>
/// <para>Header: a first line none of whose cells is a number is a header unless told otherwise
/// (<see cref="CsvOptions.HasHeader"/>, <see cref="CsvFirstRecord.LooksLikeHeader"/>); a first line mixing numbers
/// and text is data, and its text an error.</para>
/// <para>Memory: a line longer than <see cref="DataLimits.MaxLineLength"/> or a cell longer than
/// <see cref="DataLimits.MaxCellLength"/> is an error naming the line; rows are kept as they are checked, in chunks,
/// with no string per row.</para>
/// <para>Every error is a <see cref="DataFormatException"/> naming the file and, where there is one, the 1-based line
/// (of the first line of a record that spans lines) and the 1-based column, with its header name.</para>
/// </remarks>
public static class Csv
{
    /// <summary>Under <see cref="CsvTask.Auto"/>, integer labels with more distinct values than this are read as
    /// regression targets rather than classes.</summary>
    public const int MaxAutoClasses = 100;

    /// <summary>
    /// Reads a dataset: one label column (<see cref="CsvOptions.LabelColumn"/>), every other column a numeric feature.
    /// </summary>
    /// <remarks>
    /// <para><b>Task.</b> <see cref="CsvTask.Auto"/> chooses classification when any label is not a number (all labels
    /// are then class names), or when every label is an integer literal (optional sign and digits only: "3", not "3.0")
    /// and there are 2 to <see cref="MaxAutoClasses"/> distinct values; otherwise regression. Write "3.0" or choose
    /// <see cref="CsvTask.Regress"/> to regress on integer targets.</para>
    /// <para><b>Classes.</b> When every label is an integer literal, classes are the distinct values in ascending
    /// numeric order, named by their value: labels 0..C-1 map to themselves, and e.g. {1, 2, 5} map to 0, 1, 2 named
    /// "1", "2", "5". When every label is a number but some are not integers ("1.5"), classification is refused.
    /// Otherwise each distinct label text is a class, numbered in order of first appearance.
    /// <see cref="Dataset.ClassNames"/> keeps the names. With <see cref="CsvOptions.ClassNames"/> the classes are fixed
    /// instead. Classification needs at least 2 classes; an empty label is an error.</para>
    /// <para><b>Regression.</b> The label is the single target.</para>
    /// <para>With a header, <see cref="Dataset.FeatureNames"/> holds the feature columns' names.</para>
    /// </remarks>
    /// <exception cref="DataFormatException">The file is missing, empty, not a regular file, or malformed (wrong number
    /// of cells, non-numeric or non-finite value, unknown label column or class, a single class, a line or cell over
    /// the limits).</exception>
    public static CsvLoadResult Load(string path, CsvOptions? options = null)
    {
        using var reader = CsvReader.OpenText(path);
        return CsvReader.Guard(path, () => CsvReader.Load(reader, path, options ?? new CsvOptions()));
    }

    /// <summary>Reads a purely numeric file, e.g. inputs to predict on: every column a value, the same checks as
    /// <see cref="Load(string, CsvOptions?)"/>; NaN and ±infinity are errors.</summary>
    /// <param name="path">The file.</param>
    /// <param name="hasHeader">True: the first line is a header; false: it is data; null: the header rule decides.</param>
    /// <param name="separator">The character between cells (',', ';', '\t' or '|').</param>
    /// <param name="limits">Bounds on a line and a cell; null: <see cref="DataLimits.FromEnvironment"/>.</param>
    /// <exception cref="DataFormatException">The file is missing, empty or malformed.</exception>
    public static CsvMatrix ReadMatrix(string path, bool? hasHeader, char separator = ',', DataLimits? limits = null)
    {
        using var reader = CsvReader.OpenText(path);
        return CsvReader.Guard(path, () => CsvReader.ReadMatrix(reader, path, hasHeader, separator, limits));
    }

    /// <summary>The first record of a CSV file (gzip and byte order marks handled, quoted cells honoured): its line,
    /// its cells, and whether it looks like a header (<see cref="CsvFirstRecord.LooksLikeHeader"/>: no cell is a number).</summary>
    /// <exception cref="DataFormatException">The file is empty or cannot be read; the message names it.</exception>
    public static CsvFirstRecord PeekFirstRecord(string path, char separator = ',', DataLimits? limits = null)
    {
        using var reader = CsvReader.OpenText(path);
        return CsvReader.Guard(path, () => CsvReader.PeekFirstRecord(reader, path, separator, limits));
    }

    /// <summary>Reads a separator as the csv option <c>sep=</c> writes it: comma, semicolon, tab, pipe, or the character
    /// itself (; | or a tab); null when it is none of them.</summary>
    public static char? ParseSeparator(string value) => CsvText.ParseSeparator(value.Trim());

    /// <summary>The separators <see cref="ParseSeparator"/> knows, by name, for messages.</summary>
    public static string SeparatorNames => CsvText.SeparatorNames;

    /// <summary>Writes rows of cells as CSV to <paramref name="writer"/> (LF line ends), quoting cells that need it.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows) =>
        CsvWriter.Write(writer, header, rows);

    /// <summary>Writes rows of cells as CSV (UTF-8, no byte order mark, LF line ends), quoting cells that need it;
    /// atomically (a temp file renamed into place), so a failed write leaves no partial file.</summary>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows) =>
        CsvWriter.Write(path, header, rows);

    /// <summary>Writes a row-major matrix [values.Length / columns, columns] as CSV, numbers in the invariant culture
    /// with the shortest text that reads back to the same float.</summary>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<string>? header, float[] values, int columns) =>
        CsvWriter.Write(path, header, values, columns);
}
