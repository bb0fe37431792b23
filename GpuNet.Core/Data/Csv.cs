using System.Globalization;
using System.Text;

namespace GpuNet.Data;

/// <summary>How <see cref="Csv.Load(string, CsvOptions?)"/> reads the label column.</summary>
public enum CsvTask
{
    /// <summary>Decide from the labels (rule in <see cref="Csv.Load(string, CsvOptions?)"/>).</summary>
    Auto,
    /// <summary>Labels are class names or integers.</summary>
    Classify,
    /// <summary>Labels are real numbers.</summary>
    Regress,
}

/// <summary>Options of <see cref="Csv.Load(string, CsvOptions?)"/>.</summary>
public sealed record CsvOptions
{
    /// <summary>
    /// The label column: a header name (when <see cref="HasHeader"/> is set and exactly one header cell equals it),
    /// otherwise a 0-based column index, negative counting from the end (-1 = last). Null means the last column.
    /// Every other column is a feature.
    /// </summary>
    public string? LabelColumn { get; init; }

    /// <summary>The first non-blank line names the columns.</summary>
    public bool HasHeader { get; init; }

    /// <summary>Classification, regression, or decide from the labels (default).</summary>
    public CsvTask Task { get; init; } = CsvTask.Auto;

    /// <summary>Drop rows holding NaN or ±infinity (in a feature, or in a regression target) instead of failing;
    /// <see cref="CsvLoadResult.DroppedRows"/> says how many went.</summary>
    public bool DropNonFinite { get; init; }

    /// <summary>
    /// Fixed classes in index order, e.g. <see cref="Dataset.ClassNames"/> of the training set when loading its test
    /// set: implies classification, and every label must name one of them (integer labels compare by value, so
    /// "07" matches class "7").
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Where <see cref="ClassNames"/> come from, named when a label is not one of them
    /// (e.g. "the training file train.csv" or "model file 'm.safetensors'"); null says "known classes".</summary>
    public string? ClassNamesSource { get; init; }
}

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
    /// taken for data (whose non-numeric cells are errors), never for a header.</summary>
    public bool LooksLikeHeader => Cells.All(c => !Csv.TryNumber(c, out _));
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

