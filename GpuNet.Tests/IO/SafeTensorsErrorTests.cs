using System.Buffers.Binary;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.IO;

/// <summary>Every malformed file is a <see cref="ModelFormatException"/> whose message names the file and the problem.</summary>
public class SafeTensorsErrorTests
{
    private static void AssertRejected(byte[] bytes, params string[] expected)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
        foreach (var s in expected) Assert.Contains(s, e.Message);
        Assert.DoesNotContain(e.Message, char.IsControl);
        Assert.DoesNotContain("LineNumber", e.Message);
    }

    private const string A4 = """ "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} """;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void ShorterThanLength(int size) =>
        AssertRejected(new byte[size], $"the file is {size} bytes, shorter than the 8-byte header length");

    [Theory]
    [InlineData(1UL << 62)]
    [InlineData(ulong.MaxValue)]
    [InlineData(100_000_001UL)]
    public void AbsurdHeaderLength(ulong n) =>
        AssertRejected(SafeTensorsBytes.Build("{}", [], headerLength: n), $"header length is {n} bytes, over the 100000000-byte limit");

    [Theory]
    [InlineData(3UL)]
    [InlineData(1000UL)]
    [InlineData(100_000_000UL)]
    public void HeaderLengthPastEndOfFile(ulong n) =>
        AssertRejected(SafeTensorsBytes.Build("{}", [], headerLength: n), $"header length is {n} bytes but only 2 bytes follow");

    [Fact]
    public void HeaderNotUtf8() =>
        AssertRejected(SafeTensorsBytes.Build([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []),
            "not valid UTF-8");

    [Theory]
    // JSON and object shape
    [InlineData("""{"a": """, 0, "JSON header is malformed")]
    [InlineData("", 0, "JSON header is malformed")]
    [InlineData("{} x", 0, "JSON header is malformed")]
    [InlineData("""{"a": 1,}""", 0, "JSON header is malformed")]
    [InlineData("[]", 0, "JSON header is an array, expected an object")]
    [InlineData("\"x\"", 0, "JSON header is a string, expected an object")]
    [InlineData("{" + A4 + "," + A4 + "}", 4, "has the key 'a' twice")]
    [InlineData("""{"\ud800": {}}""", 0, "not valid Unicode")]
    // entries
    [InlineData("""{"a": 5}""", 0, "tensor 'a': its entry is a number, expected an object")]
    [InlineData("""{"a": {"shape": [1], "data_offsets": [0, 4]}}""", 4, "tensor 'a': its entry has no \"dtype\"")]
    // control characters from the file are shown escaped, so the message stays one line
    [InlineData("{\"a\u007fb\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "tensor 'a\\u007fb': its entry has no \"dtype\"")]
    [InlineData("{\"a\": nul\u007f}", 0, "JSON header is malformed at character 10: ", "'nul\\u007f}' is an invalid JSON literal")]
    [InlineData("""{"a": {"dtype": "F32", "data_offsets": [0, 4]}}""", 4, "tensor 'a': its entry has no \"shape\"")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1]}}""", 4, "tensor 'a': its entry has no \"data_offsets\"")]
    [InlineData("""{"a": {"dtype": "F32", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 4, "\"dtype\" is given twice")]
    [InlineData("""{"a": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}}""", 4, "\"dtype\" is a number")]
    [InlineData("""{"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}""", 4, "dtype is \"F16\"; only F32 is supported")]
    [InlineData("""{"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}""", 4, "\"BF16\"; only F32 is supported")]
    [InlineData("""{"a": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}""", 4, "\"shape\" is a string, expected an array of integers")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", 4, "dimension 0 of \"shape\" is a number (1.5)")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1, "2"], "data_offsets": [0, 8]}}""", 8, "dimension 1 of \"shape\" is a string")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1, null], "data_offsets": [0, 8]}}""", 8, "dimension 1 of \"shape\" is null")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [99999999999999999999], "data_offsets": [0, 4]}}""", 4, "dimension 0 of \"shape\" is a number (99999999999999999999)")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}""", 4, "dimension 0 of \"shape\" is -1, which is negative")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}""", 4, "\"data_offsets\" is an array of 1 items, expected an array [begin, end]")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": {"begin": 0}}}""", 4, "\"data_offsets\" is an object")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}""", 4, "the end of \"data_offsets\" is a string (\"4\")")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}""", 4, "the begin of \"data_offsets\" is a number (-4)")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}""", 8, "data_offsets [8, 4] end before they begin")]
    // sizes and layout
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}""", 4, "shape [2] holds 2 F32 values = 8 bytes, but data_offsets [0, 4] span 4 bytes")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1099511627776, 1099511627776], "data_offsets": [0, 4]}}""", 4, "shape [1099511627776, 1099511627776] has more than 2^63 elements")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1073741824, 4], "data_offsets": [0, 4]}}""", 4, "4294967296 F32 values = 17179869184 bytes")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""", 4, "data_offsets [0, 8] run past the end of the 4-byte data section")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4611686018427387904, 4611686018427387908]}}""", 4, "run past the end of the 4-byte data section")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8, "bytes [0, 4) of the 8-byte data section belong to no tensor", "'a', starts at 4")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", 12, "bytes [4, 8) of the 12-byte data section belong to no tensor")]
    [InlineData("{" + A4 + "}", 8, "the tensors cover 4 bytes but the data section is 8 bytes")]
    [InlineData("{}", 4, "the tensors cover 0 bytes but the data section is 4 bytes")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", 8, "tensor 'b' (data_offsets [4, 8]) overlaps tensor 'a' (data_offsets [0, 8])")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", 4, "overlaps")]
    // metadata
    [InlineData("""{"__metadata__": {"epochs": 10}}""", 0, "'__metadata__' value of 'epochs' is a number, expected a string")]
    [InlineData("""{"__metadata__": {"k": null}}""", 0, "'__metadata__' value of 'k' is null, expected a string")]
    [InlineData("""{"__metadata__": ["x"]}""", 0, "'__metadata__' is an array, expected an object of strings")]
    [InlineData("""{"__metadata__": {"k": "a", "k": "b"}}""", 0, "'__metadata__' has the key 'k' twice")]
    [InlineData("""{"__metadata__": {}, "__metadata__": {}}""", 0, "the key '__metadata__' twice")]
    public void MalformedHeader(string json, int dataBytes, params string[] expected) =>
        AssertRejected(SafeTensorsBytes.Build(json, new byte[dataBytes]), expected);

    [Fact]
    public void MalformedJsonKeepsParserErrorAsCause()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes.Build("{\"a\" 1}", []));
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.IsAssignableFrom<System.Text.Json.JsonException>(e.InnerException);
    }

    [Fact]
    public void TruncatedDataIsReportedAsUncovered()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        SafeTensors.Write(path, [new TensorEntry("w", [4, 4], new float[16])], new Dictionary<string, string>());
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<ModelFormatException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains($"run past the end of the {bytes.Length - 10 - 8 - (int)n}-byte data section", e.Message);
    }
}
