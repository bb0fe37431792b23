using System.Buffers.Binary;

namespace GpuNet.Data;

/// <summary>What an IDX file's header declares.</summary>
/// <param name="Path">The file.</param>
/// <param name="Shape">The dimensions, e.g. [count, height, width] for images.</param>
/// <param name="Compressed">The file is gzip.</param>
internal sealed record IdxHeader(string Path, int[] Shape, bool Compressed)
{
    /// <summary>The data bytes the dimensions make (at most <see cref="Array.MaxLength"/>, checked on reading).</summary>
    public int DataBytes => Shape.Aggregate(1, (p, d) => p * d);

    /// <summary>"60000 × 28 × 28".</summary>
    public string ShapeText => string.Join(" × ", Shape);
}

/// <summary>
/// Reads IDX files of unsigned bytes. The header is read and checked first, before any data: its magic number, that
/// the declared size fits one array and <see cref="DataLimits.MaxIdxBytes"/>, that an uncompressed file holds exactly
/// that many bytes, and that a gzip file could hold them at all (DEFLATE expands a byte to at most
/// <see cref="MaxDeflateRatio"/> bytes). Gzip data is then decompressed into a buffer that grows only as real data
/// arrives, and reading stops as soon as the data runs short of, or goes past, what the header declares.
/// </summary>
internal static class IdxReader
{
    /// <summary>The most bytes DEFLATE can expand one compressed byte to: a 258-byte match coded in 2 bits.</summary>
    public const long MaxDeflateRatio = 1032;

    private const uint ImagesMagic = 0x00000803;
    private const uint LabelsMagic = 0x00000801;
    private const int FirstGzipChunk = 1 << 20;

    /// <summary>Reads and checks the header of <paramref name="path"/>: <paramref name="dims"/> = 3 for images, 1 for labels.</summary>
    /// <exception cref="DataFormatException">The file is missing, not a regular file, or its header is wrong, too large,
    /// or disagrees with the file's size; the message starts with the path.</exception>
    public static IdxHeader ReadHeader(string path, int dims, DataLimits limits) =>
        Read(path, s => ReadHeader(s.Stream, path, dims, s.Length, s.Gzip, limits));

    /// <summary>Reads the header and then the data of <paramref name="path"/>.</summary>
    public static (IdxHeader Header, byte[] Data) ReadFile(string path, int dims, DataLimits limits) =>
        Read(path, s =>
        {
            var header = ReadHeader(s.Stream, path, dims, s.Length, s.Gzip, limits);
            return (header, s.Gzip is { } gz ? ReadGzipData(gz, header) : ReadPlainData(s.Stream, header));
        });

