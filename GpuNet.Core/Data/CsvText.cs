using System.Globalization;

namespace GpuNet.Data;

/// <summary>
/// The rules every CSV reader shares about the text of a cell: what is a number, what is an integer label, when a
/// first line is a header, which separators there are and how a message quotes a cell.
/// </summary>
internal static class CsvText
{
    /// <summary>Separators a file may use, by the name the csv option <c>sep=</c> gives them.</summary>
    private static readonly (string Name, char Char)[] Separators =
        [("comma", ','), ("semicolon", ';'), ("tab", '\t'), ("pipe", '|')];

    /// <summary>The header rule: a line none of whose cells is a number names the columns. A line mixing numbers and
    /// other text is data (whose non-numeric cells are errors), never a header.</summary>
    public static bool IsHeader(IReadOnlyList<string> cells)
    {
        foreach (var c in cells)
            if (TryNumber(c, out _)) return false;
        return true;
    }

    /// <summary>A number in the invariant culture (decimal point, optional exponent); "NaN", "Infinity" and Python's
    /// "nan" and "inf" (any case, optional sign) read as non-finite values, so that they are reported as such rather
    /// than as text. Values beyond the float32 range read as ±infinity.</summary>
    public static bool TryNumber(ReadOnlySpan<char> cell, out float value)
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
    public static bool TryInteger(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        int start = text.Length > 0 && (text[0] == '+' || text[0] == '-') ? 1 : 0;
        if (text.Length == start) return false;
        for (int i = start; i < text.Length; i++)
            if (!char.IsAsciiDigit(text[i])) return false;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The canonical text of an integer label ("07" and "+7" are both "7").</summary>
    public static string Canonical(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads the value of the csv option <c>sep=</c>: a name (comma, semicolon, tab, pipe) or the character
    /// itself (; | or a tab); null when it is neither.</summary>
    public static char? ParseSeparator(string value)
    {
        foreach (var (name, c) in Separators)
            if (value.Equals(name, StringComparison.OrdinalIgnoreCase) || value == c.ToString()) return c;
        return null;
    }

    /// <summary>The name <c>sep=</c> gives a separator ("semicolon").</summary>
    public static string SeparatorName(char separator)
    {
        foreach (var (name, c) in Separators)
            if (c == separator) return name;
        throw new ArgumentOutOfRangeException(nameof(separator), $"'{separator}' is not a CSV separator");
    }

    /// <summary>The separators <c>sep=</c> accepts, for messages.</summary>
    public static string SeparatorNames => string.Join(", ", Separators.Select(s => s.Name));

    /// <summary>Advice for text that holds another separator than the one the file is read with, e.g. a line
    /// "1;2;0" read with commas: names the separator found and the csv option that reads it; null when it holds none.</summary>
    /// <param name="text">A cell, or a whole line read as one cell.</param>
    /// <param name="separator">The separator the file is read with.</param>
    /// <param name="what">"line" or "cell", as the message calls <paramref name="text"/>.</param>
    public static string? SeparatorHint(ReadOnlySpan<char> text, char separator, string what = "line")
    {
        var best = MostFrequentOther(text, separator);
        if (best.Count == 0) return null;
        string plural = best.Char == '\t' ? "tabs" : best.Name + "s";
        string count = best.Count == 1 ? (best.Char == '\t' ? "a tab" : $"a {best.Name}") : $"{best.Count} {plural}";
        string shown = best.Char == '\t' ? count : $"{count} ('{best.Char}')";
        return $"the {what} holds {shown}: if the file is separated by {plural}, read it with the csv option sep={best.Name}";
    }

    /// <summary>The separator other than <paramref name="separator"/> that <paramref name="text"/> holds most often
    /// (Count 0 when none).</summary>
    public static (string Name, char Char, int Count) MostFrequentOther(ReadOnlySpan<char> text, char separator)
    {
        (string Name, char Char, int Count) best = ("", '\0', 0);
        foreach (var (name, c) in Separators)
        {
            if (c == separator) continue;
            int n = text.Count(c);
            if (n > best.Count) best = (name, c, n);
        }
        return best;
    }

    /// <summary>A cell as a message shows it: in double quotes, cut after 60 characters, control characters as \u escapes
    /// (<see cref="GpuNet.IO.JsonValues.Shown"/>), so that a quoted cell holding a line break keeps the message on one
    /// line and a terminal escape in a file cannot restyle the terminal.</summary>
    public static string Quote(ReadOnlySpan<char> s) => "\"" + GpuNet.IO.JsonValues.Shown(s[..Math.Min(s.Length, 61)].ToString()) + "\"";

    /// <summary>Up to 20 names, quoted, then how many there are in all.</summary>
    public static string ListNames(IReadOnlyList<string> names) =>
        names.Count <= 20
            ? string.Join(", ", names.Select(n => Quote(n)))
            : string.Join(", ", names.Take(20).Select(n => Quote(n))) + $", … ({names.Count} in all)";

    /// <summary>"path: line 3, column 2 ("price")": where a cell is, 1-based, with its header name when there is one.</summary>
    public static string Locate(string source, int line, int column, IReadOnlyList<string>? header) =>
        $"{source}: line {line}, column {column + 1}{(header != null ? $" ({Quote(header[column])})" : "")}";

    /// <summary>"2 ("y")" or "2": a 1-based column number with its header name when there is one.</summary>
    public static string ColumnName(int column, IReadOnlyList<string>? header) =>
        header != null ? $"{column + 1} ({Quote(header[column])})" : (column + 1).ToString(CultureInfo.InvariantCulture);
}
