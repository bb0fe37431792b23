using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuNet.Cli;

/// <summary>An RGB image on a white background with the few drawing operations plots need (points, lines, filled
/// rectangles and discs, text in <see cref="PixelFont"/>), written as a PNG: 8-bit RGB, filter 0, zlib from .NET.
/// Drawing outside the image is clipped.</summary>
internal sealed class Raster
{
    private readonly byte[] rgb;

    public Raster(int width, int height)
    {
        Width = width;
        Height = height;
        rgb = new byte[width * height * 3];
        Array.Fill(rgb, (byte)255);
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The colour at (x, y), for tests.</summary>
    public (byte R, byte G, byte B) this[int x, int y] => (rgb[(y * Width + x) * 3], rgb[(y * Width + x) * 3 + 1], rgb[(y * Width + x) * 3 + 2]);

    public void Dot(int x, int y, Rgb c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        (rgb[i], rgb[i + 1], rgb[i + 2]) = (c.R, c.G, c.B);
    }

    public void Fill(int x, int y, int w, int h, Rgb c)
    {
        for (int j = 0; j < h; j++)
            for (int i = 0; i < w; i++) Dot(x + i, y + j, c);
    }

    /// <summary>A line from (x0, y0) to (x1, y1) (Bresenham), <paramref name="thickness"/> pixels wide as a square brush.</summary>
    public void Line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        int offset = (thickness - 1) / 2;
        while (true)
        {
            Fill(x0 - offset, y0 - offset, thickness, thickness, c);
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    /// <summary>A filled disc of radius <paramref name="r"/> centred on (cx, cy).</summary>
    public void Disc(int cx, int cy, int r, Rgb c)
    {
        for (int y = -r; y <= r; y++)
            for (int x = -r; x <= r; x++)
                if (x * x + y * y <= r * r + r) Dot(cx + x, cy + y, c);
    }

    /// <summary>Text with its top-left corner at (x, y); characters the font lacks leave a gap.</summary>
    public void Text(int x, int y, string s, Rgb c, int scale)
    {
        foreach (char ch in s)
        {
            var g = PixelFont.Glyph(ch);
            if (g != null)
                for (int row = 0; row < PixelFont.Height; row++)
                    for (int col = 0; col < PixelFont.Width; col++)
                        if (g[row][col] == '#') Fill(x + col * scale, y + row * scale, scale, scale, c);
            x += PixelFont.Advance(scale);
        }
    }

    public void WritePng(Stream s)
    {
        s.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), Height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB; compression, filter and interlace methods 0
        Chunk(s, "IHDR", ihdr);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < Height; y++)
            {
                z.WriteByte(0); // filter: none
                z.Write(rgb, y * Width * 3, Width * 3);
            }
        Chunk(s, "IDAT", raw.ToArray());
        Chunk(s, "IEND", []);
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, data.Length);
        s.Write(b);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(b, Crc32(typed));
        s.Write(b);
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte d in data)
        {
            crc ^= d;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}

/// <summary>An sRGB colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B);
