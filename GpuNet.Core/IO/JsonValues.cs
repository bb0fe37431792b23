using System.Globalization;
using System.Text.Json;

namespace GpuNet.IO;

/// <summary>
/// Strict reading of the JSON values GpuNet keeps in safetensors metadata (class names, feature scaling, checkpoint
/// history): every value is checked for its kind and range by hand, so that an error names the key, the item and what
/// was found there in plain words, and a count is checked before anything of that size is made.
/// </summary>
internal static class JsonValues
{
    /// <summary>Non-finite numbers as GpuNet writes them: JSON has no NaN or infinity, so they are strings.</summary>
    public const string NaN = "NaN", PositiveInfinity = "Infinity", NegativeInfinity = "-Infinity";

    /// <summary>Parses <paramref name="json"/>, the value of metadata key <paramref name="key"/>.</summary>
    public static JsonDocument Parse(string json, string key, Func<string, Exception> fail)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw fail($"{key} is not valid JSON {ParseError(e)}");
        }
    }

    /// <summary>Where and why JSON did not parse, in one line: "at character 9: The maximum configured depth …", the
    /// parser's words with their control characters escaped and without its own position suffix.</summary>
    public static string ParseError(JsonException e) => $"at character {(e.BytePositionInLine ?? 0) + 1}: {Escaped(Plain(e.Message))}";

    /// <summary>The parser's own words without its position suffix (" LineNumber: 0 | BytePositionInLine: 8.") or
    /// path (" Path: $[1]"), which the caller states in its own terms.</summary>
    private static string Plain(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }

    /// <summary>The items of an array of exactly <paramref name="count"/> items (any count when null).</summary>
    public static JsonElement.ArrayEnumerator Array(JsonElement e, string what, int? count, Func<string, Exception> fail)
    {
        if (e.ValueKind != JsonValueKind.Array)
            throw fail($"{what} is {Describe(e)}, expected an array{(count is { } c ? $" of {c} items" : "")}");
        if (count is { } n && e.GetArrayLength() != n) throw fail($"{what} has {e.GetArrayLength()} items, expected {n}");
        return e.EnumerateArray();
    }

    /// <summary>An array of <paramref name="count"/> strings (any count when null).</summary>
    public static string[] Strings(JsonElement e, string what, int? count, Func<string, Exception> fail)
    {
        var items = Array(e, what, count, fail);
        var values = new string[e.GetArrayLength()];
        int i = 0;
        foreach (var item in items)
        {
            values[i] = item.ValueKind == JsonValueKind.String ? Text(item, $"item {i} of {what}", fail)
                : throw fail($"item {i} of {what} is {Describe(item)}, expected a string");
            i++;
        }
        return values;
    }

    /// <summary>An array of <paramref name="count"/> numbers, each finite in single precision.</summary>
    public static float[] Floats(JsonElement e, string what, int count, Func<string, Exception> fail)
    {
        var items = Array(e, what, count, fail);
        var values = new float[count];
        int i = 0;
        foreach (var item in items)
        {
            double v = Number(item, $"item {i} of {what}", allowNonFinite: false, fail);
            values[i] = (float)v;
            if (!float.IsFinite(values[i])) throw fail($"item {i} of {what} is {item.GetRawText()}, beyond single precision");
            i++;
        }
        return values;
    }

    /// <summary>An array of <paramref name="count"/> numbers (any count when null); with
    /// <paramref name="allowNonFinite"/>, also the strings "NaN", "Infinity" and "-Infinity".</summary>
    public static double[] Doubles(JsonElement e, string what, int? count, bool allowNonFinite, Func<string, Exception> fail)
    {
        var items = Array(e, what, count, fail);
        var values = new double[e.GetArrayLength()];
        int i = 0;
        foreach (var item in items)
        {
            values[i] = Number(item, $"item {i} of {what}", allowNonFinite, fail);
            i++;
        }
        return values;
    }

    /// <summary>A number; with <paramref name="allowNonFinite"/>, also "NaN", "Infinity" or "-Infinity".</summary>
    public static double Number(JsonElement e, string what, bool allowNonFinite, Func<string, Exception> fail)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && double.IsFinite(v)) return v;
        if (allowNonFinite && e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case NaN: return double.NaN;
                case PositiveInfinity: return double.PositiveInfinity;
                case NegativeInfinity: return double.NegativeInfinity;
            }
        }
        throw fail($"{what} is {Describe(e)}, expected a {(allowNonFinite ? "number (or \"NaN\", \"Infinity\", \"-Infinity\")" : "finite number")}");
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static long Integer(JsonElement e, string what, long min, long max, Func<string, Exception> fail)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) && v >= min && v <= max) return v;
        throw fail($"{what} is {Describe(e)}, expected a whole number from {min} to {max}");
    }

    /// <summary>A string value, refusing escaped unpaired surrogates (which have no UTF-16 reading).</summary>
    public static string Text(JsonElement e, string what, Func<string, Exception> fail)
    {
        try { return e.GetString()!; }
        catch (InvalidOperationException) { throw fail($"{what} is not valid Unicode (it escapes an unpaired surrogate)"); }
    }

    /// <summary>A number written so that it reads back as the same double; non-finite ones as the strings above.</summary>
    public static void Write(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteStringValue(double.IsNaN(v) ? NaN : v > 0 ? PositiveInfinity : NegativeInfinity);
    }

    /// <summary>"a number (1e400)", "a string (\"x\")", "null", "an array of 3 items": the kind and, for short
    /// scalars, the text, for messages.</summary>
    public static string Describe(JsonElement e)
    {
        if (e.ValueKind is JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False)
        {
            string raw = e.GetRawText();
            if (raw.Length <= 40) return $"{Article(e.ValueKind)} ({raw})";
        }
        if (e.ValueKind == JsonValueKind.Array) return $"an array of {e.GetArrayLength()} items";
        return Article(e.ValueKind);
    }

    /// <summary>"an object", "a number", "null", … for messages.</summary>
    public static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>Parses a metadata value that must be a whole number in [<paramref name="min"/>, <paramref name="max"/>]
    /// written in plain digits.</summary>
    public static long Integer(string s, string key, long min, long max, Func<string, Exception> fail)
    {
        if (s.Length > 0 && s.Length <= 20 && (s[0] == '-' || char.IsAsciiDigit(s[0])) && s.Skip(1).All(char.IsAsciiDigit)
            && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max)
            return v;
        throw fail($"{key} is '{Shown(s)}', expected a whole number from {min} to {max}");
    }

    /// <summary>A text from a file as it may appear in a one-line message: at most 60 characters, control characters
    /// escaped.</summary>
    public static string Shown(string text) => Escaped(text.Length <= 60 ? text : text[..60] + "…");

    /// <summary><paramref name="text"/> with its control characters (line breaks, escapes, DEL) written as \u escapes,
    /// so that a message quoting a file stays one line and cannot restyle a terminal.</summary>
    public static string Escaped(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : text;
}
