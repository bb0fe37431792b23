using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;
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
        Assert.Contains("layers.0.bias", Assert.Throws<ModelFormatException>(() => ModelFile.Read(missing)).Message);
        var shape = Rewrite("b.safetensors", m => m, t => t.Select(x => x.Name == "layers.0.weight" ? new TensorEntry(x.Name, [1, 4], x.Data) : x).ToList());
        var ex = Assert.Throws<ModelFormatException>(() => ModelFile.Read(shape));
        Assert.Contains("[1, 4]", ex.Message);
        Assert.Contains("b.safetensors", ex.Message);
        var act = Rewrite("c.safetensors", m => { m["activations"] = "swish"; return m; }, t => t);
        Assert.Contains("swish", Assert.Throws<ModelFormatException>(() => ModelFile.Read(act)).Message);
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
        Assert.Contains("is a directory, not a safetensors file", Assert.Throws<IOException>(() => ModelFile.Read(dir.Path)).Message);
        var mean = Rewrite("h.safetensors", m => { m["feature_mean"] = "[0,1e39]"; return m; }, t => t);
        Assert.Contains("feature_mean of feature 1", Assert.Throws<ModelFormatException>(() => ModelFile.Read(mean)).Message);
    }
}
