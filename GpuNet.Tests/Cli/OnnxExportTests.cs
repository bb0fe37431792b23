using System.Globalization;
using GpuNet.Data;
using GpuNet.IO.OnnxFormat;
using GpuNet.Model;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary><c>gpunet export --onnx</c>: the file ONNX Runtime loads gives what <c>gpunet predict</c> prints, for every
/// activation and output function, with masked layers and standardisation; its graph, names and shapes are as documented.</summary>
public class OnnxExportTests
{
    /// <summary>How the last layer and the output function fit together, as gpunet trains them.</summary>
    public enum Head { Identity, LogisticLayer, Logistic, Softmax }

    public static TheoryData<Activation, Head> Cases()
    {
        var data = new TheoryData<Activation, Head>();
        foreach (var act in Enum.GetValues<Activation>())
            foreach (var head in Enum.GetValues<Head>())
                data.Add(act, head);
        return data;
    }

    private const int Inputs = 5;

    /// <summary>5 → 7 (act) → 6 (act, masked) → O, with random biases (so that every function sees both signs) and,
    /// when <paramref name="standardised"/>, a stored mean and scale.</summary>
    private static string Model(CliRunner cli, Activation act, Head head, bool standardised, int seed)
    {
        int outputs = head == Head.Softmax ? 4 : head == Head.Logistic ? 1 : 3;
        var mask = new bool[6, 7];
        for (int j = 0; j < 6; j++) for (int i = 0; i < 7; i++) mask[j, i] = (i * 3 + j) % 4 != 0;
        var last = head == Head.LogisticLayer ? Activation.Logistic : Activation.Identity;
        var spec = new NetworkSpec(Inputs, [new LayerSpec(7, act), new LayerSpec(6, act, mask), new LayerSpec(outputs, last)]);
        var p = spec.InitialParameters((ulong)seed, 0);
        var rng = new Random(seed);
        for (int l = 1; l <= 3; l++)
            for (int j = 0; j < spec.Layers[l - 1].Size; j++) p[spec.BiasOffset(l) + j] = (float)(rng.NextDouble() - 0.5);
        var info = new ModelInfo
        {
            Output = head switch { Head.Softmax => OutputFunction.Softmax, Head.Logistic => OutputFunction.Logistic, _ => OutputFunction.Identity },
            Loss = head switch { Head.Softmax => LossFunction.CrossEntropy, Head.Logistic => LossFunction.BinaryCrossEntropy, _ => LossFunction.MeanSquaredError },
            Task = head is Head.Softmax or Head.Logistic ? TaskKind.Classification : TaskKind.Regression,
            FeatureMean = standardised ? TestData.Uniform(rng, Inputs, -3f, 3f) : null,
            FeatureScale = standardised ? TestData.Uniform(rng, Inputs, 0.2f, 4f) : null,
        };
        string path = cli.File($"m{seed}.safetensors");
        ModelFile.Save(path, spec, p, info);
        return path;
    }

    /// <summary>Raw feature rows around the model's scale: [rows, I].</summary>
    private static float[] Rows(int rows, int seed) => TestData.Uniform(new Random(seed), rows * Inputs, -4f, 4f);

