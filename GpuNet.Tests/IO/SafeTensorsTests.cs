using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.IO;

public class SafeTensorsTests
{
    private static readonly float[] Special =
    [
        0f, -0f, 1f, -1.5f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity, float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_1234),
        1e-38f, 3.1415927f,
    ];

    /// <summary>Several shapes: matrices, a vector, [1], a 0-d scalar, and empty tensors with a 0 dimension.</summary>
    private static List<TensorEntry> SampleTensors(int seed = 42)
    {
        var rng = new Random(seed);
        TensorEntry T(string name, params long[] shape)
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            return new TensorEntry(name, shape, TestData.Uniform(rng, (int)n, -3f, 3f));
        }
        return
        [
            T("layers.0.weight", 3, 4),
            T("layers.0.bias", 4),
            T("one", 1),
            T("empty", 0),
            T("scalar"),
            T("zero-inside", 3, 0, 2),
            T("layers.1.weight", 17, 5, 3),
            new TensorEntry("special", [Special.Length], (float[])Special.Clone()),
            T("ünïcödé \"quoted\" name", 2, 1),
        ];
    }

    private static readonly Dictionary<string, string> SampleMetadata = new()
    {
        ["format"] = "gpunet",
        ["activation"] = "relu",
        ["layers"] = "[4, 17, 3]",
        ["empty"] = "",
        ["with \"quotes\" and\nnewline"] = "ünïcödé ✓ \u0001",
    };

    [Fact]
    public void RoundTripKeepsValuesShapesOrderAndMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        var tensors = SampleTensors();
        SafeTensors.Write(path, tensors, SampleMetadata);

        var file = SafeTensors.Read(path);
        Assert.Equal(path, file.FilePath);
        Assert.Equal(SampleMetadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(tensors.Select(t => t.Name), file.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var r = file.Get(t.Name, t.Shape);
            Assert.Equal(t.Shape, r.Shape);
            Assert.Equal(SafeTensorsBytes.Bits(t.Data), SafeTensorsBytes.Bits(r.Data));
        }
        Assert.Equal(["m.safetensors"], dir.Names());
    }

    [Fact]
    public void RoundTripWithoutTensorsOrMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.safetensors");
        SafeTensors.Write(path, [], new Dictionary<string, string>());
        var file = SafeTensors.Read(path);
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
        Assert.Equal(16, new FileInfo(path).Length); // length + "{}" padded to 8
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        using var dir = new TempDir();
        string a = dir.File("a.safetensors"), b = dir.File("b.safetensors");
        SafeTensors.Write(a, SampleTensors(), SampleMetadata);
        // Same pairs, inserted in the opposite order.
        var reversed = new Dictionary<string, string>();
        foreach (var (k, v) in SampleMetadata.Reverse()) reversed[k] = v;
        SafeTensors.Write(b, SampleTensors(), reversed);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    /// <summary>Parses the writer's output with nothing but the format description and System.Text.Json.</summary>
    [Fact]
    public void IndependentReaderAgreesWithWriter()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        var tensors = SampleTensors(7);
        SafeTensors.Write(path, tensors, SampleMetadata);
        byte[] bytes = File.ReadAllBytes(path);

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.True(8 + (long)n <= bytes.Length);
        var header = bytes.AsSpan(8, (int)n);
        int close = header.LastIndexOf((byte)'}');
        Assert.True(close >= 0);
        Assert.True(n - (ulong)(close + 1) < 8, "padding is less than 8 bytes");
        foreach (byte pad in header[(close + 1)..]) Assert.Equal((byte)' ', pad);

        using var doc = JsonDocument.Parse(header[..(close + 1)].ToArray());
        var props = doc.RootElement.EnumerateObject().ToList();
        Assert.Equal("__metadata__", props[0].Name);
        var metaKeys = props[0].Value.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(SampleMetadata.Keys.Order(StringComparer.Ordinal), metaKeys);
        foreach (var p in props[0].Value.EnumerateObject()) Assert.Equal(SampleMetadata[p.Name], p.Value.GetString());

        var data = bytes.AsSpan(8 + (int)n);
        Assert.Equal(tensors.Select(t => t.Name), props.Skip(1).Select(p => p.Name));
        long expectedBegin = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            var entry = props[i + 1].Value;
            Assert.Equal("F32", entry.GetProperty("dtype").GetString());
            Assert.Equal(t.Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(2, offsets.Length);
            Assert.Equal(expectedBegin, offsets[0]);
            Assert.Equal(expectedBegin + 4L * t.Data.Length, offsets[1]);
            for (int j = 0; j < t.Data.Length; j++)
                Assert.Equal(BitConverter.SingleToInt32Bits(t.Data[j]),
                    BinaryPrimitives.ReadInt32LittleEndian(data.Slice((int)offsets[0] + 4 * j, 4)));
            expectedBegin = offsets[1];
        }
        Assert.Equal(data.Length, expectedBegin);
    }

    /// <summary>A file laid out as Python's safetensors writes it: keys sorted, data ordered differently from the
    /// keys, spaces after separators, no padding, an extra key in an entry.</summary>
    [Fact]
    public void ReadsHandBuiltFile()
    {
        using var dir = new TempDir();
        string path = dir.File("torch.safetensors");
        string json = """
            {"__metadata__": {"format": "pt"}, "fc.bias": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]},
             "fc.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24], "note": [1, {"x": null}]},
             "nothing": {"dtype": "F32", "shape": [0, 5], "data_offsets": [32, 32]}}
            """;
        Assert.NotEqual(0, Encoding.UTF8.GetByteCount(json) % 8);
        var data = SafeTensorsBytes.Floats(1, 2, 3, 4, 5, 6, -0.5f, 0.25f);
        File.WriteAllBytes(path, SafeTensorsBytes.Build(json, data));

        var file = SafeTensors.Read(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["fc.weight", "fc.bias", "nothing"], file.Tensors.Select(t => t.Name));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, file.Get("fc.weight", 2, 3).Data);
        Assert.Equal(new float[] { -0.5f, 0.25f }, file.Get("fc.bias", 2).Data);
        Assert.Empty(file.Get("nothing", 0, 5).Data);
    }

    [Fact]
    public void GetNamesMissingTensorAndListsExisting()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        SafeTensors.Write(path, SampleTensors(), SampleMetadata);
        var file = SafeTensors.Read(path);
        var e = Assert.Throws<ModelFormatException>(() => file.Get("layers.2.weight"));
        Assert.Contains("'layers.2.weight'", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("'layers.0.weight'", e.Message);
        Assert.Contains("'special'", e.Message);
    }

    [Fact]
    public void GetChecksShape()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        SafeTensors.Write(path, SampleTensors(), SampleMetadata);
        var file = SafeTensors.Read(path);
        var e = Assert.Throws<ModelFormatException>(() => file.Get("layers.0.weight", 4, 3));
        Assert.Contains("'layers.0.weight'", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("expected [4, 3]", e.Message);
        Assert.Throws<ModelFormatException>(() => file.Get("scalar", 1));
        Assert.Single(file.Get("scalar", []).Data);
    }

    public static TheoryData<string, TensorEntry[], string> BadWrites() => new()
    {
        { "shape/data mismatch", [new TensorEntry("w", [2, 3], new float[5])], "tensor 'w' has shape [2, 3] (6 values) but 5 data values" },
        { "negative dim", [new TensorEntry("w", [-2, -3], new float[6])], "tensor 'w' has a negative dimension" },
        { "duplicate", [new TensorEntry("a", [1], [1f]), new TensorEntry("a", [1], [2f])], "two tensors are named 'a'" },
        { "reserved", [new TensorEntry("__metadata__", [1], [1f])], "reserved for the metadata" },
        { "overflow", [new TensorEntry("w", [1L << 40, 1L << 40, 0], [])], "more than 2^63" },
        { "surrogate", [new TensorEntry("bad\ud800", [1], [1f])], "not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(BadWrites))]
    public void InvalidWriteThrowsAndKeepsOldFile(string what, TensorEntry[] tensors, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Write(path, tensors, new Dictionary<string, string>()));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.True(dir.Names().SequenceEqual(["m.safetensors"]), what);
    }

    [Fact]
    public void InvalidMetadataThrows()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        var e = Assert.Throws<ModelFormatException>(() =>
            SafeTensors.Write(path, [], new Dictionary<string, string> { ["k"] = "\udc00x" }));
        Assert.Contains("metadata value of 'k'", e.Message);
        Assert.Empty(dir.Names());
    }
}
