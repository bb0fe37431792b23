using System.Text;
using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>The bounds on a CSV line, a CSV cell and an IDX header's declared size: each error names the file and the
/// line, and says how to raise the limit; each limit can be raised from the library and from the environment.</summary>
public class DataLimitsTests
{
    [Fact]
    public void ALongLineOrCellIsAnErrorNamingTheLine()
    {
        using var dir = new TempDir();
        var limits = new DataLimits { MaxLineLength = 100, MaxCellLength = 10 };
        string longLine = dir.WriteText("line.csv", "1,2\n" + new string(' ', 60) + "3,  " + new string(' ', 60) + "4\n");
        var e = Assert.Throws<DataFormatException>(() => Csv.Load(longLine, new CsvOptions { Limits = limits with { MaxCellLength = 1000 } }));
        Assert.Equal($"{longLine}: line 2: the line is longer than 100 characters, the limit (raise it with DataLimits.MaxLineLength " +
            "or the environment variable GPUNET_MAX_CSV_LINE); is this a CSV file?", e.Message);
        string longCell = dir.WriteText("cell.csv", "1,2\n3,\"" + new string('x', 11) + "\"\n");
        var c = Assert.Throws<DataFormatException>(() => Csv.Load(longCell, new CsvOptions { Limits = limits }));
        Assert.Equal($"{longCell}: line 2, column 2: the cell is longer than 10 characters, the limit (raise it with " +
            "DataLimits.MaxCellLength or the environment variable GPUNET_MAX_CSV_CELL)", c.Message);
        // a quoted cell spanning lines counts all of them, and is named by its first line
        string spanning = dir.WriteText("span.csv", "1,a\n2,\"" + string.Concat(Enumerable.Repeat("b\n", 60)) + "\"\n");
        Assert.Contains("line 2: the line is longer than 100", Assert.Throws<DataFormatException>(
            () => Csv.Load(spanning, new CsvOptions { Limits = limits with { MaxCellLength = 1000 } })).Message);
        // at the limit is fine
        Assert.Equal(2, Csv.Load(dir.WriteText("ok.csv", "1234567890,a\n1,b\n"), new CsvOptions { Limits = limits }).Dataset.Count);
        Assert.Contains("line 2: the line is longer than 100", Assert.Throws<DataFormatException>(
            () => Csv.ReadMatrix(longLine, false, limits: limits with { MaxLineLength = 100, MaxCellLength = 1000 })).Message);
        Assert.Contains("longer than 3", Assert.Throws<DataFormatException>(
            () => Csv.PeekFirstRecord(longLine, limits: limits with { MaxLineLength = 3 })).Message);
    }

    [Fact]
    public void AGzipBombIsStoppedAtTheFirstLineWithoutExpanding()
    {
        using var dir = new TempDir();
        // 64 MB of commas in 64 KB: the line limit stops decompression after 1 MB
        var bomb = TempDir.Gzip(Encoding.ASCII.GetBytes(new string(',', 64 << 20)));
        string p = dir.Write("bomb.csv.gz", bomb);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains($"{p}: line 1: the line is longer than", Assert.Throws<DataFormatException>(() => Csv.Load(p)).Message);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // a line of characters (2 bytes each) and its cells (8 bytes each), each grown by doubling up to the limit
        Assert.True(allocated < 24L * DataLimits.DefaultMaxLineLength + (4 << 20), $"allocated {allocated} bytes");
    }

    [Fact]
    public void IdxDeclaredSizesMeetTheLimitBeforeAnyData()
    {
        using var dir = new TempDir();
        string p = dir.Write("images", TempDir.IdxBytes(0x803, [10, 28, 28], new byte[7840]));
        Assert.Equal(10, Idx.ReadImageBytes(p, new DataLimits { MaxIdxBytes = 7840 }).Count);
        var e = Assert.Throws<DataFormatException>(() => Idx.ReadImageBytes(p, new DataLimits { MaxIdxBytes = 7839 }));
        Assert.Equal($"{p}: the header declares 10 × 28 × 28 = 7840 bytes of data, more than the limit of 7839 bytes " +
            "(raise it with DataLimits.MaxIdxBytes or the environment variable GPUNET_MAX_IDX_BYTES)", e.Message);
        var gz = dir.Write("labels.gz", TempDir.Gzip(TempDir.IdxBytes(0x801, [4000], new byte[4000])));
        Assert.Contains("more than the limit of 100 bytes", Assert.Throws<DataFormatException>(
            () => Idx.ReadLabels(gz, new DataLimits { MaxIdxBytes = 100 })).Message);
        // a gzip file too small to expand to what its header declares is refused without decompressing
        var lie = dir.Write("lie.gz", TempDir.Gzip(TempDir.IdxBytes(0x801, [50_000_000], new byte[100])));
        Assert.Contains("decompresses to at most", Assert.Throws<DataFormatException>(() => Idx.ReadLabels(lie)).Message);
    }

    [Fact]
    public void LimitsComeFromTheEnvironment()
    {
        Assert.Equal(new DataLimits(), DataLimits.FromVariables(_ => null));
        var vars = new Dictionary<string, string>
        {
            [DataLimits.LineLengthVariable] = "8M", [DataLimits.CellLengthVariable] = " 100 ", [DataLimits.IdxBytesVariable] = "4g",
        };
        var l = DataLimits.FromVariables(n => vars.GetValueOrDefault(n));
        Assert.Equal((8 << 20, 100, 4L << 30), (l.MaxLineLength, l.MaxCellLength, l.MaxIdxBytes));
        foreach (var bad in new[] { "0", "-1", "1.5", "lots", "99999999999G", "3T" })
        {
            var e = Assert.Throws<GpuNetException>(() => DataLimits.FromVariables(n => n == DataLimits.LineLengthVariable ? bad : null));
            Assert.StartsWith($"environment variable GPUNET_MAX_CSV_LINE={bad}: expected a whole number from 1 to", e.Message);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLimits { MaxCellLength = 0 });
    }

    [Fact]
    public void TheCommandReadsTheLimitFromTheEnvironment()
    {
        using var dir = new TempDir();
        string csv = dir.WriteText("d.csv", "0.5,1\n0.25,0\n0.125,1\n0.0625,0\n");
        var env = new Dictionary<string, string> { [DataLimits.LineLengthVariable] = "3" };
        var (code, _, err) = GpunetProcess.Run(env, TimeSpan.FromSeconds(60),
            "train", "--data", $"csv:{csv}", "--epochs", "1", "--device", "cpu", "--model", dir.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains($"{csv}: line 1: the line is longer than 3 characters", err);
    }
}
