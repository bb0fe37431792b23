using System.IO.Compression;
using System.Text;
using GpuNet.Data;
using GpuNet.Tests.IO;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>
/// Each reader's worst case, fed to the built gpunet under a hard limit on its managed heap: a file that claims much
/// more than the limit must end in a one-line error naming the file, never in "Out of memory". In-process, the bytes
/// a reader allocates are compared with the data it really holds.
/// </summary>
public class BoundedMemoryTests
{
    // 256 MiB: far below what believing the files would take (gigabytes), far above what the command needs.
    private static readonly Dictionary<string, string> HeapLimit = new() { ["DOTNET_GCHeapHardLimit"] = "0x10000000" };
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private static (int Code, string Err) Train(TempDir dir, string data, Dictionary<string, string>? extra = null)
    {
        var env = new Dictionary<string, string>(HeapLimit);
        foreach (var (k, v) in extra ?? []) env[k] = v;
        var (code, _, err) = GpunetProcess.Run(env, Deadline,
            "train", "--data", data, "--epochs", "1", "--device", "cpu", "--model", dir.File("m.safetensors"));
        Assert.DoesNotContain("Out of memory", err);
        Assert.DoesNotContain("   at ", err);
        return (code, err.Trim());
    }

    /// <summary>A 200 MB line, plain and as a gzip file of about 1 MB: the reader stops at the line limit.</summary>
    [Fact]
    public void ASingleHugeCsvLineStopsAtTheLineLimit()
    {
        using var dir = new TempDir();
        string plain = dir.File("line.csv"), packed = dir.File("line.csv.gz");
        WriteLine(plain, 200_000_000, gzip: false);
        WriteLine(packed, 200_000_000, gzip: true);
        Assert.True(new FileInfo(packed).Length * 100 < new FileInfo(plain).Length);
        foreach (var path in new[] { plain, packed })
        {
            var (code, err) = Train(dir, $"csv:{path}");
            Assert.Equal(1, code);
            Assert.Equal($"gpunet: error: {path}: line 1: the line is longer than {DataLimits.DefaultMaxLineLength} characters, the limit " +
                "(raise it with DataLimits.MaxLineLength or the environment variable GPUNET_MAX_CSV_LINE); is this a CSV file?", err);
        }
        var (pcode, _, perr) = GpunetProcess.Run(HeapLimit, Deadline, "predict", "--model", dir.File("absent.safetensors"), "--input", plain);
        Assert.NotEqual(0, pcode);
        Assert.DoesNotContain("Out of memory", perr);
    }

    /// <summary>An image file that truthfully declares 600 MB beside a label file of 20 labels: the headers disagree,
    /// which is found before any image data is decompressed (the limit on declared sizes is raised, so it is not what
    /// stops the read).</summary>
    [Fact]
    public void IdxHeadersAreComparedBeforeTheBulkIsDecompressed()
    {
        using var dir = new TempDir();
        const int count = 765_306; // 765306 × 28 × 28 = 600 MB
        using (var f = File.Create(Path.Combine(dir.Path, Idx.TrainImagesName + ".gz")))
        using (var gz = new GZipStream(f, CompressionLevel.Fastest))
        {
            gz.Write(TempDir.IdxBytes(0x803, [count, 28, 28], []));
            var zeros = new byte[1 << 20];
            long left = (long)count * 784;
            for (; left > 0; left -= zeros.Length) gz.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
        }
        var labels = new byte[20];
        Idx.WriteLabels(Path.Combine(dir.Path, Idx.TrainLabelsName), labels);
        Idx.WriteImages(Path.Combine(dir.Path, Idx.TestImagesName), new byte[2 * 784], 2, 28, 28);
        Idx.WriteLabels(Path.Combine(dir.Path, Idx.TestLabelsName), [0, 1]);

        var (code, err) = Train(dir, $"mnist-idx:{dir.Path}", new() { [DataLimits.IdxBytesVariable] = "4G" });
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: {Path.Combine(dir.Path, Idx.TrainImagesName)}.gz holds {count} images but " +
            $"{Path.Combine(dir.Path, Idx.TrainLabelsName)} holds 20 labels; they must match", err);

