using System.Buffers.Binary;
using System.IO.Compression;
using GpuNet.Cli;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>The training plot: round ticks, a visible single epoch, a legend only for the series drawn, accuracy in %,
/// nothing at the image's edge, a real PNG under a .png name only.</summary>
public class PlotTests
{
    private static readonly (byte, byte, byte) Blue = (31, 119, 180), Orange = (255, 127, 14);

    private static EpochReport Epoch(int epoch, int epochs, double loss, double? accuracy, double? validationLoss, double? validationAccuracy) =>
        new(epoch, epochs, 1e-3f, [loss], accuracy == null ? null : [accuracy.Value], validationLoss == null ? null : [validationLoss.Value],
            validationAccuracy == null ? null : [validationAccuracy.Value], TimeSpan.FromSeconds(epoch), 1000);

    private static List<EpochReport> History(int epochs, bool accuracy, bool validation) =>
        Enumerable.Range(1, epochs).Select(e => Epoch(e, epochs, 2.0 / e, accuracy ? 1 - 0.5 / e : null,
            validation ? 2.2 / e : null, accuracy && validation ? 1 - 0.6 / e : null)).ToList();

    private static int Count(Raster img, (byte, byte, byte) colour, int x0 = 0, int x1 = int.MaxValue)
    {
        int n = 0;
        for (int y = 0; y < img.Height; y++)
            for (int x = x0; x < Math.Min(x1, img.Width); x++)
                if (img[x, y] == colour) n++;
        return n;
    }

