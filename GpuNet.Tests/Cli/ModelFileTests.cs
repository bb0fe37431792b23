using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Diagnostics;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Tests.IO;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

public class ModelFileTests
{
    [Fact]
    public void WrittenModelReadsBackWithIdenticalOutputs()
    {
        using var dir = new TempDir();
        var d = TestDevices.Cpu;
        var mask = new bool[3, 4] { { true, false, true, true }, { true, true, true, false }, { false, true, true, true } };
        var spec = new NetworkSpec(4, [new LayerSpec(3, Activation.Tanh, mask), new LayerSpec(5, Activation.Relu), new LayerSpec(2, Activation.Identity)]);
        using var net = new GpuNet.Model.Network(d, spec, seed: 4);
        var info = new ModelInfo
        {
            Output = OutputFunction.Softmax, Loss = LossFunction.CrossEntropy, Task = TaskKind.Classification,
            ClassNames = ["no", "yes"], FeatureMean = [1, 2, 3, 4.5f], FeatureScale = [0.5f, 1, 2, 3],
            Training = new Dictionary<string, string> { ["seed"] = "4" },
        };
        string path = dir.File("m.safetensors");
        net.Info = info;
        net.Save(path);
        var x = TestData.Uniform(new Random(1), 4 * 9);
        using var loaded = Predictor.Load(d, path);
        using var original = new Predictor(net.ExtractRestart(0));
        Assert.Equal(original.Predict(x, 9), loaded.Predict(x, 9));
        Assert.Equal(net.GetParameters(), loaded.Network.GetParameters());
        Assert.Equal(spec.ToString(), loaded.Network.Spec.ToString());
        Assert.False(loaded.Network.Spec.Layers[0].Mask![0, 1]);
        Assert.Equal(info.ClassNames, loaded.Info.ClassNames);
        Assert.Equal(info.FeatureScale, loaded.Info.FeatureScale);
        Assert.Equal("4", loaded.Info.Training["seed"]);
    }

