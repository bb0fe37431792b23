using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class IdxTests
{
    private static byte[] Pixels(int n, int seed)
    {
        var r = new Random(seed);
        var p = new byte[n];
        r.NextBytes(p);
        p[0] = 0;
        p[^1] = 255;
        return p;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesAndLabelsRoundTrip(bool gzip)
    {
        using var dir = new TempDir();
        var pixels = Pixels(5 * 3 * 4, 1);
        var labels = new byte[] { 0, 9, 3, 255, 7 };
        var ip = dir.File("images");
        var lp = dir.File("labels");
        Idx.WriteImages(ip, pixels, 5, 3, 4, gzip);
        Idx.WriteLabels(lp, labels, gzip);

        var header = File.ReadAllBytes(ip).AsSpan(0, 2).ToArray();
        Assert.Equal(gzip, header[0] == 0x1f && header[1] == 0x8b);

        var back = Idx.ReadImageBytes(ip);
        Assert.Equal((5, 3, 4, 12), (back.Count, back.Height, back.Width, back.FeatureCount));
        Assert.Equal(pixels, back.Pixels);
        Assert.Equal(labels, Idx.ReadLabels(lp));

        var (scaled, rows, features) = Idx.ReadImages(ip);
        Assert.Equal((5, 12), (rows, features));
        for (int i = 0; i < pixels.Length; i++) Assert.Equal(pixels[i] / 255f, scaled[i]);
        Assert.Equal(0f, scaled[0]);
        Assert.Equal(1f, scaled[^1]);
    }

    [Fact]
    public void GzipIsDetectedByContentNotName()
    {
        using var dir = new TempDir();
        var pixels = Pixels(2 * 2 * 2, 2);
        var gzNamedPlain = dir.File("a.gz");
        var plainNamedGz = dir.File("b");
        Idx.WriteImages(gzNamedPlain, pixels, 2, 2, 2, gzip: false);
        Idx.WriteImages(plainNamedGz, pixels, 2, 2, 2, gzip: true);
        Assert.Equal(pixels, Idx.ReadImageBytes(gzNamedPlain).Pixels);
        Assert.Equal(pixels, Idx.ReadImageBytes(plainNamedGz).Pixels);
    }

    [Fact]
    public void ZeroImagesReadAsEmpty()
    {
        using var dir = new TempDir();
        var p = dir.File("empty");
        Idx.WriteImages(p, [], 0, 28, 28);
        var r = Idx.ReadImages(p);
        Assert.Empty(r.Pixels);
        Assert.Equal((0, 784), (r.Rows, r.FeatureCount));
    }

    private static void WriteSet(TempDir dir, string prefix, int count, int h, int w, byte[] labels, bool gzip, int seed)
    {
        Idx.WriteImages(dir.File(prefix + "-images-idx3-ubyte" + (gzip ? ".gz" : "")), Pixels(count * h * w, seed), count, h, w, gzip);
        Idx.WriteLabels(dir.File(prefix + "-labels-idx1-ubyte" + (gzip ? ".gz" : "")), labels, gzip);
    }

    [Fact]
    public void LoadDirectoryBuildsClassificationDatasets()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 6, 2, 3, [0, 1, 2, 3, 1, 0], gzip: true, seed: 3);
        WriteSet(dir, "t10k", 2, 2, 3, [4, 0], gzip: false, seed: 4);
        var (train, test) = Idx.LoadDirectory(dir.Path);
        Assert.Equal((6, 6, 5), (train.Count, train.FeatureCount, train.TargetCount));
        Assert.Equal((2, 6, 5), (test.Count, test.FeatureCount, test.TargetCount));
        Assert.Equal(TaskKind.Classification, train.Task);
        Assert.Equal([0, 1, 2, 3, 1, 0], train.Labels!);
        Assert.Equal(["0", "1", "2", "3", "4"], train.ClassNames!);
        Assert.Equal(1f, test.Targets[4]);
        Assert.All(train.Features, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void LoadDirectoryUsesAtLeastTwoClassesAndGivenNames()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 2, 1, 1, [0, 0], gzip: false, seed: 5);
        WriteSet(dir, "t10k", 1, 1, 1, [0], gzip: false, seed: 6);
        Assert.Equal(2, Idx.LoadDirectory(dir.Path).Train.TargetCount);
        var named = Idx.LoadDirectory(dir.Path, ["a", "b", "c"]);
        Assert.Equal(["a", "b", "c"], named.Test.ClassNames!);
    }

    [Fact]
    public void LabelOutsideGivenClassesNamesFileAndExample()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 2, 1, 1, [0, 1], gzip: false, seed: 5);
        WriteSet(dir, "t10k", 2, 1, 1, [1, 3], gzip: false, seed: 6);
        var e = Assert.Throws<DataFormatException>(() => Idx.LoadDirectory(dir.Path, ["a", "b"]));
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.Contains("label 3 of example 1", e.Message);
    }

    [Fact]
    public void ImageAndLabelCountsMustMatch()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 3, 2, 2, [0, 1], gzip: false, seed: 7);
        WriteSet(dir, "t10k", 1, 2, 2, [0], gzip: false, seed: 8);
        var e = Assert.Throws<DataFormatException>(() => Idx.LoadDirectory(dir.Path));
        Assert.Contains(dir.File("train-images-idx3-ubyte"), e.Message);
        Assert.Contains(dir.File("train-labels-idx1-ubyte"), e.Message);
        Assert.Contains("3 images", e.Message);
        Assert.Contains("2 labels", e.Message);
    }

    [Fact]
    public void TrainAndTestImageSizesMustMatch()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 1, 2, 2, [0], gzip: false, seed: 7);
        WriteSet(dir, "t10k", 1, 2, 3, [1], gzip: false, seed: 8);
        var e = Assert.Throws<DataFormatException>(() => Idx.LoadDirectory(dir.Path));
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
        Assert.Contains("2 × 3", e.Message);
        Assert.Contains("2 × 2", e.Message);
    }

    [Fact]
    public void MissingFilesAreListed()
    {
        using var dir = new TempDir();
        WriteSet(dir, "train", 1, 1, 1, [0], gzip: false, seed: 9);
        var e = Assert.Throws<DatasetNotFoundException>(() => Idx.LoadDirectory(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("t10k-images-idx3-ubyte", e.Message);
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.DoesNotContain("lacks train", e.Message);

        var missingDir = Assert.Throws<DatasetNotFoundException>(() => Idx.LoadDirectory(dir.File("nowhere")));
        Assert.Contains("nowhere", missingDir.Message);
        var missingFile = Assert.Throws<DatasetNotFoundException>(() => Idx.ReadLabels(dir.File("nothing")));
        Assert.Contains(dir.File("nothing"), missingFile.Message);
    }

    private static DataFormatException ReadFails(TempDir dir, byte[] bytes, bool labels = false, string name = "bad")
    {
        var p = dir.Write(name, bytes);
        var e = labels
            ? Assert.Throws<DataFormatException>(() => Idx.ReadLabels(p))
            : Assert.Throws<DataFormatException>(() => Idx.ReadImages(p));
        Assert.StartsWith(p + ":", e.Message);
        return e;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrongMagicSaysFoundAndExpected(bool gzip)
    {
        using var dir = new TempDir();
        var labelFile = TempDir.IdxBytes(0x801, [2], [1, 2]);
        var e = ReadFails(dir, gzip ? TempDir.Gzip(labelFile) : labelFile);
        Assert.Contains("wrong magic number 0x00000801", e.Message);
        Assert.Contains("expected 0x00000803", e.Message);

        var junk = ReadFails(dir, TempDir.IdxBytes(0x12345678, [1], [0]), labels: true);
        Assert.Contains("0x12345678", junk.Message);
        Assert.Contains("expected 0x00000801", junk.Message);
    }

    [Fact]
    public void UnsupportedDataTypeIsNamed()
    {
        using var dir = new TempDir();
        var e = ReadFails(dir, TempDir.IdxBytes(0x0D03, [1, 1, 1], [0, 0, 0, 0]));
        Assert.Contains("unsupported IDX data type 0x0D (float32)", e.Message);
        var unknown = ReadFails(dir, TempDir.IdxBytes(0x4201, [1], [0]), labels: true);
        Assert.Contains("unknown IDX data type byte 0x42", unknown.Message);
    }

    [Fact]
    public void TruncatedHeaderIsReported()
    {
        using var dir = new TempDir();
        var e = ReadFails(dir, [0, 0, 8]);
        Assert.Contains("ends after 3 bytes", e.Message);
        var dims = ReadFails(dir, TempDir.IdxBytes(0x803, [1, 2], []));
        Assert.Contains("ends after 12 bytes, inside the 16-byte images header", dims.Message);
        Assert.Contains("ends after 0 bytes", ReadFails(dir, []).Message);
    }

    [Fact]
    public void PlainFileShorterOrLongerThanHeaderSays()
    {
        using var dir = new TempDir();
        var shortFile = ReadFails(dir, TempDir.IdxBytes(0x803, [2, 3, 4], new byte[20]));
        Assert.Contains("truncated", shortFile.Message);
        Assert.Contains("2 × 3 × 4 = 24 bytes", shortFile.Message);
        Assert.Contains("only 20 follow", shortFile.Message);

        var longFile = ReadFails(dir, TempDir.IdxBytes(0x801, [3], new byte[5]), labels: true);
        Assert.Contains("2 trailing bytes after the 3 bytes", longFile.Message);
    }

    [Fact]
    public void GzipDataShorterOrLongerThanHeaderSays()
    {
        using var dir = new TempDir();
        var shortFile = ReadFails(dir, TempDir.Gzip(TempDir.IdxBytes(0x803, [2, 3, 4], new byte[20])));
        Assert.Contains("truncated: the gzip data ends after 20 of the 24 bytes", shortFile.Message);

        var longFile = ReadFails(dir, TempDir.Gzip(TempDir.IdxBytes(0x801, [3], new byte[5])), labels: true);
        Assert.Contains("2 trailing bytes after the 3 bytes", longFile.Message);
    }

    [Fact]
    public void TruncatedGzipStreamIsReported()
    {
        using var dir = new TempDir();
        var full = TempDir.Gzip(TempDir.IdxBytes(0x803, [50, 10, 10], Pixels(5000, 11)));
        for (int cut = 1; cut < full.Length; cut += Math.Max(1, full.Length / 40))
        {
            var e = ReadFails(dir, full[..cut], name: "cut" + cut);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("gzip"), e.Message);
        }
    }

    [Fact]
    public void GzipCutInsideTheTrailerOrFollowedByBytesIsRejected()
    {
        using var dir = new TempDir();
        var full = TempDir.Gzip(TempDir.IdxBytes(0x801, [100], Pixels(100, 13)));
        for (int cut = 1; cut <= 8; cut++)
        {
            var e = ReadFails(dir, full[..^cut], labels: true, name: "cut" + cut);
            Assert.Contains("corrupt gzip stream: the gzip trailer", e.Message);
            Assert.Contains("truncated", e.Message);
        }
        Assert.Contains("gzip trailer", ReadFails(dir, [.. full, 1, 2, 3], labels: true, name: "junk").Message);
        Assert.Contains("108 trailing bytes after the 100 bytes", ReadFails(dir, [.. full, .. full], labels: true, name: "twice").Message);
        Assert.Contains("truncated", ReadFails(dir, full[..12], labels: true, name: "tiny").Message);
    }

    [Fact]
    public void CorruptGzipStreamIsReported()
    {
        using var dir = new TempDir();
        var full = TempDir.Gzip(TempDir.IdxBytes(0x803, [50, 10, 10], Pixels(5000, 12)));

        var badCrc = (byte[])full.Clone();
        badCrc[^6] ^= 0xFF;  // CRC-32 of the uncompressed data
        Assert.Contains("corrupt gzip stream", ReadFails(dir, badCrc, name: "crc").Message);

        var badBlock = (byte[])full.Clone();
        badBlock[10] = 0xFF;  // first byte of the deflate data: block type 3 is invalid
        badBlock[11] = 0xFF;
        Assert.Contains("corrupt gzip stream", ReadFails(dir, badBlock, name: "block").Message);
    }

    [Fact]
    public void HugeDimensionsFailBeforeAllocating()
    {
        using var dir = new TempDir();
        var before = GC.GetAllocatedBytesForCurrentThread();

        var overflow = ReadFails(dir, TempDir.IdxBytes(0x803, [1u << 30, 1u << 30, 1], new byte[16]), name: "a");
        Assert.Contains("1073741824 × 1073741824 × 1", overflow.Message);
        Assert.Contains("more than one array can hold", overflow.Message);

        var tooBig = ReadFails(dir, TempDir.IdxBytes(0x803, [0x80000000u, 1, 1], []), name: "b");
        Assert.Contains("dimension 0 of the header is 2147483648", tooBig.Message);

        var plainLie = ReadFails(dir, TempDir.IdxBytes(0x803, [1u << 30, 1, 1], new byte[16]), name: "c");
        Assert.Contains("only 16 follow", plainLie.Message);

        var gzipLie = ReadFails(dir, TempDir.Gzip(TempDir.IdxBytes(0x803, [1u << 30, 1, 1], new byte[16])), name: "d");
        Assert.Contains("decompresses to at most", gzipLie.Message);
        var gzipShort = ReadFails(dir, TempDir.Gzip(TempDir.IdxBytes(0x803, [30000, 1, 1], new byte[16])), name: "d2");
        Assert.Contains("ends after 16 of the 30000 bytes", gzipShort.Message);

        var zeroImagesHugePixels = ReadFails(dir, TempDir.IdxBytes(0x803, [0, 0x7FFFFFFF, 0x7FFFFFFF], []), name: "e");
        Assert.Contains("larger than one array can hold", zeroImagesHugePixels.Message);

        var noPixels = ReadFails(dir, TempDir.IdxBytes(0x803, [3, 0, 5], []), name: "f");
        Assert.Contains("images of 0 × 5 pixels", noPixels.Message);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 << 20, $"reading lying headers allocated {allocated} bytes");
    }
}
