namespace GpuNet.Data;

/// <summary>A label cell as first seen: its line and text, for messages.</summary>
internal readonly record struct LabelSighting(int Line, string Text);

/// <summary>A distinct label text, in order of first appearance.</summary>
/// <param name="Text">The label as written.</param>
/// <param name="Integer">Its value when it is an integer literal.</param>
internal sealed record DistinctLabel(string Text, long? Integer);

/// <summary>
/// The label column of a CSV file, collected row by row without a string per row: each row keeps its value as a
/// number (NaN when it is none) and the index of its text among the distinct texts (or, with fixed classes, its class).
/// What task inference and label encoding need to know about the whole column (is every label a number, an integer,
/// finite; how many distinct integers) is gathered on the way, with the first line where each fact fails.
/// </summary>
internal sealed class CsvLabelColumn
{
    /// <summary>The most distinct label texts kept: more classes than this is not a classification problem GpuNet can
    /// train, and a regression target needs only its value.</summary>
    public const int MaxDistinct = 1 << 16;

    private readonly ChunkedBuffer<float> _values = new();
    private readonly ChunkedBuffer<int> _ids = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<DistinctLabel> _distinct = [];
    private readonly HashSet<long> _integers = [];
    private readonly Dictionary<string, int>? _fixed;

    /// <param name="fixedClasses">With fixed classes (<see cref="LabelEncoding.ClassIndex"/>), each row keeps its class
    /// index, or -1 for a label that is none of them.</param>
    public CsvLabelColumn(Dictionary<string, int>? fixedClasses) => _fixed = fixedClasses;

    /// <summary>Rows added.</summary>
    public int Count => (int)_values.Count;

    /// <summary>The distinct texts, in order of first appearance (none with fixed classes).</summary>
    public IReadOnlyList<DistinctLabel> Distinct => _distinct;

    /// <summary>Distinct integer values seen, counted up to <see cref="Csv.MaxAutoClasses"/> + 1.</summary>
    public int DistinctIntegers => _integers.Count;

    /// <summary>The first empty label.</summary>
    public LabelSighting? FirstEmpty { get; private set; }
    /// <summary>The first label that is not a number.</summary>
    public LabelSighting? FirstNonNumber { get; private set; }
    /// <summary>The first number that is not an integer literal ("1.5", "1e3", "nan").</summary>
    public LabelSighting? FirstNonInteger { get; private set; }
    /// <summary>The first number that is NaN, infinite or beyond the float32 range.</summary>
    public LabelSighting? FirstNonFinite { get; private set; }
    /// <summary>The first label past <see cref="MaxDistinct"/> distinct texts.</summary>
    public LabelSighting? FirstBeyondDistinct { get; private set; }
    /// <summary>With fixed classes: the first label that is none of them.</summary>
    public LabelSighting? FirstUnknown { get; private set; }

    /// <summary>Every label is a number.</summary>
    public bool AllNumbers => FirstNonNumber == null;
    /// <summary>Every label is an integer literal.</summary>
    public bool AllIntegers => FirstNonNumber == null && FirstNonInteger == null;

    /// <summary>Adds the label of the row on <paramref name="line"/>.</summary>
    public void Add(ReadOnlySpan<char> cell, int line)
    {
        if (cell.IsEmpty) FirstEmpty ??= new(line, "");
        bool number = CsvText.TryNumber(cell, out float value);
        bool integer = CsvText.TryInteger(cell, out long n);
        if (!number) FirstNonNumber ??= new(line, cell.ToString());
        else if (!integer) FirstNonInteger ??= new(line, cell.ToString());
        if (number && !float.IsFinite(value)) FirstNonFinite ??= new(line, cell.ToString());
        if (integer && _integers.Count <= Csv.MaxAutoClasses) _integers.Add(n);
        _values.Add(number ? value : float.NaN);
        _ids.Add(_fixed != null ? FixedClass(cell, line) : Intern(cell, integer ? n : null, line));
    }

    /// <summary>The value of every row (NaN where a label is not a number) that <paramref name="keep"/> marks.</summary>
    public float[] Values(bool[]? keep = null, int kept = -1) => _values.ToArray(1, keep, kept);

    /// <summary>The value of row <paramref name="row"/>.</summary>
    public float Value(int row) => _values[row];

    /// <summary>The text index (or fixed class) of every row; -1 where there is none.</summary>
    public int[] Ids() => _ids.ToArray();

    private int FixedClass(ReadOnlySpan<char> cell, int line)
    {
        if (LabelEncoding.TryClass(_fixed!, cell, out int c)) return c;
        FirstUnknown ??= new(line, cell.ToString());
        return -1;
    }

    private int Intern(ReadOnlySpan<char> cell, long? integer, int line)
    {
        var lookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(cell, out int id)) return id;
        if (_distinct.Count == MaxDistinct)
        {
            FirstBeyondDistinct ??= new(line, cell.ToString());
            return -1;
        }
        var text = cell.ToString();
        _index[text] = _distinct.Count;
        _distinct.Add(new DistinctLabel(text, integer));
        return _distinct.Count - 1;
    }
}
