using System.Globalization;
using System.Text;

namespace GpuNet.Data;

/// <summary>Writes rows of cells as CSV (commas, LF line ends), quoting a cell that holds a comma, a double quote or a
/// line break, starts or ends with a space or tab, or is the empty only cell of its row, so that
/// <see cref="Csv.Load(string, CsvOptions?)"/> reads back exactly what was written.</summary>
internal static class CsvWriter
{
    /// <summary>Writes <paramref name="header"/> (when given) and <paramref name="rows"/> to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (header != null) WriteRow(writer, header);
        foreach (var row in rows) WriteRow(writer, row);
    }

    /// <summary>Writes a file (UTF-8, no byte order mark) atomically: a temp file renamed into place.</summary>
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

    /// <summary>Writes a row-major matrix [values.Length / columns, columns], numbers in the invariant culture with
    /// the shortest text that reads back to the same float.</summary>
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
