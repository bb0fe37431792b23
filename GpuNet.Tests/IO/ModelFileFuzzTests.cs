using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.IO;

/// <summary>
/// Seeded fuzzing of the model reader above the safetensors layer: valid files whose metadata values and tensor shapes
/// are replaced by hostile ones. Each variant reads into a self-consistent model or fails with a
/// <see cref="ModelFormatException"/> that names the file and leaks no .NET type name, and no read allocates more than a
/// small multiple of the file's length.
/// </summary>
public class ModelFileFuzzTests(ITestOutputHelper output)
{
    private const int Variants = 800;

    private static readonly string[] Hostile =
    [
        "", "0", "-1", "1", "2", "3", "4", "2147483647", "2147483648", "1073741823", "46341", "99999999999999999999", "1e9", "+3", " 3",
        "3,", ",", "4,2,", "1073741823,1073741823", "null", "[]", "[null]", "{}", "[1,2]", "[\"a\"]", "[\"a\",\"b\",\"c\"]", "[1e39,0,0]",
        "[\"NaN\",0,0]", "[0,0,0]", "[1,1,1]", "\"x\"", "[[1]]", "[" + new string('[', 100) + "]", "tanh,tanh", "relu", "softmax", "logistic",
        "identity", "bce", "cross-entropy", "mse", "classify", "regress", "HeNormal", "5", "1/1/1", "111/111/111/111", "\u0000", "\ud800",
        string.Join(",", Enumerable.Repeat("1", 3000)), "[" + string.Join(",", Enumerable.Repeat("0", 50_000)) + "]",
    ];

    [Fact]
    public void EveryVariantReadsConsistentlyOrFailsCleanly()
    {
        using var dir = new TempDir();
        var rng = new Random(20251201);
        var (meta, tensors) = TestModels.MaskedClassifier(dir);
        string path = dir.File("variant.safetensors");
        Check(Write(path, meta, tensors), "original", out _); // warm up: JIT and static caches do not count below
        int accepted = 0;
        for (int i = 0; i < Variants; i++)
        {
            var m = new Dictionary<string, string>(meta);
            var t = tensors.ToList();
            string kind = Mutate(rng, m, t);
            if (Check(Write(path, m, t), $"variant {i} ({kind})", out _)) accepted++;
        }
        output.WriteLine($"{accepted} of {Variants} variants accepted");
        Assert.InRange(accepted, 1, Variants / 2);
    }

    private static string Mutate(Random rng, Dictionary<string, string> meta, List<TensorEntry> tensors)
    {
        var keys = meta.Keys.Append("mask.1").Append("mask.2").Append("classes").Order(StringComparer.Ordinal).ToArray();
        string key = keys[rng.Next(keys.Length)];
        switch (rng.Next(5))
        {
            case 0:
                meta.Remove(key);
                return $"{key} removed";
            case 1 when meta.TryGetValue(key, out var v) && v.Length > 0:
            {
                int at = rng.Next(v.Length);
                meta[key] = rng.Next(3) switch
                {
                    0 => v.Remove(at, 1),
                    1 => v.Insert(at, ",0/1[]\"-9"[rng.Next(9)].ToString()),
                    _ => v[..at] + (char)rng.Next(32, 127) + v[(at + 1)..],
                };
                return $"{key} edited";
            }
            case 2:
            {
                // Reshape a tensor to another shape of the same size, so the file stays valid safetensors.
                int i = rng.Next(tensors.Count);
                var t = tensors[i];
                long n = t.Data.Length;
                long[][] shapes = [[n], [1, n], [n, 1], [2, n / 2], [n / 3, 3], [1, 1, n]];
                var shape = shapes[rng.Next(shapes.Length)];
                if (shape.Aggregate(1L, (a, b) => a * b) != n) shape = [n];
                tensors[i] = t with { Shape = shape };
                return $"{t.Name} reshaped";
            }
            case 3:
            {
                int i = rng.Next(tensors.Count);
                tensors[i] = tensors[i] with { Name = rng.Next(2) == 0 ? "layers.9.weight" : tensors[(i + 1) % tensors.Count].Name + "x" };
                return "tensor renamed";
            }
            default:
                meta[key] = Hostile[rng.Next(Hostile.Length)];
                return $"{key} hostile";
        }
    }

    private static byte[] Write(string path, Dictionary<string, string> meta, List<TensorEntry> tensors)
    {
        try
        {
            return SafeTensors.ToBytes(path, tensors, meta);
        }
        catch (ModelFormatException)
        {
            return [0]; // not writable as safetensors (a duplicate name, a lone surrogate): the reader sees a 1-byte file
        }
    }

    private static bool Check(byte[] bytes, string what, out (NetworkSpec Spec, float[] Parameters, ModelInfo Info)? model)
    {
        const string name = "fuzz/variant.safetensors";
        model = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            model = ModelFile.Read(bytes, name);
        }
        catch (ModelFormatException e)
        {
            Assert.True(e.Message.StartsWith($"safetensors file '{name}': ") || e.Message.StartsWith($"model file '{name}': "), $"{what}: {e.Message}");
            Assert.DoesNotContain("System.", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of ModelFormatException: {e}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= 256 * 1024 + 32L * bytes.Length, $"{what}: reading a {bytes.Length}-byte file allocated {allocated} bytes");
        if (model is not { } m) return false;
        // Accepted: everything agrees with the network.
        Assert.Equal(m.Spec.ParameterCount, m.Parameters.LongLength);
        Assert.All(m.Parameters, v => Assert.True(float.IsFinite(v)));
        if (m.Info.FeatureMean != null) Assert.Equal(m.Spec.InputSize, m.Info.FeatureMean.Length);
        Assert.Equal(m.Info.FeatureMean == null, m.Info.FeatureScale == null);
        if (m.Info.ClassNames != null) Assert.True(m.Info.ClassNames.Count == m.Spec.OutputSize || m.Spec.OutputSize == 1);
        return true;
    }
}
