using System.Text;

namespace GpuNet.Data;

/// <summary>
/// Reads CSV text into datasets (<see cref="Load"/>) and numeric matrices (<see cref="ReadMatrix"/>); the format and
/// the rules are stated on <see cref="Csv"/>. Rows are checked as they are read and kept in chunks, so memory holds the
/// data read so far and one line, never what a line or a header merely claims.
/// </summary>
internal static class CsvReader
{
    private const string LoadHeaderHint = "if this line is a header, say so with the csv option header";
    private const string MatrixHeaderHint = "if this line is a header, read the file with a header (hasHeader)";
    private const string DropHint = "drop such rows with the csv option drop-nonfinite";
    private const string FiniteInputsHint = "predicting needs finite inputs: repair or remove that row";

    /// <summary>Reads a dataset; see <see cref="Csv.Load(string, CsvOptions?)"/>.</summary>
    public static CsvLoadResult Load(TextReader text, string source, CsvOptions o)
    {
        var rr = new CsvRecordReader(text, source, o.Separator, o.Limits ?? DataLimits.FromEnvironment());
        var (header, headerLine, detected) = ReadHeader(rr, source, o.HasHeader);
        int columns = header?.Length ?? rr.Count;
        int firstLine = header != null ? headerLine : rr.Line;
        if (columns < 2)
        {
            string? sep = CsvText.SeparatorHint(header?[0] ?? rr.Text(0), rr.Separator);
            throw new DataFormatException(
                $"{source}: line {firstLine} has {DataFiles.Count(columns, "column")}; a dataset needs a label column and at least one feature column" +
                (sep != null ? "; " + sep : ""));
        }
        int label = ResolveLabelColumn(o.LabelColumn, header, headerLine, columns, source);
        var (features, labels, dropped) = ReadRows(rr, source, o, header, firstLine, label);
        if (labels.Count == 0)
            throw new DataFormatException($"{source}: all {dropped} data rows hold NaN or infinite features and were dropped");
        string Where(int line) => CsvText.Locate(source, line, label, header);
        var task = TaskInference.Choose(o, labels);
        Dataset dataset;
        if (task == TaskKind.Classification)
        {
            var (classes, names) = LabelEncoding.Encode(labels, o.ClassNames, o.ClassNamesSource, Where,
                $"{source}: the label column {CsvText.ColumnName(label, header)}");
            dataset = Dataset.Classification(features.ToArray(), columns - 1, classes, names.Count, names);
        }
        else dataset = Regression(labels, features, columns - 1, o.DropNonFinite, ref dropped, Where, source);
        if (header != null) dataset = dataset.WithFeatureNames(header.Where((_, i) => i != label).ToArray());
        return new CsvLoadResult
        {
            Dataset = dataset, DroppedRows = dropped, LabelColumn = label, Header = header, HeaderDetected = detected,
            FeatureNames = dataset.FeatureNames,
        };
    }

