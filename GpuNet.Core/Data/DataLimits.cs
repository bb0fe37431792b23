using System.Globalization;

namespace GpuNet.Data;

/// <summary>
/// Bounds on what a data file can make the readers hold before its content has been checked, so that memory grows
/// with what a file really is, never with what it claims: the length of one CSV line and of one CSV cell, and the
/// data bytes an IDX header may declare. Each can be raised here or through an environment variable
/// (<see cref="FromEnvironment"/>).
/// </summary>
/// <remarks>A CSV reader holds one line at a time (2 bytes per character of <see cref="MaxLineLength"/>, and 8 per
/// cell of the first line; later lines stop at the first line's cell count), and keeps each distinct label text, so
/// a cell is bounded as well. An IDX header's declared size is checked against
/// <see cref="MaxIdxBytes"/> (and, for gzip files, against the most DEFLATE can expand the file to) before the data
/// is read.</remarks>
public sealed record DataLimits
{
    /// <summary>Environment variable that sets <see cref="MaxLineLength"/>.</summary>
    public const string LineLengthVariable = "GPUNET_MAX_CSV_LINE";
    /// <summary>Environment variable that sets <see cref="MaxCellLength"/>.</summary>
    public const string CellLengthVariable = "GPUNET_MAX_CSV_CELL";
    /// <summary>Environment variable that sets <see cref="MaxIdxBytes"/>.</summary>
    public const string IdxBytesVariable = "GPUNET_MAX_IDX_BYTES";

    /// <summary>Default <see cref="MaxLineLength"/>: 1 Mi characters (a row of 90,000 ten-digit numbers).</summary>
    public const int DefaultMaxLineLength = 1 << 20;
    /// <summary>Default <see cref="MaxCellLength"/>: 4096 characters, far beyond any number or class name.</summary>
    public const int DefaultMaxCellLength = 1 << 12;
    /// <summary>Default <see cref="MaxIdxBytes"/>: 1 GiB (Fashion-MNIST's training images are 47 MB).</summary>
    public const long DefaultMaxIdxBytes = 1L << 30;

    private readonly int _maxLine = DefaultMaxLineLength, _maxCell = DefaultMaxCellLength;
    private readonly long _maxIdx = DefaultMaxIdxBytes;

    /// <summary>The most characters one CSV record (a line, or the lines a quoted cell spans) may hold,
    /// separators and spaces included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1 or more than half of <see cref="Array.MaxLength"/>.</exception>
    public int MaxLineLength
    {
        get => _maxLine;
        init => _maxLine = InRange(value, 1, Array.MaxLength / 2, nameof(MaxLineLength));
    }

    /// <summary>The most characters one CSV cell may hold.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1 or more than half of <see cref="Array.MaxLength"/>.</exception>
    public int MaxCellLength
    {
        get => _maxCell;
        init => _maxCell = InRange(value, 1, Array.MaxLength / 2, nameof(MaxCellLength));
    }

    /// <summary>The most data bytes (the product of the dimensions) one IDX file's header may declare. Whatever the
    /// limit, one file's data must also fit one array (<see cref="Array.MaxLength"/> bytes).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public long MaxIdxBytes
    {
        get => _maxIdx;
        init => _maxIdx = InRange(value, 1, long.MaxValue, nameof(MaxIdxBytes));
    }

    /// <summary>The defaults, each replaced by its environment variable where that is set
    /// (<see cref="LineLengthVariable"/>, <see cref="CellLengthVariable"/>, <see cref="IdxBytesVariable"/>):
    /// a whole number, optionally with a binary suffix K, M or G (4G = 4 × 2^30).</summary>
    /// <exception cref="GpuNetException">A variable is set to something else, or out of range; the message names it.</exception>
    public static DataLimits FromEnvironment() => FromVariables(Environment.GetEnvironmentVariable);

    internal static DataLimits FromVariables(Func<string, string?> get)
    {
        var limits = new DataLimits();
        if (Read(get, LineLengthVariable, Array.MaxLength / 2) is long line) limits = limits with { MaxLineLength = (int)line };
        if (Read(get, CellLengthVariable, Array.MaxLength / 2) is long cell) limits = limits with { MaxCellLength = (int)cell };
        if (Read(get, IdxBytesVariable, long.MaxValue) is long idx) limits = limits with { MaxIdxBytes = idx };
        return limits;
    }

    /// <summary>How to raise the limit a message names, e.g. "DataLimits.MaxIdxBytes or GPUNET_MAX_IDX_BYTES".</summary>
    internal static string HowToRaise(string property, string variable) => $"raise it with DataLimits.{property} or the environment variable {variable}";

    private static long? Read(Func<string, string?> get, string name, long max)
    {
        var text = get(name)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        var digits = unit == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 1 || n > max / unit)
            throw new GpuNetException(
                $"environment variable {name}={text}: expected a whole number from 1 to {max} (a suffix K, M or G multiplies by 2^10, 2^20, 2^30)");
        return n * unit;
    }

    private static T InRange<T>(T value, T min, T max, string name) where T : System.Numerics.INumber<T> =>
        value < min || value > max
            ? throw new ArgumentOutOfRangeException(name, value, $"{name} must be from {min} to {max}")
            : value;
}
