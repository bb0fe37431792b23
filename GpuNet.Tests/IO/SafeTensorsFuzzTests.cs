using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using GpuNet.IO;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.IO;

/// <summary>
/// Damaged and hostile variants of a valid file: each one either reads into self-consistent tensors or fails with
/// <see cref="ModelFormatException"/>, and no read allocates much more than the file's size.
/// </summary>
public class SafeTensorsFuzzTests(ITestOutputHelper output)
{
    private const int Variants = 600;

    private static readonly string[] HostileNumbers =
    [
        "1099511627776", "-1", "0", "1", "3", "4611686018427387904", "9223372036854775807", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "1e3", "2.5", "-0", "4294967296", "2147483648",
    ];

    [Fact]
    public void EveryVariantReadsConsistentlyOrFailsCleanly()
    {
        using var dir = new TempDir();
        string basePath = dir.File("base.safetensors");
        var rng = new Random(20240611);
        SafeTensors.Write(basePath,
        [
            new TensorEntry("l0.w", [3, 2], TestData.Uniform(rng, 6)),
            new TensorEntry("l0.b", [2], TestData.Uniform(rng, 2)),
            new TensorEntry("one", [1], [0.5f]),
            new TensorEntry("empty", [0, 3], []),
            new TensorEntry("l1.w", [2, 2], TestData.Uniform(rng, 4)),
        ], new Dictionary<string, string> { ["format"] = "gpunet", ["note"] = "fuzz" });
        byte[] valid = File.ReadAllBytes(basePath);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        string header = Encoding.UTF8.GetString(valid, 8, headerLength);
        byte[] data = valid[(8 + headerLength)..];

        string path = dir.File("variant.safetensors");
        Check(path, valid, "original", out _); // warm up: JIT and static caches do not count below
        int accepted = 0, rejected = 0;
        var kinds = new Dictionary<string, int>();
        for (int i = 0; i < Variants; i++)
        {
            var (kind, bytes) = Mutate(rng, valid, header, data);
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            if (Check(path, bytes, $"variant {i} ({kind})", out _)) accepted++; else rejected++;
        }
        output.WriteLine($"{accepted} accepted, {rejected} rejected; " + string.Join(", ", kinds.Select(k => $"{k.Key}: {k.Value}")));
        Assert.True(rejected > Variants / 2, $"only {rejected} of {Variants} variants were rejected; the mutations are too mild");
    }

