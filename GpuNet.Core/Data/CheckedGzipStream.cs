using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuNet.Data;

/// <summary>
/// Decompresses a single-member gzip file and checks its 8-byte trailer (CRC-32 and size of the data, RFC 1952),
/// which <see cref="GZipStream"/> does not insist on: it accepts a file cut inside the trailer, and ignores bytes
/// after the member. The trailer is taken from the last 8 bytes of the file, so a truncated file, appended bytes
/// and concatenated members all fail the check.
/// </summary>
internal sealed class CheckedGzipStream : Stream
{
    private const int MinimumGzipLength = 18; // 10-byte header + 8-byte trailer
    private readonly GZipStream _inner;
    private readonly bool _verifyAtEnd;
    private readonly uint _expectedCrc, _expectedSize;
    private readonly string? _lengthProblem;
    private readonly bool _checkable;
    private uint _crc = 0xFFFFFFFF;
    private long _length;
    private bool _ended;

    /// <summary>Wraps <paramref name="file"/> (positioned at the gzip header; it is disposed with this stream).</summary>
    /// <param name="file">The compressed bytes.</param>
    /// <param name="verifyAtEnd">Throw <see cref="InvalidDataException"/> when the end is reached and the trailer
    /// does not match; otherwise call <see cref="Verify"/>.</param>
    public CheckedGzipStream(Stream file, bool verifyAtEnd)
    {
        _verifyAtEnd = verifyAtEnd;
        if (file.CanSeek)
        {
            _checkable = true;
            long start = file.Position, length = file.Length - start;
            if (length < MinimumGzipLength)
                _lengthProblem = $"a {length}-byte file cannot hold a gzip header and trailer (at least {MinimumGzipLength} bytes)";
            else
            {
                Span<byte> trailer = stackalloc byte[8];
                file.Seek(-8, SeekOrigin.End);
                file.ReadExactly(trailer);
                _expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
                _expectedSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
            }
            file.Position = start;
        }
        _inner = new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
    }

    /// <summary>True when the file starts with the gzip magic bytes 1f 8b; the stream is left where it was.</summary>
    public static bool StartsWithGzipMagic(Stream s)
    {
        if (!s.CanSeek) return false;
        long start = s.Position;
        int a = s.ReadByte(), b = s.ReadByte();
        s.Position = start;
        return a == 0x1f && b == 0x8b;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> when the data read so far does not match the trailer.
    /// Call once the end has been reached.</summary>
    public void Verify()
    {
        if (!_checkable) return;
        if (_lengthProblem != null) throw new InvalidDataException(_lengthProblem);
        uint crc = ~_crc, size = unchecked((uint)_length);
        if (crc != _expectedCrc || size != _expectedSize)
            throw new InvalidDataException(
                $"the gzip trailer (CRC-32 0x{_expectedCrc:X8}, size {_expectedSize} mod 2^32) does not match the {_length} " +
                $"decompressed bytes (CRC-32 0x{crc:X8}): the file is truncated or corrupt, or has bytes after the gzip data " +
                "(concatenated gzip members are not supported)");
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        int n = _inner.Read(buffer);
        if (n > 0)
        {
            _crc = Crc32.Update(_crc, buffer[..n]);
            _length += n;
        }
        else if (!_ended)
        {
            _ended = true;
            if (_verifyAtEnd) Verify();
        }
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _length; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>CRC-32 of gzip and zlib (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Build();

    private static uint[] Build()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>Continues a running CRC register (start with 0xFFFFFFFF; the CRC is the complement of the final register).</summary>
    public static uint Update(uint register, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (byte b in data) register = table[(register ^ b) & 0xFF] ^ (register >> 8);
        return register;
    }
}