    [Theory]
    [InlineData(1, 1, new double[] { 1 })]
    [InlineData(1, 2, new double[] { 1, 2 })]
    [InlineData(1, 7, new double[] { 1, 2, 3, 4, 5, 6, 7 })]
    [InlineData(1, 12, new double[] { 2, 4, 6, 8, 10, 12 })]
    [InlineData(1, 30, new double[] { 5, 10, 15, 20, 25, 30 })]
    [InlineData(1, 150, new double[] { 20, 40, 60, 80, 100, 120, 140 })]
    [InlineData(1, 1000, new double[] { 200, 400, 600, 800, 1000 })]
    public void EpochTicksAreRoundNumbers(int first, int last, double[] ticks)
    {
        var axis = PlotAxis.Epochs(first, last);
        Assert.Equal(ticks, axis.Ticks);
        Assert.Equal(ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)), axis.Labels);
        Assert.True(axis.Lo < axis.Hi);
        Assert.All(ticks, t => Assert.InRange(t, axis.Lo, axis.Hi));
    }

    [Fact]
    public void ValueTicksAreRoundAndCoverTheData()
    {
        var loss = PlotAxis.Values(0.22, 2.06, percent: false);
        Assert.Equal([0, 0.5, 1, 1.5, 2, 2.5], loss.Ticks);
        Assert.Equal(["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"], loss.Labels);

        var accuracy = PlotAxis.Values(30.9, 95.3, percent: true);
        Assert.Equal(["20%", "40%", "60%", "80%", "100%"], accuracy.Labels);
        Assert.Equal(100, accuracy.Hi); // never above 100 %
        Assert.Equal(["97.00%", "97.25%", "97.50%", "97.75%", "98.00%"], PlotAxis.Values(97.1, 97.9, percent: true, maxTicks: 5).Labels);

        var flat = PlotAxis.Values(0.5, 0.5, percent: false);
        Assert.True(flat.Lo < 0.5 && flat.Hi > 0.5);
        var tiny = PlotAxis.Values(1.2e-6, 3.4e-6, percent: false);
        Assert.Equal(tiny.Labels.Length, tiny.Labels.Distinct().Count());
        Assert.Contains("E-", tiny.Labels[1]);
        Assert.True(tiny.Lo <= 1.2e-6 && tiny.Hi >= 3.4e-6);
        var none = PlotAxis.Values(double.NaN, double.NaN, percent: false); // every epoch diverged
        Assert.Equal((0.0, 1.0), (none.Lo, none.Hi));
    }

    [Fact]
    public void ASingleEpochShowsAsAPointInEachPanel()
    {
        var img = Plot.Draw(History(1, accuracy: true, validation: false), 0, "cross-entropy");
        Assert.Equal((1040, 400), (img.Width, img.Height));
        // a marker: a disc of radius 3 (29 pixels) in each panel; the legend's marker is in the right panel's top row
        Assert.True(Count(img, Blue, 0, 520) >= 29, "no point in the loss panel");
        Assert.True(Count(img, Blue, 520) >= 2 * 29, "no point in the accuracy panel");
    }

    [Fact]
    public void ValidationIsDrawnAndInTheLegendOnlyWhenThereIsValidationData()
    {
        Assert.Equal(0, Count(Plot.Draw(History(5, accuracy: true, validation: false), 0, "mse"), Orange));
        Assert.Equal(0, Count(Plot.Draw(History(5, accuracy: false, validation: false), 0, "mse"), Orange));
        var with = Plot.Draw(History(5, accuracy: true, validation: true), 0, "mse");
        Assert.True(Count(with, Orange, 0, 520) > 100 && Count(with, Orange, 520) > 100);
        var regression = Plot.Draw(History(5, accuracy: false, validation: true), 0, "mse");
        Assert.Equal(520, regression.Width); // no accuracy panel
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(100)]
    [InlineData(12345)]
    public void NothingTouchesTheImageEdge(int epochs)
    {
        var img = Plot.Draw(History(epochs, accuracy: true, validation: true), 0, "cross-entropy");
        for (int x = 0; x < img.Width; x++)
            Assert.True(img[x, 0] == (255, 255, 255) && img[x, img.Height - 1] == (255, 255, 255), $"ink at the top or bottom edge, x = {x}");
        for (int y = 0; y < img.Height; y++)
            Assert.True(img[0, y] == (255, 255, 255) && img[img.Width - 1, y] == (255, 255, 255), $"ink at the left or right edge, y = {y}");
    }

    [Fact]
    public void ADivergedEpochBreaksTheLineAndAnIsolatedPointIsStillMarked()
    {
        var h = History(40, accuracy: false, validation: false); // 40 epochs: too many for a marker on every point
        h[20] = h[20] with { TrainLoss = [double.NaN] };
        h[22] = h[22] with { TrainLoss = [double.PositiveInfinity] };
        var img = Plot.Draw(h, 0, "mse"); // epoch 22 is finite with non-finite neighbours: it must still show
        Assert.True(Count(img, Blue) > 29);
    }

    [Fact]
    public void TheFileIsAPngWhosePixelsAreTheImage()
    {
        using var dir = new TempDir();
        string path = dir.File("p.png");
        var history = History(6, accuracy: true, validation: true);
        Plot.Write(path, history, 0, "cross-entropy");
        var img = Plot.Draw(history, 0, "cross-entropy");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        var idat = new MemoryStream();
        for (int at = 8; at < bytes.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            Assert.Equal(Crc(bytes.AsSpan(at + 4, 4 + length)), BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at + 8 + length)));
            if (type == "IHDR") Assert.Equal((img.Width, img.Height), (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 8)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 12))));
            if (type == "IDAT") idat.Write(bytes, at + 8, length);
            at += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var pixels = raw.ToArray();
        Assert.Equal(img.Height * (1 + img.Width * 3), pixels.Length);
        for (int y = 0; y < img.Height; y += 7)
            for (int x = 0; x < img.Width; x += 3)
            {
                int i = y * (1 + img.Width * 3) + 1 + x * 3;
                Assert.Equal(img[x, y], (pixels[i], pixels[i + 1], pixels[i + 2]));
            }
    }

    /// <summary>The PNG (zlib) CRC-32, reflected polynomial 0xEDB88320, table-driven: written apart from the writer's own.</summary>
    private static uint Crc(ReadOnlySpan<byte> data)
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ ((c & 1) * 0xEDB88320u);
            table[n] = c;
        }
        uint crc = uint.MaxValue;
        foreach (byte b in data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ uint.MaxValue;
    }

    [Fact]
    public void TrainRefusesAPlotNameThatIsNotPngAndPrintsWhereEveryFileWent()
    {
        using var cli = new CliRunner();
        string[] train = ["train", "--data", "xor", "--hidden", "2", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors")];
        foreach (var name in new[] { "x.jpg", "x.jpeg", "x", "x.png.gif" })
        {
            var (code, _, err) = cli.Run([.. train, "--plot", cli.File(name)]);
            Assert.Equal(2, code);
            Assert.Equal($"gpunet: --plot {cli.File(name)}: plots are written as PNG images; give a file name ending in .png\n", err);
        }
        Assert.Empty(cli.Dir.Names()); // refused before anything ran

        string output = cli.Ok([.. train, "--plot", cli.File("curves.PNG"), "--metrics", cli.File("m.csv")]);
        var lines = output.Trim().Split('\n');
        Assert.Equal([$"model written to {cli.File("m.safetensors")}", $"metrics written to {cli.File("m.csv")}", $"plot written to {cli.File("curves.PNG")}"],
            lines[^3..]);
        var json = cli.Json([.. train, "--plot", cli.File("j.png")]);
        Assert.Equal(cli.File("j.png"), json.GetProperty("plot").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("metrics").ValueKind);
    }
}