    /// <summary>Reads a purely numeric file; see <see cref="Csv.ReadMatrix"/>.</summary>
    public static CsvMatrix ReadMatrix(TextReader text, string source, bool? hasHeader, char separator, DataLimits? limits)
    {
        var rr = new CsvRecordReader(text, source, separator, limits ?? DataLimits.FromEnvironment());
        var (header, headerLine, _) = ReadHeader(rr, source, hasHeader);
        int columns = header?.Length ?? rr.Count;
        int firstLine = header != null ? headerLine : rr.Line;
        var values = new ChunkedBuffer<float>();
        rr.Expected = (columns, firstLine);
        int rows = 0;
        do
        {
            CheckCellCount(rr, columns, firstLine, source);
            if (values.Count + columns > Array.MaxLength)
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

    /// <summary>The first record; see <see cref="Csv.PeekFirstRecord"/>.</summary>
    public static CsvFirstRecord PeekFirstRecord(TextReader text, string source, char separator, DataLimits? limits)
    {
        var rr = new CsvRecordReader(text, source, separator, limits ?? DataLimits.FromEnvironment());
        if (!rr.Read()) throw new DataFormatException($"{source}: the file is empty (no rows)");
        if (rr.Count != 1 || CsvText.SeparatorHint(rr[0], separator) is not { } hint) return new CsvFirstRecord(rr.Line, rr.Cells());
        return new CsvFirstRecord(rr.Line, rr.Cells()) { SeparatorHint = hint, SuggestedSeparator = CsvText.MostFrequentOther(rr[0], separator).Name };
    }

    /// <summary>Opens a file as text: gzip-decompressed when it starts with 1f 8b, UTF-8 unless a byte order mark says otherwise.</summary>
    public static TextReader OpenText(string path)
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

    /// <summary>Reads <paramref name="stream"/> as text, decompressing gzip.</summary>
    public static TextReader OpenText(Stream stream)
    {
        Stream s = CheckedGzipStream.StartsWithGzipMagic(stream) ? new CheckedGzipStream(stream, verifyAtEnd: true) : stream;
        return new StreamReader(s, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
    }

    /// <summary>Turns stream failures met while parsing (corrupt gzip, read errors) into errors naming the file.</summary>
    public static T Guard<T>(string source, Func<T> read)
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

    /// <summary>Reads the first record and, when it is the header (by <paramref name="hasHeader"/> or the header
    /// rule), the record after it; the reader is left on the first data record.</summary>
    private static (string[]? Header, int Line, bool Detected) ReadHeader(CsvRecordReader rr, string source, bool? hasHeader)
    {
        if (!rr.Read()) throw new DataFormatException($"{source}: the file is empty (no rows)");
        int line = rr.Line;
        string[]? header = null;
        bool detected = false;
        if (hasHeader == true) header = rr.Cells();
        else if (hasHeader == null)
        {
            var cells = rr.Cells();
            if (CsvText.IsHeader(cells)) (header, detected) = (cells, true);
        }
        if (header != null && !rr.Read())
            throw new DataFormatException($"{source}: no data rows after the header on line {line}");
        return (header, line, detected);
    }

    // firstLine: the header's line, or the first data line; cell counts are compared with it.
    private static (ChunkedBuffer<float> Features, CsvLabelColumn Labels, int Dropped) ReadRows(CsvRecordReader rr, string source,
        CsvOptions o, string[]? header, int firstLine, int label)
    {
        int columns = header?.Length ?? rr.Count;
        var features = new ChunkedBuffer<float>();
        var labels = new CsvLabelColumn(o.ClassNames != null ? LabelEncoding.ClassIndex(o.ClassNames) : null);
        var row = new float[columns - 1];
        rr.Expected = (columns, firstLine);
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
            if (features.Count + row.Length > Array.MaxLength)
                throw new DataFormatException($"{source}: line {rr.Line}: more feature values than one array can hold ({Array.MaxLength})");
            features.AddRange(row);
            labels.Add(rr[label], rr.Line);
        } while (rr.Read());
        return (features, labels, dropped);
    }

    private static Dataset Regression(CsvLabelColumn labels, ChunkedBuffer<float> features, int featureCount, bool drop,
        ref int dropped, Func<int, string> where, string source)
    {
        if (labels.FirstNonNumber is { } n)
            throw new DataFormatException($"{where(n.Line)}: target {CsvText.Quote(n.Text)} is not a number");
        if (labels.FirstNonFinite is not { } bad)
            return Dataset.Regression(features.ToArray(), featureCount, labels.Values(), 1);
        if (!drop) throw new DataFormatException($"{where(bad.Line)}: target {NonFiniteText(bad.Text, DropHint)}");
        var keep = new bool[labels.Count];
        int kept = 0;
        for (int i = 0; i < keep.Length; i++)
            if (keep[i] = float.IsFinite(labels.Value(i))) kept++;
        dropped += labels.Count - kept;
        if (kept == 0)
            throw new DataFormatException($"{source}: all {dropped} data rows hold NaN or infinite values and were dropped");
        return Dataset.Regression(features.ToArray(featureCount, keep, kept), featureCount, labels.Values(keep, kept), 1);
    }

    private static void CheckCellCount(CsvRecordReader rr, int columns, int firstLine, string source)
    {
        if (rr.Count != columns)
            throw new DataFormatException(
                $"{source}: line {rr.Line}: {DataFiles.Count(rr.Count, "cell")}, expected {columns} as on line {firstLine}");
    }

    private static int ResolveLabelColumn(string? spec, string[]? header, int headerLine, int columns, string source)
    {
        if (spec == null) return columns - 1;
        string s = spec.Trim();
        if (header != null)
        {
            var matches = Enumerable.Range(0, columns).Where(i => header[i] == s).ToArray();
            if (matches.Length == 1) return matches[0];
            if (matches.Length > 1)
                throw new DataFormatException(
                    $"{source}: label column name {CsvText.Quote(s)} is ambiguous: it heads columns {string.Join(", ", matches.Select(m => m + 1))} (1-based) of line {headerLine}");
        }
        if (int.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            int resolved = index < 0 ? index + columns : index;
            if (resolved >= 0 && resolved < columns) return resolved;
            throw new DataFormatException(
                $"{source}: label column {index} is outside the {columns} columns (0-based indices 0..{columns - 1}, or -{columns}..-1 from the end)");
        }
        throw new DataFormatException(header != null
            ? $"{source}: no column named {CsvText.Quote(s)} in the header on line {headerLine} (columns: {CsvText.ListNames(header)})"
            : $"{source}: label column {CsvText.Quote(s)} is not a 0-based column index, and the file has no header to look a name up in");
    }

    // hint: advice added to the error, e.g. that a non-numeric first line may be a header.
    private static float Number(CsvRecordReader rr, int column, string source, string[]? header, string? hint)
    {
        var cell = rr[column];
        if (CsvText.TryNumber(cell, out float v)) return v;
        string problem = cell.IsEmpty ? "empty cell where a number is expected" : $"{CsvText.Quote(cell)} is not a number";
        string? sep = CsvText.SeparatorHint(cell, rr.Separator, "cell");
        var advice = string.Join("; ", new[] { hint, sep }.Where(h => h != null));
        throw new DataFormatException($"{CsvText.Locate(source, rr.Line, column, header)}: {problem}{(advice.Length > 0 ? "; " + advice : "")}")
        {
            Settings = hint == MatrixHeaderHint ? ["hasHeader"] : [],
        };
    }

    private static DataFormatException NonFinite(CsvRecordReader rr, int column, string source, string[]? header, string what, string advice) =>
        new($"{CsvText.Locate(source, rr.Line, column, header)}: {what} {NonFiniteText(rr.Text(column), advice)}");

    private static string NonFiniteText(string cell, string advice)
    {
        bool overflow = double.TryParse(cell, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)
                        && double.IsFinite(d);
        return overflow
            ? $"{CsvText.Quote(cell)} is outside the float32 range (±3.4e38); {advice}"
            : $"{CsvText.Quote(cell)} is not finite: NaN and ±infinity are not allowed; {advice}";
    }
}