/// <summary>
/// Reads datasets from comma-separated text and writes such text.
/// </summary>
/// <remarks>
/// <para>Format: UTF-8 (a byte order mark is skipped; a file starting with the gzip magic bytes 1f 8b is decompressed,
/// and its gzip trailer must match the data);
/// cells separated by commas; LF, CRLF or CR line ends; blank lines, including a trailing one, are skipped.
/// A cell starting with a double quote is quoted (RFC 4180): it ends at the matching quote and may hold commas, line
/// breaks and doubled quotes (""). Unquoted cells are trimmed of spaces and tabs.</para>
/// <para>Numbers are parsed with the invariant culture (decimal point, optional exponent; "NaN", "Infinity" and the
/// Python spellings "nan" and "inf" are recognised so that they are reported as non-finite rather than non-numeric).
/// Values outside the float32 range count as non-finite.</para>
/// <para>Every error is a <see cref="DataFormatException"/> naming the file and, where there is one, the 1-based line
/// (the header is line 1 when there is one; a record spanning lines is named by its first line) and the 1-based
/// column, with its header name.</para>
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
    /// </remarks>
    /// <exception cref="DataFormatException">The file is missing, empty or malformed (wrong number of cells,
    /// non-numeric or non-finite value, unknown label column or class, a single class).</exception>
    public static CsvLoadResult Load(string path, CsvOptions? options = null)
    {
        using var reader = OpenText(path);
        return Guard(path, () => Load(reader, path, options ?? new CsvOptions()));
    }

    /// <summary>Reads a purely numeric file, e.g. inputs to predict on: every column a value, the same checks as
    /// <see cref="Load(string, CsvOptions?)"/>; NaN and ±infinity are errors.</summary>
    /// <exception cref="DataFormatException">The file is missing, empty or malformed.</exception>
    public static CsvMatrix ReadMatrix(string path, bool hasHeader)
    {
        using var reader = OpenText(path);
        return Guard(path, () => ReadMatrix(reader, path, hasHeader));
    }

    /// <summary>The first record of a CSV file (gzip and byte order marks handled, quoted cells honoured): its line,
    /// its cells, and whether it looks like a header (<see cref="CsvFirstRecord.LooksLikeHeader"/>: no cell is a number).</summary>
    /// <exception cref="DataFormatException">The file is empty or cannot be read; the message names it.</exception>
    public static CsvFirstRecord PeekFirstRecord(string path)
    {
        using var reader = OpenText(path);
        return Guard(path, () =>
        {
            var rr = new CsvRecordReader(reader, path);
            if (!rr.Read()) throw new DataFormatException($"{path}: the file is empty (no rows)");
            return new CsvFirstRecord(rr.Line, rr.Cells());
        });
    }

    /// <summary>Writes rows of cells as CSV to <paramref name="writer"/> (LF line ends), quoting cells that need it.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (header != null) WriteRow(writer, header);
        foreach (var row in rows) WriteRow(writer, row);
    }

    /// <summary>Writes rows of cells as CSV (UTF-8, no byte order mark, LF line ends), quoting cells that need it;
    /// atomically (a temp file renamed into place), so a failed write leaves no partial file.</summary>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        try
        {
            GpuNet.IO.AtomicFile.Write(path, stream =>
            {
                using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16);
                Write(w, header, rows);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GpuNetException(e.Message, e); // AtomicFile's message names the path and the cause
        }
    }

    /// <summary>Writes a row-major matrix [values.Length / columns, columns] as CSV, numbers in the invariant culture
    /// with the shortest text that reads back to the same float.</summary>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyList<string>? header, float[] values, int columns)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (columns <= 0 || values.Length % columns != 0)
            throw new ArgumentException($"{values.Length} values are not whole rows of {columns} columns");
        if (header != null && header.Count != columns)
            throw new ArgumentException($"{header.Count} header cells for {columns} columns");
        Write(path, header, Enumerable.Range(0, values.Length / columns).Select(r =>
            (IReadOnlyList<string>)Enumerable.Range(0, columns)
                .Select(c => values[r * columns + c].ToString(CultureInfo.InvariantCulture)).ToArray()));
    }

    private const string LoadHeaderHint = "if this line is a header, say so with HasHeader (gpunet: the csv spec's ,header)";
    private const string MatrixHeaderHint = "if this line is a header, say so with hasHeader (gpunet predict: --header)";
    private const string DropHint = "drop such rows with DropNonFinite (gpunet: the csv spec's ,drop-nonfinite)";
    private const string FiniteInputsHint = "predicting needs finite inputs: repair or remove that row";

    internal static CsvLoadResult Load(TextReader text, string source, CsvOptions o)
    {
        var rr = new CsvRecordReader(text, source);
        if (!rr.Read()) throw new DataFormatException($"{source}: the file is empty (no rows)");
        string[]? header = null;
        if (o.HasHeader)
        {
            header = rr.Cells();
            if (!rr.Read()) throw new DataFormatException($"{source}: no data rows after the header on line {rr.Line}");
        }
        int columns = header?.Length ?? rr.Count;
        int firstLine = header != null ? 1 : rr.Line;
        if (columns < 2)
            throw new DataFormatException(
                $"{source}: line {firstLine} has {columns} column{(columns == 1 ? "" : "s")}; a dataset needs a label column and at least one feature column");
        int label = ResolveLabelColumn(o.LabelColumn, header, columns, source);
        int featureCount = columns - 1;

        var features = new List<float>();
        var labels = new List<string>();
        var lines = new List<int>();
        var row = new float[featureCount];
        int dropped = 0;
        do
        {
            CheckCellCount(rr, columns, firstLine, source);
            string? hint = header == null && rr.Line == firstLine ? LoadHeaderHint : null;
            bool nonFinite = false;
            for (int c = 0, k = 0; c < columns; c++)
            {
                if (c == label) continue;
                float v = Number(rr, c, source, header, hint);
                if (!float.IsFinite(v))
                {
                    if (!o.DropNonFinite) throw NonFinite(rr, c, source, header, "feature", DropHint);
                    nonFinite = true;
                }
                row[k++] = v;
            }
            if (nonFinite)
            {
                dropped++;
                continue;
            }
            if ((long)features.Count + featureCount > Array.MaxLength)
                throw new DataFormatException($"{source}: line {rr.Line}: more feature values than one array can hold ({Array.MaxLength})");
            features.AddRange(row);
            labels.Add(rr.Text(label));
            lines.Add(rr.Line);
        } while (rr.Read());

        if (labels.Count == 0)
            throw new DataFormatException($"{source}: all {dropped} data rows hold NaN or infinite features and were dropped");

        string Where(int i) => Locate(source, lines[i], label, header);
        var task = ChooseTask(o, labels);
        var keep = new bool[labels.Count];
        Array.Fill(keep, true);
        int[]? classLabels = null;
        IReadOnlyList<string>? classNames = null;
        float[]? targets = null;
        if (task == TaskKind.Classification)
            (classLabels, classNames) = MapClasses(labels, o.ClassNames, o.ClassNamesSource, Where, source, label, header);
        else
        {
            targets = new float[labels.Count];
            for (int i = 0; i < labels.Count; i++)
            {
                if (!TryNumber(labels[i], out var v))
                    throw new DataFormatException($"{Where(i)}: target {Quote(labels[i])} is not a number");
                if (!float.IsFinite(v))
                {
                    if (!o.DropNonFinite) throw new DataFormatException($"{Where(i)}: target {NonFiniteText(labels[i], DropHint)}");
                    keep[i] = false;
                    dropped++;
                }
                targets[i] = v;
            }
        }

        var featureArray = features.ToArray();
        int kept = keep.Count(k => k);
        if (kept == 0)
            throw new DataFormatException($"{source}: all {dropped} data rows hold NaN or infinite values and were dropped");
        if (kept < labels.Count)
        {
            featureArray = Compact(featureArray, featureCount, keep, kept);
            targets = Compact(targets!, 1, keep, kept);
        }
        var dataset = task == TaskKind.Classification
            ? Dataset.Classification(featureArray, featureCount, classLabels!, classNames!.Count, classNames)
            : Dataset.Regression(featureArray, featureCount, targets!, 1);
        return new CsvLoadResult
        {
            Dataset = dataset,
            DroppedRows = dropped,
            LabelColumn = label,
            Header = header,
            FeatureNames = header?.Where((_, i) => i != label).ToArray(),
        };
    }

    internal static CsvMatrix ReadMatrix(TextReader text, string source, bool hasHeader)
    {
        var rr = new CsvRecordReader(text, source);
        if (!rr.Read()) throw new DataFormatException($"{source}: the file is empty (no rows)");
        string[]? header = null;
        if (hasHeader)
        {
            header = rr.Cells();
            if (!rr.Read()) throw new DataFormatException($"{source}: no data rows after the header on line {rr.Line}");
        }
        int columns = header?.Length ?? rr.Count;
        int firstLine = header != null ? 1 : rr.Line;
        var values = new List<float>();
        int rows = 0;
        do
        {
            CheckCellCount(rr, columns, firstLine, source);
            if ((long)values.Count + columns > Array.MaxLength)
                throw new DataFormatException($"{source}: line {rr.Line}: more values than one array can hold ({Array.MaxLength})");
            string? hint = header == null && rr.Line == firstLine ? MatrixHeaderHint : null;
            for (int c = 0; c < columns; c++)
            {
                float v = Number(rr, c, source, header, hint);
                if (!float.IsFinite(v)) throw NonFinite(rr, c, source, header, "value", FiniteInputsHint);
                values.Add(v);
            }
            rows++;
        } while (rr.Read());
        return new CsvMatrix { Values = values.ToArray(), Rows = rows, Columns = columns, Header = header };
    }

    /// <summary>Opens a file as text: gzip-decompressed when it starts with 1f 8b, UTF-8 unless a byte order mark says otherwise.</summary>
    internal static TextReader OpenText(string path)
    {
        FileStream file = DataFiles.Open(path);
        try
        {
            return OpenText(file);
        }
        catch (Exception e) when (e is IOException)
        {
            file.Dispose();
            throw new DataFormatException($"{path}: cannot read: {e.Message}", e);
        }
    }

    internal static TextReader OpenText(Stream stream)
    {
        Stream s = CheckedGzipStream.StartsWithGzipMagic(stream) ? new CheckedGzipStream(stream, verifyAtEnd: true) : stream;
        return new StreamReader(s, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    /// <summary>Turns stream failures met while parsing (corrupt gzip, read errors) into errors naming the file.</summary>
    internal static T Guard<T>(string source, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{source}: corrupt gzip stream: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or DecoderFallbackException)
        {
            throw new DataFormatException($"{source}: cannot read: {e.Message}", e);
        }
    }

    private static TaskKind ChooseTask(CsvOptions o, List<string> labels)
    {
        if (o.ClassNames != null) return TaskKind.Classification;
        switch (o.Task)
        {
            case CsvTask.Classify: return TaskKind.Classification;
            case CsvTask.Regress: return TaskKind.Regression;
        }
        bool allIntegers = true, allNumbers = true;
        var distinct = new HashSet<long>();
        foreach (var l in labels)
        {
            if (allIntegers && TryInteger(l, out long n)) distinct.Add(n);
            else
            {
                allIntegers = false;
                if (!TryNumber(l, out _))
                {
                    allNumbers = false;
                    break;
                }
            }
        }
        if (!allNumbers) return TaskKind.Classification;
        if (allIntegers && distinct.Count >= 2 && distinct.Count <= MaxAutoClasses) return TaskKind.Classification;
        return TaskKind.Regression;
    }

    private static (int[] Labels, IReadOnlyList<string> Names) MapClasses(List<string> labels, IReadOnlyList<string>? fixedNames,
        string? namesSource, Func<int, string> where, string source, int labelColumn, string[]? header)
    {
        var result = new int[labels.Count];
        for (int i = 0; i < labels.Count; i++)
            if (labels[i].Length == 0) throw new DataFormatException($"{where(i)}: empty label");

        if (fixedNames != null)
        {
            var index = ClassIndex(fixedNames);
            string known = namesSource == null ? $"{fixedNames.Count} known classes" : $"{fixedNames.Count} classes of {namesSource}";
            for (int i = 0; i < labels.Count; i++)
                if (!TryClass(index, labels[i], out result[i]))
                    throw new DataFormatException($"{where(i)}: label {Quote(labels[i])} is not one of the {known} ({ListNames(fixedNames)})");
            return (result, fixedNames);
        }

        // All numbers but not all integers: fractional class labels are a mistake, not class names.
        if (labels.All(l => TryNumber(l, out _)))
            for (int i = 0; i < labels.Count; i++)
                if (!TryInteger(labels[i], out _))
                    throw new DataFormatException(
                        $"{where(i)}: classification label {Quote(labels[i])} is a number but not an integer; class labels are integers or names (use task=regress for real-valued targets)");

        IReadOnlyList<string> names;
        if (labels.All(l => TryInteger(l, out _)))
        {
            var values = labels.Select(l => { TryInteger(l, out long v); return v; }).ToArray();
            var sorted = values.Distinct().Order().ToArray();
            var index = new Dictionary<long, int>();
            for (int c = 0; c < sorted.Length; c++) index[sorted[c]] = c;
            for (int i = 0; i < values.Length; i++) result[i] = index[values[i]];
            names = sorted.Select(Canonical).ToArray();
        }
        else
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            var list = new List<string>();
            for (int i = 0; i < labels.Count; i++)
            {
                if (!index.TryGetValue(labels[i], out int c))
                {
                    c = list.Count;
                    index[labels[i]] = c;
                    list.Add(labels[i]);
                }
                result[i] = c;
            }
            names = list;
        }
        if (names.Count < 2)
            throw new DataFormatException(
                $"{source}: the label column {ColumnName(labelColumn, header)} holds a single class {Quote(names[0])}; " +
                "classification needs at least 2 (for a numeric target choose regression)");
        return (result, names);
    }

    /// <summary>Class names to their indices, integer names also under their canonical value ("07" finds class "7").</summary>
    internal static Dictionary<string, int> ClassIndex(IReadOnlyList<string> names)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < names.Count; c++)
        {
            index.TryAdd(names[c], c);
            if (TryInteger(names[c], out long v)) index.TryAdd(Canonical(v), c);
        }
        return index;
    }

    /// <summary>Looks a label up in a <see cref="ClassIndex"/>: integer labels by value, others by their text.</summary>
    internal static bool TryClass(Dictionary<string, int> index, string label, out int c) =>
        index.TryGetValue(TryInteger(label, out long v) ? Canonical(v) : label, out c) || index.TryGetValue(label, out c);

    private static int ResolveLabelColumn(string? spec, string[]? header, int columns, string source)
    {
        if (spec == null) return columns - 1;
        string s = spec.Trim();
        if (header != null)
        {
            var matches = Enumerable.Range(0, columns).Where(i => header[i] == s).ToArray();
            if (matches.Length == 1) return matches[0];
            if (matches.Length > 1)
                throw new DataFormatException(
                    $"{source}: label column name {Quote(s)} is ambiguous: it heads columns {string.Join(", ", matches.Select(m => m + 1))} (1-based) of line 1");
        }
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index))
        {
            int resolved = index < 0 ? index + columns : index;
            if (resolved >= 0 && resolved < columns) return resolved;
            throw new DataFormatException(
                $"{source}: label column {index} is outside the {columns} columns (0-based indices 0..{columns - 1}, or -{columns}..-1 from the end)");
        }
        throw new DataFormatException(header != null
            ? $"{source}: no column named {Quote(s)} in the header on line 1 (columns: {ListNames(header)})"
            : $"{source}: label column {Quote(s)} is not a 0-based column index, and the file has no header to look a name up in");
    }

    private static void CheckCellCount(CsvRecordReader rr, int columns, int firstLine, string source)
    {
        if (rr.Count != columns)
            throw new DataFormatException(
                $"{source}: line {rr.Line}: {rr.Count} cell{(rr.Count == 1 ? "" : "s")}, expected {columns} as on line {firstLine}");
    }

    // hint: advice added to the error, e.g. that a non-numeric first line may be a header.
    private static float Number(CsvRecordReader rr, int column, string source, string[]? header, string? hint)
    {
        var cell = rr[column];
        if (TryNumber(cell, out float v)) return v;
        string problem = cell.IsEmpty ? "empty cell where a number is expected" : $"{Quote(cell.ToString())} is not a number";
        throw new DataFormatException($"{Locate(source, rr.Line, column, header)}: {problem}{(hint != null ? "; " + hint : "")}");
    }

    private static DataFormatException NonFinite(CsvRecordReader rr, int column, string source, string[]? header, string what, string advice) =>
        new($"{Locate(source, rr.Line, column, header)}: {what} {NonFiniteText(rr.Text(column), advice)}");

    private static string NonFiniteText(string cell, string advice)
    {
        bool overflow = double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d);
        return overflow
            ? $"{Quote(cell)} is outside the float32 range (±3.4e38); {advice}"
            : $"{Quote(cell)} is not finite: NaN and ±infinity are not allowed; {advice}";
    }

    internal static bool TryNumber(ReadOnlySpan<char> cell, out float value)
    {
        if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        var t = cell.Trim();
        bool negative = false;
        if (t.Length > 0 && (t[0] == '+' || t[0] == '-'))
        {
            negative = t[0] == '-';
            t = t[1..];
        }
        if (t.Equals("nan", StringComparison.OrdinalIgnoreCase))
        {
            value = float.NaN;
            return true;
        }
        if (t.Equals("inf", StringComparison.OrdinalIgnoreCase) || t.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>An integer literal: optional sign and ASCII digits only, within the range of a long.</summary>
    private static bool TryInteger(string text, out long value)
    {
        value = 0;
        var t = text.AsSpan();
        int start = t.Length > 0 && (t[0] == '+' || t[0] == '-') ? 1 : 0;
        if (t.Length == start) return false;
        for (int i = start; i < t.Length; i++)
            if (!char.IsAsciiDigit(t[i])) return false;
        return long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static string Canonical(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Locate(string source, int line, int column, string[]? header) =>
        $"{source}: line {line}, column {column + 1}{(header != null ? $" ({Quote(header[column])})" : "")}";

    private static string ColumnName(int column, string[]? header) =>
        header != null ? $"{column + 1} ({Quote(header[column])})" : (column + 1).ToString(CultureInfo.InvariantCulture);

    private static string Quote(string s) => "\"" + (s.Length > 60 ? s[..60] + "…" : s) + "\"";

    private static string ListNames(IReadOnlyList<string> names) =>
        names.Count <= 20
            ? string.Join(", ", names.Select(Quote))
            : string.Join(", ", names.Take(20).Select(Quote)) + $", … ({names.Count} in all)";

    private static float[] Compact(float[] values, int width, bool[] keep, int kept)
    {
        var r = new float[(long)kept * width];
        for (int i = 0, j = 0; i < keep.Length; i++)
        {
            if (!keep[i]) continue;
            Array.Copy(values, (long)i * width, r, (long)j * width, width);
            j++;
        }
        return r;
    }

    private static void WriteRow(TextWriter w, IReadOnlyList<string> row)
    {
        for (int i = 0; i < row.Count; i++)
        {
            if (i > 0) w.Write(',');
            string cell = row[i] ?? "";
            bool quote = cell.AsSpan().IndexOfAny(",\"\r\n") >= 0
                         || (cell.Length > 0 && (cell[0] is ' ' or '\t' || cell[^1] is ' ' or '\t'))
                         || (row.Count == 1 && cell.Length == 0);
            if (quote) w.Write('"' + cell.Replace("\"", "\"\"") + '"');
            else w.Write(cell);
        }
        w.Write('\n');
    }
}
