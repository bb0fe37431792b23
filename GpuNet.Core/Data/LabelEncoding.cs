namespace GpuNet.Data;

/// <summary>
/// Turns class labels into class indices. When every label is an integer literal, classes are the distinct values in
/// ascending numeric order, named by their value: labels 0..C-1 map to themselves, and e.g. {1, 2, 5} map to 0, 1, 2
/// named "1", "2", "5". When every label is a number but some are not integers ("1.5"), classification is refused.
/// Otherwise each distinct label text is a class, numbered in order of first appearance. With fixed classes every
/// label must name one of them (integer labels by value, so "07" is class "7"). Classification needs at least 2
/// classes; an empty label is an error.
/// </summary>
internal static class LabelEncoding
{
    /// <summary>Class indices per row and the class names, or an error naming the line (<paramref name="where"/>
    /// turns a line into "file: line L, column C").</summary>
    /// <param name="labels">The label column.</param>
    /// <param name="fixedNames">Fixed classes, when the column was collected against them.</param>
    /// <param name="fixedSource">Where the fixed classes come from, for messages.</param>
    /// <param name="where">Locates a label cell by its line.</param>
    /// <param name="column">Names the label column when it holds a single class.</param>
    /// <exception cref="DataFormatException">An empty, unknown or fractional label, too many classes, or a single class.</exception>
    public static (int[] Labels, IReadOnlyList<string> Names) Encode(CsvLabelColumn labels, IReadOnlyList<string>? fixedNames,
        string? fixedSource, Func<int, string> where, string column)
    {
        if (labels.FirstEmpty is { } empty) throw new DataFormatException($"{where(empty.Line)}: empty label");
        if (fixedNames != null)
        {
            if (labels.FirstUnknown is { } u)
            {
                string known = fixedSource == null ? $"{fixedNames.Count} known classes" : $"{fixedNames.Count} classes of {fixedSource}";
                throw new DataFormatException(
                    $"{where(u.Line)}: label {CsvText.Quote(u.Text)} is not one of the {known} ({CsvText.ListNames(fixedNames)})");
            }
            return (labels.Ids(), fixedNames);
        }
        // All numbers but not all integers: fractional class labels are a mistake, not class names.
        if (labels.AllNumbers && labels.FirstNonInteger is { } f)
            throw new DataFormatException(
                $"{where(f.Line)}: classification label {CsvText.Quote(f.Text)} is a number but not an integer; class labels are " +
                "integers or names (use task=regress for real-valued targets)");
        if (labels.FirstBeyondDistinct is { } b)
            throw new DataFormatException(
                $"{where(b.Line)}: label {CsvText.Quote(b.Text)} is the {CsvLabelColumn.MaxDistinct + 1}th distinct label; " +
                $"classification takes at most {CsvLabelColumn.MaxDistinct} classes (for a numeric target use task=regress)");
        var (toClass, names) = labels.AllIntegers ? ByValue(labels.Distinct) : ByAppearance(labels.Distinct);
        if (names.Count < 2)
            throw new DataFormatException(
                $"{column} holds a single class {CsvText.Quote(names[0])}; classification needs at least 2 (for a numeric target choose regression)");
        var ids = labels.Ids();
        for (int i = 0; i < ids.Length; i++) ids[i] = toClass[ids[i]];
        return (ids, names);
    }

    /// <summary>Class names to their indices, integer names also under their canonical value ("07" finds class "7").</summary>
    public static Dictionary<string, int> ClassIndex(IReadOnlyList<string> names)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < names.Count; c++)
        {
            index.TryAdd(names[c], c);
            if (CsvText.TryInteger(names[c], out long v)) index.TryAdd(CsvText.Canonical(v), c);
        }
        return index;
    }

    /// <summary>Looks a label up in a <see cref="ClassIndex"/>: integer labels by value, others by their text.</summary>
    public static bool TryClass(Dictionary<string, int> index, ReadOnlySpan<char> label, out int c)
    {
        var lookup = index.GetAlternateLookup<ReadOnlySpan<char>>();
        return (CsvText.TryInteger(label, out long v) && index.TryGetValue(CsvText.Canonical(v), out c)) || lookup.TryGetValue(label, out c);
    }

    private static (int[] ToClass, IReadOnlyList<string> Names) ByValue(IReadOnlyList<DistinctLabel> distinct)
    {
        var sorted = distinct.Select(d => d.Integer!.Value).Distinct().Order().ToArray();
        var index = new Dictionary<long, int>();
        for (int c = 0; c < sorted.Length; c++) index[sorted[c]] = c;
        return (distinct.Select(d => index[d.Integer!.Value]).ToArray(), sorted.Select(CsvText.Canonical).ToArray());
    }

    private static (int[] ToClass, IReadOnlyList<string> Names) ByAppearance(IReadOnlyList<DistinctLabel> distinct) =>
        (Enumerable.Range(0, distinct.Count).ToArray(), distinct.Select(d => d.Text).ToArray());
}
