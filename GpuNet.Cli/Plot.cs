using System.Buffers.Binary;
using System.IO.Compression;
using GpuNet.IO;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>Loss and accuracy curves as a PNG (drawn here: axes, grid, polylines and a 3×5 pixel font), so no
/// plotting package is needed. Train in blue, validation in orange.</summary>
internal static class Plot
{
    private const int PanelW = 460, PanelH = 320, Margin = 48;
    private static readonly byte[] Train = [31, 119, 180], Validation = [255, 127, 14], Axis = [60, 60, 60], Grid = [225, 225, 225];

    public static void Write(string path, IReadOnlyList<EpochReport> history, int copy)
    {
        bool hasAcc = history.Count > 0 && history[0].TrainAccuracy != null;
        int panels = hasAcc ? 2 : 1;
        var img = new Image(PanelW * panels, PanelH);
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        Panel(img, 0, "LOSS", epochs, history.Select(h => h.TrainLoss[copy]).ToArray(),
            history[0].ValidationLoss == null ? null : history.Select(h => h.ValidationLoss![copy]).ToArray(), percent: false);
        if (hasAcc)
            Panel(img, PanelW, "ACCURACY", epochs, history.Select(h => h.TrainAccuracy![copy] * 100).ToArray(),
                history[0].ValidationAccuracy == null ? null : history.Select(h => h.ValidationAccuracy![copy] * 100).ToArray(), percent: true);
        img.Text(PanelW / 2 - 20, PanelH - 12, "EPOCH", Axis);
        img.Text(PanelW * panels - 150, 8, "TRAIN", Train);
        img.Text(PanelW * panels - 100, 8, "VALIDATION", Validation);
        AtomicFile.Write(path, s => img.WritePng(s));
    }

    private static void Panel(Image img, int x0, string title, double[] xs, double[] train, double[]? val, bool percent)
    {
        var all = val == null ? train : train.Concat(val).ToArray();
        var finite = all.Where(double.IsFinite).ToArray();
        double lo = finite.Length == 0 ? 0 : finite.Min(), hi = finite.Length == 0 ? 1 : finite.Max();
        if (percent) hi = Math.Min(100, hi);
        if (hi - lo < 1e-12) { hi += 0.5; lo -= 0.5; }
        double xLo = xs.Length == 0 ? 0 : xs.Min(), xHi = xs.Length <= 1 ? xLo + 1 : xs.Max();
        int left = x0 + Margin, right = x0 + PanelW - 12, top = 28, bottom = PanelH - 30;
        for (int i = 0; i <= 4; i++)
        {
            int y = bottom - (bottom - top) * i / 4;
            img.Line(left, y, right, y, Grid);
            double v = lo + (hi - lo) * i / 4;
            img.Text(x0 + 2, y - 2, Format(v), Axis);
        }
        img.Line(left, top, left, bottom, Axis);
        img.Line(left, bottom, right, bottom, Axis);
        img.Text(left, top - 16, title, Axis);
        img.Text(right - 24, bottom + 6, Format(xHi), Axis);
        img.Text(left, bottom + 6, Format(xLo), Axis);
        void Series(double[] ys, byte[] color)
        {
            int px = -1, py = -1;
            for (int i = 0; i < ys.Length; i++)
            {
                if (!double.IsFinite(ys[i])) { px = -1; continue; }
                int x = left + (int)Math.Round((right - left) * (xs[i] - xLo) / (xHi - xLo));
                int y = bottom - (int)Math.Round((bottom - top) * (Math.Clamp(ys[i], lo, hi) - lo) / (hi - lo));
                if (px >= 0) { img.Line(px, py, x, y, color); img.Line(px, py + 1, x, y + 1, color); }
                else img.Dot(x, y, color);
                px = x; py = y;
            }
        }
        Series(train, Train);
        if (val != null) Series(val, Validation);
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 1000 || (Math.Abs(v) < 0.01 && v != 0) ? v.ToString("0.0E0", System.Globalization.CultureInfo.InvariantCulture).Replace("+", "")
        : v.ToString(Math.Abs(v) >= 10 ? "0.0" : "0.000", System.Globalization.CultureInfo.InvariantCulture);

    private sealed class Image(int width, int height)
    {
        private readonly byte[] rgb = Enumerable.Repeat((byte)255, width * height * 3).ToArray();

        public void Dot(int x, int y, byte[] c)
        {
            if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
            int i = (y * width + x) * 3;
            rgb[i] = c[0]; rgb[i + 1] = c[1]; rgb[i + 2] = c[2];
        }

        public void Line(int x0, int y0, int x1, int y1, byte[] c)
        {
            int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
            while (true)
            {
                Dot(x0, y0, c);
                if (x0 == x1 && y0 == y1) break;
                int e2 = 2 * err;
                if (e2 >= dy) { err += dy; x0 += sx; }
                if (e2 <= dx) { err += dx; y0 += sy; }
            }
        }

        // 3×5 glyphs, 15 bits, row by row from the top, most significant bit first.
        private static readonly Dictionary<char, int> Font = new()
        {
            ['0'] = 0b111101101101111, ['1'] = 0b010110010010111, ['2'] = 0b111001111100111, ['3'] = 0b111001111001111,
            ['4'] = 0b101101111001001, ['5'] = 0b111100111001111, ['6'] = 0b111100111101111, ['7'] = 0b111001001001001,
            ['8'] = 0b111101111101111, ['9'] = 0b111101111001111, ['.'] = 0b000000000000010, ['-'] = 0b000000111000000,
            ['E'] = 0b111100111100111, ['A'] = 0b010101111101101, ['C'] = 0b111100100100111, ['D'] = 0b110101101101110,
            ['H'] = 0b101101111101101, ['I'] = 0b111010010010111, ['L'] = 0b100100100100111, ['N'] = 0b110101101101101,
            ['O'] = 0b111101101101111, ['P'] = 0b111101111100100, ['R'] = 0b110101110101101, ['S'] = 0b111100111001111,
            ['T'] = 0b111010010010010, ['U'] = 0b101101101101111, ['V'] = 0b101101101101010, ['Y'] = 0b101101010010010,
        };

        public void Text(int x, int y, string s, byte[] c)
        {
            foreach (char ch in s.ToUpperInvariant())
            {
                if (Font.TryGetValue(ch, out int g))
                    for (int r = 0; r < 5; r++)
                        for (int col = 0; col < 3; col++)
                            if ((g >> (14 - (r * 3 + col)) & 1) != 0)
                                for (int k = 0; k < 4; k++) Dot(x + col * 2 + k % 2, y + r * 2 + k / 2, c);
                x += 8;
            }
        }

        public void WritePng(Stream s)
        {
            s.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
            var ihdr = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
            BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
            ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
            Chunk(s, "IHDR", ihdr);
            using var raw = new MemoryStream();
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    z.WriteByte(0); // filter: none
                    z.Write(rgb, y * width * 3, width * 3);
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
}