    private static string Csv(CliRunner cli, float[] x, int columns) => cli.Dir.WriteText("rows.csv", string.Concat(
        Enumerable.Range(0, x.Length / columns).Select(r => string.Join(",", x.Skip(r * columns).Take(columns)
            .Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "\n")));

    /// <summary>What `gpunet predict` prints for the rows, parsed: [rows, O].</summary>
    private static float[] Predict(CliRunner cli, string model, string csv)
    {
        string output = cli.File("predicted.csv");
        cli.Ok("predict", "--model", model, "--input", csv, "--output", output, "--device", "cpu");
        return File.ReadAllLines(output).Skip(1)
            .SelectMany(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
    }

    private static float[] RunOnnx(string onnx, float[] x, int rows, int columns)
    {
        using var session = new InferenceSession(onnx);
        var input = NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, new DenseTensor<float>(x, [rows, columns]));
        using var results = session.Run([input]);
        var output = Assert.Single(results);
        Assert.Equal(OnnxExport.OutputName, output.Name);
        return output.AsTensor<float>().ToArray();
    }

    private static void AssertClose(float[] predicted, float[] onnx, string what)
    {
        Assert.Equal(predicted.Length, onnx.Length);
        for (int i = 0; i < predicted.Length; i++)
            Assert.True(Math.Abs(onnx[i] - predicted[i]) <= Tolerances.Onnx * Math.Max(1, Math.Abs(predicted[i])),
                $"{what}: value {i}: onnx {onnx[i]:R} vs predict {predicted[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeGivesWhatPredictPrints(Activation act, Head head)
    {
        using var cli = new CliRunner();
        int seed = 10 * (int)act + (int)head;
        string model = Model(cli, act, head, standardised: true, seed);
        string onnx = cli.File("m.onnx");
        cli.Ok("export", "--onnx", onnx, "--model", model);
        var x = Rows(13, seed);
        var predicted = Predict(cli, model, Csv(cli, x, Inputs));
        AssertClose(predicted, RunOnnx(onnx, x, 13, Inputs), $"{act} {head}");
        // the batch is dynamic: one row gives the first row's outputs
        int outputs = predicted.Length / 13;
        AssertClose(predicted[..outputs], RunOnnx(onnx, x[..Inputs], 1, Inputs), $"{act} {head}, one row");
    }

    [Fact]
    public void ATrainedDigitsModelWithoutStandardisationToo()
    {
        using var cli = new CliRunner();
        string model = cli.File("digits.safetensors");
        cli.Ok("train", "--data", "digits", "--hidden", "16", "--epochs", "2", "--model", model, "--device", "cpu");
        string onnx = cli.File("digits.onnx");
        string output = cli.Ok("export", "--onnx", onnx, "--model", model);
        Assert.Equal($"ONNX model (opset 17) written to {onnx}\ninput  'features' float32 [batch, 64]\n" +
            "output 'outputs' float32 [batch, 10] (softmax probabilities)\n", output);
        var (_, test) = BuiltIn.Digits();
        var x = test.Features[..(40 * 64)];
        AssertClose(Predict(cli, model, Csv(cli, x, 64)), RunOnnx(onnx, x, 40, 64), "digits");
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).Graph;
        Assert.Equal(["Gemm", "Relu", "Gemm", "Softmax"], graph.Node.Select(n => n.OpType));
    }

    [Fact]
    public void TheLibraryExportsANetworksBestRestart()
    {
        using var dir = new TempDir();
        var spec = NetworkSpec.Dense([Inputs, 4, 3], Activation.Tanh, Activation.Identity);
        using var net = new Network(TestDevices.Cpu, spec, restarts: 3, seed: 8);
        string onnx = dir.File("n.onnx");
        Assert.Throws<InvalidOperationException>(() => OnnxExport.Write(onnx, net)); // nothing says what it is for
        Assert.False(File.Exists(onnx));
        net.Info = new ModelInfo { Output = OutputFunction.Softmax, Loss = LossFunction.CrossEntropy, Task = TaskKind.Classification };
        net.BestRestart = 2;
        OnnxExport.Write(onnx, net);
        var x = Rows(6, 8);
        AssertClose(net.Predict(x, 6, 2, OutputFunction.Softmax), RunOnnx(onnx, x, 6, Inputs), "restart 2");
        OnnxExport.Write(onnx, net, restart: 0);
        AssertClose(net.Predict(x, 6, 0, OutputFunction.Softmax), RunOnnx(onnx, x, 6, Inputs), "restart 0");
        Assert.NotEqual(net.Predict(x, 6, 2, OutputFunction.Softmax), net.Predict(x, 6, 0, OutputFunction.Softmax));
    }

    [Fact]
    public void TheGraphIsAsDocumented()
    {
        using var cli = new CliRunner();
        string model = Model(cli, Activation.Tanh, Head.Softmax, standardised: true, seed: 3);
        string onnx = cli.File("m.onnx");
        cli.Ok("export", "--onnx", onnx, "--model", model);
        var m = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Equal(OnnxExport.IrVersion, m.IrVersion);
        Assert.Equal((string.Empty, 17L), (m.OpsetImport.Single().Domain, m.OpsetImport.Single().Version));
        Assert.Equal("gpunet", m.ProducerName);
        var g = m.Graph;
        Assert.Equal(["Sub", "Div", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Softmax"], g.Node.Select(n => n.OpType));
        Assert.All(g.Node.Where(n => n.OpType == "Gemm"), n => Assert.Equal(1, n.Attribute.Single(a => a.Name == "transB").I));
        Assert.Equal(-1, g.Node[^1].Attribute.Single(a => a.Name == "axis").I);
        Assert.Equal(OnnxExport.OutputName, g.Node[^1].Output.Single());
        Assert.Equal(["feature_mean", "feature_scale", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
            "layers.2.weight", "layers.2.bias"], g.Initializer.Select(t => t.Name));

        var (spec, p, info) = ModelFile.Read(model);
        var w1 = g.Initializer.Single(t => t.Name == "layers.1.weight");
        Assert.Equal([6L, 7L], w1.Dims);
        var values = Enumerable.Range(0, 42).Select(i => BitConverter.ToSingle(w1.RawData.Span[(i * 4)..])).ToArray();
        for (int j = 0; j < 6; j++)
            for (int i = 0; i < 7; i++)
                Assert.Equal(spec.Layers[1].Mask![j, i] ? p[spec.WeightOffset(2) + j * 7 + i] : 0f, values[j * 7 + i]);
        Assert.Contains(values, v => v == 0f);
        var mean = g.Initializer.Single(t => t.Name == "feature_mean");
        Assert.Equal(info.FeatureMean, Enumerable.Range(0, Inputs).Select(i => BitConverter.ToSingle(mean.RawData.Span[(i * 4)..])));

        foreach (var (value, columns) in new[] { (g.Input.Single(), Inputs), (g.Output.Single(), 4) })
        {
            var dims = value.Type.TensorType.Shape.Dim;
            Assert.Equal((int)TensorProto.Types.DataType.Float, value.Type.TensorType.ElemType);
            Assert.Equal(OnnxExport.BatchDimension, dims[0].DimParam);
            Assert.Equal(columns, dims[1].DimValue);
        }
        Assert.Equal((OnnxExport.InputName, OnnxExport.OutputName), (g.Input[0].Name, g.Output[0].Name));
        Assert.Equal("softmax", m.MetadataProps.Single(e => e.Key == "output").Value);

        using var session = new InferenceSession(onnx);
        Assert.Equal([-1, Inputs], session.InputMetadata[OnnxExport.InputName].Dimensions);
        Assert.Equal("batch", session.InputMetadata[OnnxExport.InputName].SymbolicDimensions[0]);
        Assert.Equal([-1, 4], session.OutputMetadata[OnnxExport.OutputName].Dimensions);
    }

    [Fact]
    public void ClassNamesAndTrainingFactsGoIntoTheMetadata()
    {
        using var cli = new CliRunner();
        string csv = cli.Dir.WriteText("d.csv", "1,2,cat\n2,1,dog\n3,3,cat\n0,1,dog\n");
        string model = cli.File("m.safetensors");
        cli.Ok("train", "--data", $"csv:{csv}", "--hidden", "3", "--epochs", "1", "--model", model, "--device", "cpu", "--seed", "4");
        string onnx = cli.File("m.onnx");
        cli.Ok("export", "--model", model, "--onnx", onnx);
        var meta = ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx)).MetadataProps.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("[\"cat\",\"dog\"]", meta["classes"]);
        Assert.Equal("classify", meta["task"]);
        Assert.Equal("4", meta["train.seed"]);
        using var session = new InferenceSession(onnx);
        Assert.Equal("[\"cat\",\"dog\"]", session.ModelMetadata.CustomMetadataMap["classes"]);
    }

    [Fact]
    public void AFailedExportLeavesTheOldFileAndNoTemporaryFile()
    {
        using var cli = new CliRunner();
        string onnx = cli.Dir.WriteText("m.onnx", "old");
        string broken = cli.Dir.WriteText("broken.safetensors", "not a model");
        var (code, _, err) = cli.Run("export", "--onnx", onnx, "--model", broken);
        Assert.Equal(1, code);
        Assert.StartsWith("gpunet: error: ", err);
        Assert.Equal("old", File.ReadAllText(onnx));
        Assert.Equal(["broken.safetensors", "m.onnx"], cli.Dir.Names());

        string model = Model(cli, Activation.Relu, Head.Identity, standardised: false, seed: 1);
        cli.Ok("export", "--onnx", onnx, "--model", model);
        Assert.NotEqual("old", File.ReadAllText(onnx));
        Assert.DoesNotContain(cli.Dir.Names(), n => n.Contains(".tmp-"));
    }

    [Fact]
    public void CommandLineMistakesAreRefusedBeforeAnythingIsRead()
    {
        using var cli = new CliRunner();
        string model = Model(cli, Activation.Relu, Head.Identity, standardised: false, seed: 2);
        Assert.Equal((2, "", "gpunet: export needs --onnx FILE (ONNX is the format it writes)\n"), cli.Run("export", "--model", model));
        Assert.Equal((2, "", "gpunet: export needs --model FILE (the model to export)\n"), cli.Run("export", "--onnx", "x.onnx"));
        Assert.Equal((2, "", $"gpunet: --onnx {model} would overwrite the --model file; choose another name for --onnx\n"),
            cli.Run("export", "--onnx", model, "--model", model));
        string missing = cli.File("no/such/dir/m.onnx");
        Assert.Equal(2, cli.Run("export", "--onnx", missing, "--model", model).Code);
        Assert.Equal(0, cli.Run("help", "export").Code);
    }
}