        // Under the default limit the same header is refused for its size alone.
        var limited = Assert.Throws<DataFormatException>(() => Idx.LoadDirectory(dir.Path, limits: new DataLimits { MaxIdxBytes = 100 << 20 }));
        Assert.Contains($"more than the limit of {100 << 20} bytes (raise it with DataLimits.MaxIdxBytes", limited.Message);
    }

    /// <summary>A CSV file of many tiny rows: what the reader allocates stays within a small multiple of the dataset it
    /// returns (features, one-hot targets and labels), with no string per row.</summary>
    [Fact]
    public void CsvAllocatesASmallMultipleOfTheDataItHolds()
    {
        using var dir = new TempDir();
        const int rows = 500_000;
        var text = new StringBuilder(rows * 6);
        for (int i = 0; i < rows; i++) text.Append(i % 7).Append(',').Append(i % 2).Append('\n');
        string path = dir.WriteText("tiny.csv", text.ToString());
        Csv.Load(dir.WriteText("warm.csv", "1,0\n2,1\n")); // JIT and static tables outside the measurement

        long before = GC.GetAllocatedBytesForCurrentThread();
        var d = Csv.Load(path).Dataset;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long held = 4L * (d.Features.Length + d.Targets.Length + d.Labels!.Length);
        Assert.Equal(rows, d.Count);
        Assert.True(allocated < 2 * held + (1 << 20), $"reading {rows} rows allocated {allocated} bytes for {held} bytes of data");
    }

    /// <summary>Model files and checkpoints of a few kilobytes whose headers claim 2,147,483,646 parameters: every
    /// command that reads them refuses them in one line under the heap limit, before anything of that size exists.</summary>
    [Fact]
    public void ModelAndCheckpointClaimsAreRefusedBeforeTheyAreAllocated()
    {
        using var dir = new TempDir();
        const string weights = """{"dtype":"F32","shape":[1,2147483645],"data_offsets":[0,8589934580]}""";
        const string bias = """{"dtype":"F32","shape":[1],"data_offsets":[8589934580,8589934584]}""";
        string model = dir.File("claims.safetensors");
        File.WriteAllBytes(model, SafeTensorsBytes.Build(
            "{\"__metadata__\":{\"format\":\"gpunet-mlp/1\",\"input_size\":\"2147483645\",\"layer_sizes\":\"1\",\"activations\":\"identity\"," +
            $"\"output\":\"identity\",\"loss\":\"mse\",\"task\":\"regress\"}},\"layers.0.weight\":{weights},\"layers.0.bias\":{bias}}}", new byte[3000]));
        string folder = Directory.CreateDirectory(dir.File("ck")).FullName;
        string checkpoint = Path.Combine(folder, "checkpoint-0123456789abcdef-e000001-r000000000.safetensors");
        File.WriteAllBytes(checkpoint, SafeTensorsBytes.Build(
            """{"parameters":{"dtype":"F32","shape":[1,2147483646],"data_offsets":[0,8589934584]}}""", new byte[3000]));
        string claim = "data_offsets [0, 8589934580] run past the end of the 3000-byte data section";
        foreach (var (args, expected) in new (string[], string)[]
                 {
                     (["eval", "--model", model, "--data", "sine", "--device", "cpu"], $"safetensors file '{model}': tensor 'layers.0.weight': {claim}"),
                     (["train", "--init", model, "--data", "sine", "--epochs", "1", "--device", "cpu", "--model", dir.File("m.safetensors")],
                         $"safetensors file '{model}': tensor 'layers.0.weight': {claim}"),
                     (["train", "--resume", checkpoint], $"safetensors file '{checkpoint}': tensor 'parameters': {claim.Replace("8589934580]", "8589934584]", StringComparison.Ordinal)}"),
                 })
        {
            var (code, _, err) = GpunetProcess.Run(HeapLimit, Deadline, args);
            Assert.True(code == 1, $"{args[0]} {args[1]}: exit {code}: {err}");
            Assert.Equal($"gpunet: error: {expected}", err.Trim());
        }
        Assert.False(File.Exists(dir.File("m.safetensors")));
    }

    /// <summary>A normal file still trains under the same heap limit: the bounds cost nothing to real data.</summary>
    [Fact]
    public void RealDataTrainsUnderTheHeapLimit()
    {
        using var dir = new TempDir();
        var text = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 2_000; i++) text.Append(i % 5 * 0.25).Append(',').Append(i % 3).Append(',').Append(i % 2 == 0 ? "even" : "odd").Append('\n');
        var (code, err) = Train(dir, $"csv:{dir.WriteText("ok.csv", text.ToString())}");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(dir.File("m.safetensors")));
    }

    private static void WriteLine(string path, int length, bool gzip)
    {
        using var file = File.Create(path);
        using Stream s = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("1,", 1 << 19))); // short cells: the line is what is long
        for (int left = length; left > 0; left -= chunk.Length) s.Write(chunk, 0, Math.Min(left, chunk.Length));
        s.WriteByte((byte)'\n');
    }
}