    /// <summary>An independent minimal reader: the file is what PyTorch's nn.Linear state dict would hold.</summary>
    [Fact]
    public void FileParsesWithAMinimalIndependentReader()
    {
        using var dir = new TempDir();
        var d = TestDevices.Cpu;
        var spec = NetworkSpec.Dense([3, 4, 2], Activation.Relu, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, seed: 2);
        string path = dir.File("m.safetensors");
        net.Info = new ModelInfo { Output = OutputFunction.Identity, Loss = LossFunction.MeanSquaredError, Task = TaskKind.Regression };
        net.Save(path);
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n)).RootElement;
        var meta = header.GetProperty("__metadata__");
        Assert.Equal("gpunet-mlp/1", meta.GetProperty("format").GetString());
        Assert.Equal("4,2", meta.GetProperty("layer_sizes").GetString());
        float[] Tensor(string name, int[] shape)
        {
            var t = header.GetProperty(name);
            Assert.Equal("F32", t.GetProperty("dtype").GetString());
            Assert.Equal(shape, t.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
            var off = t.GetProperty("data_offsets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var data = new float[(off[1] - off[0]) / 4];
            for (int i = 0; i < data.Length; i++)
                data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + (long)n + off[0] + 4 * i)));
            return data;
        }
        // nn.Linear's layout: weight [out, in] row-major, as GetWeights returns it; bias [out]
        static float[] RowMajor(float[,] w) => Enumerable.Range(0, w.GetLength(0))
            .SelectMany(j => Enumerable.Range(0, w.GetLength(1)).Select(i => w[j, i])).ToArray();
        Assert.Equal(RowMajor(net.GetWeights(1)), Tensor("layers.0.weight", [4, 3]));
        Assert.Equal(net.GetBias(1), Tensor("layers.0.bias", [4]));
        Assert.Equal(RowMajor(net.GetWeights(2)), Tensor("layers.1.weight", [2, 4]));
        Assert.Equal(net.GetBias(2), Tensor("layers.1.bias", [2]));
    }

    [Fact]
    public void ModelErrorsNameTheFileAndTheProblem()
    {
        using var dir = new TempDir();
        var d = TestDevices.Cpu;
        var spec = NetworkSpec.Dense([2, 2], Activation.Tanh, Activation.Identity);
        string good = dir.File("good.safetensors");
        using (var net = new GpuNet.Model.Network(d, spec) { Info = new ModelInfo { Output = OutputFunction.Identity, Loss = LossFunction.MeanSquaredError, Task = TaskKind.Regression } })
            net.Save(good);
        var file = SafeTensors.Read(good);
        string Rewrite(string name, Func<Dictionary<string, string>, Dictionary<string, string>> meta, Func<List<TensorEntry>, List<TensorEntry>> tensors)
        {
            string p = dir.File(name);
            SafeTensors.Write(p, tensors(file.Tensors.ToList()), meta(file.Metadata.ToDictionary()));
            return p;
        }
        var missing = Rewrite("a.safetensors", m => m, t => t.Where(x => x.Name != "layers.0.bias").ToList());
        var ex = Assert.Throws<ModelFormatException>(() => ModelFile.Read(missing));
        Assert.True(ex.Message.Contains("tensor 'layers.0.bias' is missing"), ex.Message);
        var shape = Rewrite("b.safetensors", m => m, t => t.Select(x => x.Name == "layers.0.weight" ? new TensorEntry(x.Name, [1, 4], x.Data) : x).ToList());
        ex = Assert.Throws<ModelFormatException>(() => ModelFile.Read(shape));
        Assert.Contains("tensor 'layers.0.weight' has shape [1, 4], the 2-2 network needs [2, 2]", ex.Message);
        Assert.Contains("b.safetensors", ex.Message);
        var act = Rewrite("c.safetensors", m => { m["activations"] = "swish"; return m; }, t => t);
        Assert.Contains("unknown activation 'swish'", Assert.Throws<ModelFormatException>(() => ModelFile.Read(act)).Message);
        var notOurs = Rewrite("d.safetensors", m => { m.Remove("format"); return m; }, t => t);
        Assert.Contains("'format' is missing", Assert.Throws<ModelFormatException>(() => ModelFile.Read(notOurs)).Message);

        // non-finite weights, named by tensor and element; feature scaling that would divide by zero
        TensorEntry With(TensorEntry t, int index, float value)
        {
            var data = (float[])t.Data.Clone();
            data[index] = value;
            return t with { Data = data };
        }
        var nan = Rewrite("e.safetensors", m => m, t => t.Select(x => x.Name == "layers.0.weight" ? With(x, 3, float.NaN) : x).ToList());
        ex = Assert.Throws<ModelFormatException>(() => ModelFile.Read(nan));
        Assert.Contains("e.safetensors", ex.Message);
        Assert.Contains("layers.0.weight[1, 1] is NaN", ex.Message);
        var inf = Rewrite("f.safetensors", m => m, t => t.Select(x => x.Name == "layers.0.bias" ? With(x, 1, float.NegativeInfinity) : x).ToList());
        Assert.Contains("layers.0.bias[1] is -Infinity", Assert.Throws<ModelFormatException>(() => ModelFile.Read(inf)).Message);
        var scale = Rewrite("g.safetensors", m => { m["feature_mean"] = "[0,0]"; m["feature_scale"] = "[1,0]"; return m; }, t => t);
        ex = Assert.Throws<ModelFormatException>(() => ModelFile.Read(scale));
        Assert.Contains("g.safetensors", ex.Message);
        Assert.Contains("feature_scale of feature 1 is 0", ex.Message);
        var mean = Rewrite("h.safetensors", m => { m["feature_mean"] = "[0,1e39]"; m["feature_scale"] = "[1,1]"; return m; }, t => t);
        Assert.Contains("item 1 of feature_mean is 1e39, beyond single precision", Assert.Throws<ModelFormatException>(() => ModelFile.Read(mean)).Message);
    }

    /// <summary>Metadata that states sizes the tensors do not back, or values of the wrong kind: (what is changed, key,
    /// new value (null removes it), what the message must say).</summary>
    public static TheoryData<string, string, string?, string> HostileMetadata() => new()
    {
        { "a 2-billion input", "input_size", "2147483647", "tensor 'layers.0.weight' has shape [4, 3], the 2147483647-4-2 network needs [4, 2147483647]; the metadata describes a network of 8,589,934,602 parameters" },
        { "a 2-billion layer", "layer_sizes", "1073741823,2", "the 3-1073741823-2 network needs [1073741823, 3]; the metadata describes a network of 6,442,450,940 parameters (25,769,803,760 bytes), the file holds 26 values (104 bytes)" },
        { "more layers than tensors", "layer_sizes", string.Join(",", Enumerable.Repeat("1", 5000)), "layer_sizes lists 5000 layers but the file holds only 4 tensors" },
        { "a negative size", "layer_sizes", "4,-2", "a size in layer_sizes is '-2', expected a whole number from 1 to 2147483647" },
        { "a size with a sign and spaces", "layer_sizes", "4, +2", "a size in layer_sizes is ' +2'" },
        { "an input size that overflows", "input_size", "99999999999999999999", "input_size is '99999999999999999999'" },
        { "one activation short", "activations", "tanh", "2 layer sizes but 1 activations" },
        { "a long mask", "mask.0", new string('1', 1_000_000), "mask.0 is 1000000 characters; 4 rows of 3 '0'/'1' characters separated by '/' are 15" },
        { "a mask of other characters", "mask.0", "101/111/012/110", "mask.0: row 2, column 2 is '2', expected '0' or '1'" },
        { "a mask with a missing separator", "mask.0", "101/111-011/110", "mask.0: row 1 is not 3 characters followed by '/'" },
        { "a mask of no layer", "mask.7", "1", "metadata key 'mask.7' names no layer of this 2-layer network" },
        { "numbers as class names", "classes", "[1,2]", "item 0 of classes is a number (1), expected a string" },
        { "a class named twice", "classes", "[\"a\",\"a\"]", "classes names 'a' twice" },
        { "a million class names", "classes", "[" + string.Join(",", Enumerable.Repeat("\"c\"", 1_000_000)) + "]", "classes has 1000000 items, expected 2" },
        { "null class names", "classes", "null", "classes is null, expected an array of 2 items" },
        { "class names that are not JSON", "classes", "[\"a\",", "classes is not valid JSON" },
        { "a million means", "feature_mean", "[" + string.Join(",", Enumerable.Repeat("0", 1_000_000)) + "]", "feature_mean has 1000000 items, expected 3" },
        { "a mean that is text", "feature_mean", "[\"x\",1,2]", "item 0 of feature_mean is a string (\"x\"), expected a finite number" },
        { "a mean without scales", "feature_scale", null, "feature_mean is given without feature_scale" },
        { "an initialization that is a number", "initialization", "5", "initialization is '5', expected Auto, XavierUniform, HeNormal" },
        { "another format", "format", "gpunet-mlp/9", "format is 'gpunet-mlp/9', expected 'gpunet-mlp/1'" },
        { "an unknown output", "output", "swish", "output 'swish' is unknown: use identity, logistic or softmax" },
        { "a loss that does not fit", "loss", "bce", "loss bce and output softmax do not go together" },
        { "classes of a regression", "task", "regress", "classes are given for a regression model" },
    };

    /// <summary>Each lie is refused with a message naming the file and the item, before anything of the size it claims
    /// is made: reading allocates at most a small multiple of the file's own length.</summary>
    [Theory]
    [MemberData(nameof(HostileMetadata))]
    public void HostileMetadataIsRefusedBeforeAnythingOfItsSizeIsMade(string what, string key, string? value, string expected)
    {
        using var dir = new TempDir();
        var (meta, tensors) = TestModels.MaskedClassifier(dir);
        if (value == null) meta.Remove(key);
        else meta[key] = value;
        string path = dir.File("hostile.safetensors");
        SafeTensors.Write(path, tensors, meta);
        var bytes = File.ReadAllBytes(path);
        ModelFile.Read(File.ReadAllBytes(dir.File("classifier.safetensors")), "warm-up"); // JIT and caches do not count below
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Read(bytes, path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith($"model file '{path}': ", e.Message);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"{what}: '{expected}' not in: {e.Message}");
        Assert.DoesNotContain("System.", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.True(allocated <= 256 * 1024 + 32L * bytes.Length, $"{what}: reading a {bytes.Length}-byte file allocated {allocated} bytes");
        Assert.Equal(e.Message, Assert.Throws<ModelFormatException>(() => ModelFile.Read(path)).Message);
    }

    /// <summary>A 3 KB file whose metadata claims 2,147,483,646 parameters (one input, one layer of 1,073,741,823
    /// neurons): every command that reads a model refuses it in one line naming the file, and never runs out of memory.</summary>
    [Fact]
    public void AModelClaimingTwoBillionParametersIsRefusedByEveryCommand()
    {
        using var cli = new CliRunner();
        string model = cli.File("claims.safetensors");
        SafeTensors.Write(model, [new TensorEntry("layers.0.weight", [16, 16], new float[256]), new TensorEntry("layers.0.bias", [512], new float[512])],
            new Dictionary<string, string>
            {
                ["format"] = ModelFile.Format, ["input_size"] = "1", ["layer_sizes"] = "1073741823", ["activations"] = "identity",
                ["output"] = "identity", ["loss"] = "mse", ["task"] = "regress",
            });
        Assert.InRange(new FileInfo(model).Length, 3072, 3584);
        string input = cli.Dir.WriteText("x.csv", "0.5\n");
        foreach (var args in new[]
                 {
                     new[] { "eval", "--model", model, "--data", "sine", "--device", "cpu" },
                     ["predict", "--model", model, "--input", input, "--device", "cpu"],
                     ["train", "--init", model, "--data", "sine", "--epochs", "1", "--device", "cpu", "--model", cli.File("out.safetensors")],
                 })
        {
            var (code, output, err) = cli.Run(args);
            Assert.True(code == 1, $"{args[0]}: exit {code}: {err}");
            Assert.Equal($"gpunet: error: model file '{model}': tensor 'layers.0.weight' has shape [16, 16], the 1-1073741823 network needs " +
                         "[1073741823, 1]; the metadata describes a network of 2,147,483,646 parameters (8,589,934,584 bytes), " +
                         "the file holds 768 values (3,072 bytes)\n", err);
            Assert.DoesNotContain("epoch", output);
        }
        Assert.False(File.Exists(cli.File("out.safetensors")));
    }

    /// <summary>A FIFO nobody writes to, a device and a folder given as the model: refused by name, at once, by eval,
    /// predict, train --init and train --resume.</summary>
    [Fact]
    public void SpecialFilesGivenAsTheModelAreRefusedByName()
    {
        using var cli = new CliRunner();
        string fifo = SpecialFiles.Fifo(cli.File("model.safetensors"));
        string input = cli.Dir.WriteText("x.csv", "0.5\n");
        foreach (var (path, kind) in new[] { (fifo, "a pipe (FIFO)"), ("/dev/zero", "a character device") })
        {
            foreach (var args in new[]
                     {
                         new[] { "eval", "--model", path, "--data", "sine", "--device", "cpu" },
                         ["predict", "--model", path, "--input", input, "--device", "cpu"],
                         ["train", "--init", path, "--data", "sine", "--epochs", "1", "--device", "cpu", "--model", cli.File("out.safetensors")],
                     })
            {
                var (code, _, err) = SpecialFiles.WithoutHanging(() => cli.Run(args));
                Assert.True(code == 1, $"{string.Join(' ', args)}: exit {code}: {err}");
                Assert.Equal($"gpunet: error: model file '{path}' is {kind}, not a regular file; GpuNet reads a model file from a file on disk " +
                             "(save it to one first)\n", err);
            }
            var (rc, _, e) = SpecialFiles.WithoutHanging(() => cli.Run("train", "--resume", path));
            Assert.Equal(1, rc);
            Assert.Equal($"gpunet: error: '{path}' is {kind}, not a checkpoint folder or file\n", e);
        }
    }

    /// <summary>"--model /dev/stdin" with the model piped in: refused by name, never "Stream does not support seeking".
    /// Runs the executable, whose standard input can be a pipe.</summary>
    [Fact]
    public void AModelOnStandardInputIsRefusedByName()
    {
        using var cli = new CliRunner();
        var (code, _, err) = Gpunet(cli.Dir.Path, null, "eval", "--model", "/dev/stdin", "--data", "sine", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("gpunet: error: model file '/dev/stdin' is a pipe (FIFO), not a regular file; GpuNet reads a model file from a file on disk " +
                     "(save it to one first)\n", err);
    }

    /// <summary>A model too large for the file (here the process's file size limit, which works for root too, as a full
    /// disk would): the error names the model as given, not the hidden temporary file, and nothing is left behind.</summary>
    [Fact]
    public void AFailedModelWriteNamesTheModelAndLeavesNothing()
    {
        using var cli = new CliRunner();
        // 2-5000-1: 20,001 parameters, an 80 KB model, over a 40 KB limit; the 4-row metrics file fits
        var (code, output, err) = Gpunet(cli.Dir.Path, 40, "train", "--data", "xor", "--hidden", "5000", "--epochs", "1", "--device", "cpu",
            "--model", "big.safetensors", "--metrics", "big.csv");
        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains("epoch 1/1", output);
        Assert.StartsWith("gpunet: error: cannot write 'big.safetensors': File too large", err);
        Assert.DoesNotContain(".tmp-", err);
        Assert.Empty(cli.Dir.Names());
    }

    /// <summary>Runs the built gpunet in <paramref name="folder"/> with standard input a pipe (left empty) and, when
    /// <paramref name="fileLimitKiB"/> is given, under that file size limit (SIGXFSZ ignored, so a write beyond it fails
    /// with EFBIG as on a file system that cannot hold the file).</summary>
    internal static (int Code, string Out, string Err) Gpunet(string folder, int? fileLimitKiB, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string dll = Path.Combine(AppContext.BaseDirectory, "gpunet.dll");
        var psi = fileLimitKiB == null ? new ProcessStartInfo(dotnet) : new ProcessStartInfo("bash");
        if (fileLimitKiB != null)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"trap '' XFSZ; ulimit -f {fileLimitKiB}; exec \"$0\" \"$@\"");
            psi.ArgumentList.Add(dotnet);
            // The runtime's double-mapped code pages need a memory file larger than the limit.
            psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = folder;
        psi.RedirectStandardInput = psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        string err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "gpunet did not finish");
        return (p.ExitCode, output.Result, err);
    }
}
