using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>
/// Seeded corruption of valid files: every variant must load with a consistent shape or fail with a
/// <see cref="GpuNetException"/> — never another exception, never slowly, never with a large allocation.
/// </summary>
public class FuzzTests
{
    private const int VariantsPerBase = 60;
    private const long MaxAllocation = 32L << 20;
    // Wall time, while other test classes run kernels on the same (perhaps 2) cores: the bound is far above a normal load
    // (milliseconds) so that it catches only a hang or a blow-up (a lying size field read as a loop count), never a busy
    // machine. Each reader is warmed up on the valid file first, so JIT compilation is not timed either.
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(20);

    private static readonly uint[] LyingSizes = [0, 1, 2, 3, 0x100, 0x10000, 1u << 20, 1u << 30, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    private static byte[] Mutate(byte[] valid, Random rng, bool idx, out string how)
    {
        var b = (byte[])valid.Clone();
        switch (rng.Next(6))
        {
            case 0:
            {
                int flips = 1 + rng.Next(4);
                for (int i = 0; i < flips; i++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
                how = $"{flips} random bytes";
                return b;
            }
            case 1:
            {
                int cut = rng.Next(b.Length);
                how = $"truncated to {cut}";
                return b[..cut];
            }
            case 2:
            {
                var extra = new byte[1 + rng.Next(64)];
                rng.NextBytes(extra);
                how = $"{extra.Length} bytes appended";
                return [.. b, .. extra];
            }
            case 3:
            {
                int at = rng.Next(b.Length);
                int len = 1 + rng.Next(Math.Min(16, b.Length - at));
                how = $"{len} bytes removed at {at}";
                return [.. b[..at], .. b[(at + len)..]];
            }
            case 4 when idx:
            {
                // A lying size field in the (uncompressed) header.
                int fields = (BinaryPrimitives.ReadUInt32BigEndian(b) & 0xFF) switch { 1 => 1, 3 => 3, _ => 1 };
                int field = rng.Next(fields);
                uint size = LyingSizes[rng.Next(LyingSizes.Length)];
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4 + 4 * field), size);
                how = $"size {field} set to {size}";
                return b;
            }
            case 4:
            {
                const string specials = ",\"\r\n \tx.-e9";
                int n = 1 + rng.Next(4);
                for (int i = 0; i < n; i++) b[rng.Next(b.Length)] = (byte)specials[rng.Next(specials.Length)];
                how = $"{n} CSV special characters";
                return b;
            }
            default:
            {
                int at = rng.Next(b.Length);
                var junk = new byte[1 + rng.Next(8)];
                rng.NextBytes(junk);
                how = $"{junk.Length} bytes inserted at {at}";
                return [.. b[..at], .. junk, .. b[at..]];
            }
        }
    }

    private static void Check(string what, Func<string, int> load, IEnumerable<(string Name, byte[] Bytes, bool Idx)> bases, int seed)
    {
        using var dir = new TempDir();
        var rng = new Random(seed);
        int loaded = 0, rejected = 0;
        foreach (var (name, valid, idx) in bases)
        {
            // Warm-up, not timed: JIT compilation of the reader. Some readers refuse a valid base (a header read as data).
            try { load(dir.Write($"{name}-valid", valid)); }
            catch (GpuNetException) { }
            for (int v = 0; v < VariantsPerBase; v++)
            {
                var bytes = Mutate(valid, rng, idx, out var how);
                // Header lies go into the uncompressed IDX bytes, then are re-compressed half of the time.
                if (idx && rng.Next(2) == 0) bytes = TempDir.Gzip(bytes);
                var path = dir.Write($"{name}-{v}", bytes);
                string label = $"{what} on {name} variant {v} ({how})";
                long before = GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                try
                {
                    load(path);
                    loaded++;
                }
                catch (GpuNetException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message), label);
                    Assert.Contains(path, e.Message);
                    rejected++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{label}: {e.GetType().Name}: {e.Message}");
                }
                Assert.True(clock.Elapsed < MaxTime, $"{label} took {clock.Elapsed}");
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated < MaxAllocation, $"{label} allocated {allocated} bytes");
            }
        }
        Assert.True(rejected > 0 && loaded > 0, $"{what}: {loaded} loaded, {rejected} rejected: the mutations should produce both");
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void CorruptIdxFilesLoadOrFailCleanly()
    {
        var images = TempDir.IdxBytes(0x803, [6, 4, 5], RandomBytes(6 * 4 * 5, 1));
        var labels = TempDir.IdxBytes(0x801, [40], RandomBytes(40, 2));
        Check("ReadImages", p =>
        {
            var (pixels, rows, features) = Idx.ReadImages(p);
            Assert.Equal((long)rows * features, pixels.Length);
            Assert.True(features > 0);
            return rows;
        }, [("images", images, true), ("images-gz", TempDir.Gzip(images), false)], seed: 11);
        Check("ReadLabels", p => Idx.ReadLabels(p).Length,
            [("labels", labels, true), ("labels-gz", TempDir.Gzip(labels), false)], seed: 12);
    }

    private static readonly string CsvText =
        "x1,x2,\"the, label\"\r\n0.5,1e-3,cat\r\n-2,3.25,\"dog\"\r\n7,8,cat\r\n1,2,\"b\"\"ird\"\r\n\r\n";

    private static readonly string NumericCsvText = "1,2,0\n3,4,1\n5,6,1\n7,8.5,0\n9,10,2\n";

    [Fact]
    public void CorruptCsvFilesLoadOrFailCleanly()
    {
        var text = Encoding.UTF8.GetBytes(CsvText);
        var numeric = Encoding.UTF8.GetBytes(NumericCsvText);
        (string, byte[], bool)[] bases =
        [
            ("csv", text, false), ("csv-gz", TempDir.Gzip(text), false),
            ("numeric", numeric, false), ("numeric-gz", TempDir.Gzip(numeric), false),
        ];
        Check("Csv.Load", p =>
        {
            var d = Csv.Load(p, new CsvOptions { HasHeader = true }).Dataset;
            Assert.Equal((long)d.Count * d.FeatureCount, d.Features.Length);
            Assert.Equal((long)d.Count * d.TargetCount, d.Targets.Length);
            Assert.All(d.Features, v => Assert.True(float.IsFinite(v)));
            return d.Count;
        }, bases, seed: 13);
        Check("Csv.Load drop", p => Csv.Load(p, new CsvOptions { DropNonFinite = true, Task = CsvTask.Regress, LabelColumn = "0" }).Dataset.Count,
            bases, seed: 14);
        Check("Csv.ReadMatrix", p =>
        {
            var m = Csv.ReadMatrix(p, hasHeader: false);
            Assert.Equal((long)m.Rows * m.Columns, m.Values.Length);
            return m.Rows;
        }, bases, seed: 15);
    }

    [Fact]
    public void IdxReadersRejectCsvAndCsvReadersRejectIdx()
    {
        using var dir = new TempDir();
        var csv = dir.WriteText("a.csv", CsvText);
        var idx = dir.Write("b", TempDir.Gzip(TempDir.IdxBytes(0x803, [2, 2, 2], new byte[8])));
        Assert.Contains("wrong magic number", Assert.Throws<DataFormatException>(() => Idx.ReadImages(csv)).Message);
        Assert.Contains(idx, Assert.ThrowsAny<GpuNetException>(() => Csv.Load(idx)).Message);
    }
}