    private static T Read<T>(string path, Func<(Stream Stream, long Length, CheckedGzipStream? Gzip), T> read)
    {
        using FileStream file = DataFiles.Open(path);
        try
        {
            long length = file.Length;
            using var gz = CheckedGzipStream.StartsWithGzipMagic(file) ? new CheckedGzipStream(file, verifyAtEnd: false) : null;
            return read(((Stream?)gz ?? file, length, gz));
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: corrupt gzip stream: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException($"{path}: truncated: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new DataFormatException($"{path}: cannot read: {e.Message}", e);
        }
    }

    private static IdxHeader ReadHeader(Stream s, string path, int dims, long fileLength, CheckedGzipStream? gz, DataLimits limits)
    {
        string kind = dims == 3 ? "images" : "labels", source = gz != null ? "decompressed data" : "file";
        int headerBytes = 4 + 4 * dims;
        Span<byte> header = stackalloc byte[headerBytes];
        int n = ReadAtMost(s, header[..4]);
        if (n < 4) throw Fail(path, $"truncated: the {source} ends after {n} bytes, inside the 4-byte IDX magic number");
        CheckMagic(path, header, dims, kind);
        n = ReadAtMost(s, header[4..]);
        if (n < 4 * dims)
            throw Fail(path, $"truncated: the {source} ends after {4 + n} bytes, inside the {headerBytes}-byte {kind} header");
        var shape = new int[dims];
        UInt128 product = 1;
        for (int i = 0; i < dims; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * i)..]);
            if (d > int.MaxValue) throw Fail(path, $"dimension {i} of the header is {d}, larger than {int.MaxValue}");
            shape[i] = (int)d;
            product *= d;
        }
        var result = new IdxHeader(path, shape, gz != null);
        CheckDeclaredSize(result, product, headerBytes, fileLength, limits);
        return result;
    }

    private static void CheckMagic(string path, ReadOnlySpan<byte> header, int dims, string kind)
    {
        uint expected = 0x0800u | (uint)dims;
        uint found = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (found == expected) return;
        if (header[0] == 0 && header[1] == 0 && header[3] == dims)
        {
            var typeName = TypeName(header[2]);
            throw Fail(path, typeName != null
                ? $"unsupported IDX data type 0x{header[2]:X2} ({typeName}) in magic number 0x{found:X8}; only 0x08 (unsigned byte) is supported"
                : $"unknown IDX data type byte 0x{header[2]:X2} in magic number 0x{found:X8}; only 0x08 (unsigned byte) is supported");
        }
        throw Fail(path, $"wrong magic number 0x{found:X8}{Describe(found)}, expected 0x{expected:X8} for {kind} " +
                         $"(unsigned bytes, {dims} dimension{(dims == 1 ? "" : "s")})");
    }

    private static void CheckDeclaredSize(IdxHeader h, UInt128 product, int headerBytes, long fileLength, DataLimits limits)
    {
        string declares = $"the header declares {h.ShapeText} = {product} bytes of data";
        if (product > (UInt128)Array.MaxLength)
            throw Fail(h.Path, $"{declares}, more than one array can hold ({Array.MaxLength})");
        if (product > (UInt128)limits.MaxIdxBytes)
            throw Fail(h.Path, $"{declares}, more than the limit of {limits.MaxIdxBytes} bytes " +
                               $"({DataLimits.HowToRaise(nameof(DataLimits.MaxIdxBytes), DataLimits.IdxBytesVariable)})");
        long declared = (long)product;
        if (h.Compressed)
        {
            if (declared + headerBytes > MaxDeflateRatio * fileLength)
                throw Fail(h.Path, $"{declares}, but a {fileLength}-byte gzip file decompresses to at most {MaxDeflateRatio * fileLength} " +
                                   "bytes: the header is wrong or the file is truncated");
            return;
        }
        long available = fileLength - headerBytes;
        if (available < declared)
            throw Fail(h.Path, $"truncated: {declares} but only {available} follow the {headerBytes}-byte header");
        if (available > declared)
            throw Fail(h.Path, $"{available - declared} trailing bytes after the {declared} bytes of data the header declares ({h.ShapeText})");
    }

    private static byte[] ReadPlainData(Stream s, IdxHeader h)
    {
        var data = new byte[h.DataBytes];
        s.ReadExactly(data);
        return data;
    }

    private static byte[] ReadGzipData(CheckedGzipStream s, IdxHeader h)
    {
        int declared = h.DataBytes;
        // Grow with the data actually decompressed, so a lying header costs at most twice what the stream holds.
        var buffer = new byte[Math.Min(declared, FirstGzipChunk)];
        int filled = 0;
        while (filled < declared)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
            int r = s.Read(buffer, filled, buffer.Length - filled);
            if (r == 0)
                throw Fail(h.Path, $"truncated: the gzip data ends after {filled} of the {declared} bytes of data the header declares ({h.ShapeText})");
            filled += r;
        }
        Span<byte> probe = stackalloc byte[4096];
        long extra = 0;
        while (extra < FirstGzipChunk)
        {
            int r = s.Read(probe);
            if (r == 0) break;
            extra += r;
        }
        if (extra > 0)
            throw Fail(h.Path, $"{(extra >= FirstGzipChunk ? "at least " : "")}{extra} trailing bytes after the {declared} bytes of data the header declares ({h.ShapeText})");
        s.Verify();
        return buffer;
    }

    private static int ReadAtMost(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int r = s.Read(buffer[total..]);
            if (r == 0) break;
            total += r;
        }
        return total;
    }

    private static DataFormatException Fail(string path, string problem) => new($"{path}: {problem}");

    private static string Describe(uint magic)
    {
        if (magic == ImagesMagic) return " (an unsigned-byte image file)";
        if (magic == LabelsMagic) return " (an unsigned-byte label file)";
        if (magic >> 16 == 0x1f8b) return " (gzip magic inside the data: compressed twice?)";
        return "";
    }

    private static string? TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => null,
    };
}