    /// <summary>Reads <paramref name="bytes"/> as a file; true when accepted (and then consistent), false when rejected.</summary>
    private static bool Check(string path, byte[] bytes, string what, out SafeTensorsFile? file)
    {
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        file = null;
        try
        {
            file = SafeTensors.Read(path);
        }
        catch (ModelFormatException e)
        {
            Assert.True(e.Message.Contains(path), $"{what}: the message does not name the file: {e.Message}");
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of ModelFormatException: {e}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long budget = 256 * 1024 + 32L * bytes.Length;
        Assert.True(allocated <= budget, $"{what}: reading a {bytes.Length}-byte file allocated {allocated} bytes");
        if (file is null) return false;

        // Accepted: the tensors must describe the file exactly.
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        long dataBytes = bytes.Length - 8 - (long)n;
        long total = 0;
        var names = new HashSet<string>();
        foreach (var t in file.Tensors)
        {
            Assert.True(names.Add(t.Name), $"{what}: tensor '{t.Name}' twice");
            Assert.All(t.Shape, d => Assert.True(d >= 0, $"{what}: negative dimension"));
            Assert.Equal(t.Shape.Aggregate(1L, (a, b) => checked(a * b)), t.Data.LongLength);
            Assert.Same(t, file.Get(t.Name, t.Shape));
            total += 4L * t.Data.Length;
        }
        Assert.Equal(dataBytes, total);
        return true;
    }

    private static (string Kind, byte[] Bytes) Mutate(Random rng, byte[] valid, string header, byte[] data)
    {
        switch (rng.Next(10))
        {
            case 0:
            {
                var b = (byte[])valid.Clone();
                int flips = rng.Next(1, 4);
                for (int k = 0; k < flips; k++) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return ("bit flips", b);
            }
            case 1:
            {
                var b = (byte[])valid.Clone();
                int end = 8 + header.Length; // mostly the header: that is where the structure is
                b[rng.Next(rng.Next(3) == 0 ? b.Length : end)] = (byte)rng.Next(256);
                return ("byte set", b);
            }
            case 2:
                return ("truncation", valid[..rng.Next(valid.Length)]);
            case 3:
            {
                var b = (byte[])valid.Clone();
                ulong[] lengths =
                [
                    1UL << 62, 1UL << 63, ulong.MaxValue, 1UL << 32, 100_000_001, 100_000_000, (ulong)valid.Length,
                    (ulong)valid.Length - 7, (ulong)header.Length - 1, (ulong)header.Length + 1, 0, (ulong)rng.NextInt64(),
                ];
                BinaryPrimitives.WriteUInt64LittleEndian(b, lengths[rng.Next(lengths.Length)]);
                return ("header length", b);
            }
            case 4:
            {
                var numbers = Regex.Matches(header, @"-?\d+");
                var m = numbers[rng.Next(numbers.Count)];
                string replacement = rng.Next(4) == 0 ? rng.Next(-8, 64).ToString() : HostileNumbers[rng.Next(HostileNumbers.Length)];
                return ("number", Rebuild(header.Remove(m.Index, m.Length).Insert(m.Index, replacement), data));
            }
            case 5:
            {
                var shapes = Regex.Matches(header, @"""shape"":\[[^\]]*\]");
                var m = shapes[rng.Next(shapes.Count)];
                string[] hostile = ["[1099511627776,1099511627776]", "[4294967296,4294967296,0]", "[0,1099511627776,1099511627776]",
                    "[-3]", "[]", "[1,1,1,1,1,1,1,1,1,1,1,1]", "[2147483647]", "[536870912]", "[3,2,1]"];
                return ("shape", Rebuild(header.Remove(m.Index, m.Length).Insert(m.Index, "\"shape\":" + hostile[rng.Next(hostile.Length)]), data));
            }
            case 6:
            {
                var offsets = Regex.Matches(header, @"""data_offsets"":\[[^\]]*\]");
                var m = offsets[rng.Next(offsets.Count)];
                long len = data.Length;
                string[] hostile = [$"[0,{1L << 40}]", $"[{len},{len + 4}]", $"[{len - 4},{len + 1000}]", "[9223372036854775800,9223372036854775807]",
                    "[0,0]", $"[0,{len}]", "[4,0]", "[0]", "[0,4,8]"];
                return ("offsets", Rebuild(header.Remove(m.Index, m.Length).Insert(m.Index, "\"data_offsets\":" + hostile[rng.Next(hostile.Length)]), data));
            }
            case 7:
            {
                var structural = Regex.Matches(header, @"[{}\[\]:,""]");
                var m = structural[rng.Next(structural.Count)];
                string[] with = ["", "{", "}", "[", "]", ":", ",", "\"", " ", "\\", "\0"];
                return ("structure", Rebuild(header.Remove(m.Index, 1).Insert(m.Index, with[rng.Next(with.Length)]), data));
            }
            case 8:
            {
                int at = rng.Next(header.Length), count = rng.Next(1, Math.Min(20, header.Length - at) + 1);
                return ("header cut", Rebuild(header.Remove(at, count), data));
            }
            default:
            {
                var extra = new byte[rng.Next(1, 17)];
                rng.NextBytes(extra);
                return rng.Next(2) == 0
                    ? ("data appended", [.. valid, .. extra])
                    : ("data cut", Rebuild(header, data[..rng.Next(data.Length)]));
            }
        }
    }

    /// <summary>A file with this header text (length fixed up, unpadded) and data.</summary>
    private static byte[] Rebuild(string header, byte[] data) => SafeTensorsBytes.Build(header, data);
}
