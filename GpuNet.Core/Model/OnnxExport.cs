using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.IO.OnnxFormat;

namespace GpuNet.Model;

/// <summary>
/// Writes a model as an ONNX file (IR version 8, operator set 17 of the standard domain) that any ONNX runtime can
/// run. The graph computes exactly what <see cref="Predictor.Predict"/> does:
/// <list type="number">
/// <item>input <c>features</c>: float32 [batch, I], the raw (unscaled) features; batch is a named, dynamic dimension;</item>
/// <item>standardisation, when the model has it: <c>Sub</c>(features, feature_mean) then <c>Div</c>(…, feature_scale);</item>
/// <item>per layer i = 0 … L−1: <c>Gemm</c>(z, layers.{i}.weight, layers.{i}.bias, transB = 1), i.e. z·Wᵀ + b with W
/// [out, in] as in the model file, then <c>Relu</c>, <c>Tanh</c> or <c>Sigmoid</c> (logistic); identity adds no node;
/// the missing edges of masked layers are weights of exactly 0;</item>
/// <item>the output function: <c>Softmax</c> (axis −1) or <c>Sigmoid</c>; identity adds no node;</item>
/// <item>output <c>outputs</c>: float32 [batch, O], what <c>gpunet predict</c> prints (probabilities for softmax and
/// logistic models).</item>
/// </list>
/// The model's metadata (task, loss, output, class names, layer sizes, training facts) goes into the ONNX file's
/// metadata_props. Files are written atomically, like every file GpuNet writes.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set version the graph is written against.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version of the file (version 8 goes with operator set 17).</summary>
    public const int IrVersion = 8;

    /// <summary>Name of the graph's input: float32 [batch, I], raw features.</summary>
    public const string InputName = "features";

    /// <summary>Name of the graph's output: float32 [batch, O], the model's outputs.</summary>
    public const string OutputName = "outputs";

    /// <summary>Name of the dynamic first dimension of input and output.</summary>
    public const string BatchDimension = "batch";

    /// <summary>Reads a GpuNet model file and writes it as ONNX to <paramref name="onnxPath"/> (no device needed).</summary>
    /// <exception cref="ModelFormatException">The model file is malformed.</exception>
    public static void FromModelFile(string modelPath, string onnxPath)
    {
        var (spec, parameters, info) = ModelFile.Read(modelPath);
        Write(onnxPath, spec, parameters, info);
    }

    /// <summary>Writes one restart of <paramref name="network"/> (by default its <see cref="Network.BestRestart"/>) and
    /// its <see cref="Network.Info"/> as ONNX, as <see cref="Network.Save"/> writes a model file.</summary>
    /// <exception cref="InvalidOperationException">The network has no <see cref="Network.Info"/> (never trained or loaded).</exception>
    public static void Write(string path, Network network, int? restart = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var info = network.Info ?? throw new InvalidOperationException(
            "the network has not been trained or loaded, so nothing says what it is for (task, classes, output, loss): train it, or set Info");
        Write(path, network.Spec, network.GetParameters(restart ?? network.BestRestart), info);
    }

    /// <summary>Writes a spec, its flat parameters [P] and <paramref name="info"/> as ONNX to <paramref name="path"/>.</summary>
    public static void Write(string path, NetworkSpec spec, float[] parameters, ModelInfo info)
    {
        var model = Build(spec, parameters, info);
        AtomicFile.Write(path, model.WriteTo);
    }

    /// <summary>The ONNX model of a spec, its parameters and info.</summary>
    internal static ModelProto Build(NetworkSpec spec, float[] parameters, ModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(info);
        if (parameters.Length != spec.ParameterCount)
            throw new ArgumentException($"{parameters.Length} parameters for a network of {spec.ParameterCount}");
        var graph = new GraphProto
        {
            Name = "gpunet-mlp",
            DocString = $"{spec}, output {info.Output.Name()}: input '{InputName}' float32 [{BatchDimension}, {spec.InputSize}] " +
                $"(raw features), output '{OutputName}' float32 [{BatchDimension}, {spec.OutputSize}]",
        };
        graph.Input.Add(Value(InputName, spec.InputSize, "raw features, one row per example"));
        graph.Output.Add(Value(OutputName, spec.OutputSize, OutputDoc(info)));
        string z = Standardise(graph, info, spec.InputSize);
        var mask = spec.FlatMask();
        for (int l = 1; l <= spec.Layers.Count; l++) z = Layer(graph, spec, l, parameters, mask, z);
        z = info.Output switch
        {
            OutputFunction.Softmax => Node(graph, "Softmax", [z], "softmax", Int("axis", -1)),
            OutputFunction.Logistic => Node(graph, "Sigmoid", [z], "sigmoid"),
            _ => z,
        };
        graph.Node[^1].Output[0] = OutputName; // the last value computed is the graph's output
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "gpunet", ProducerVersion = ProducerVersion(), Domain = "gpunet",
            ModelVersion = 1, DocString = "A feed-forward network trained by GpuNet", Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(spec, info)) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>Sub and Div by the stored mean and scale, when the model standardises; returns the value the first layer reads.</summary>
    private static string Standardise(GraphProto graph, ModelInfo info, int inputs)
    {
        if (info.FeatureMean == null || info.FeatureScale == null) return InputName;
        if (info.FeatureMean.Length != inputs || info.FeatureScale.Length != inputs)
            throw new ArgumentException($"feature_mean and feature_scale have {info.FeatureMean.Length} and {info.FeatureScale.Length} values for {inputs} inputs");
        graph.Initializer.Add(Tensor("feature_mean", [inputs], info.FeatureMean));
        graph.Initializer.Add(Tensor("feature_scale", [inputs], info.FeatureScale));
        string centred = Node(graph, "Sub", [InputName, "feature_mean"], "centred");
        return Node(graph, "Div", [centred, "feature_scale"], "standardised");
    }

    /// <summary>Gemm and activation of layer <paramref name="l"/> (1-based; tensors are named from 0 as in model files).</summary>
    private static string Layer(GraphProto graph, NetworkSpec spec, int l, float[] parameters, float[] mask, string input)
    {
        int size = spec.Layers[l - 1].Size, width = spec.InputWidth(l);
        long w = spec.WeightOffset(l), b = spec.BiasOffset(l);
        var weights = new float[(long)size * width];
        for (long i = 0; i < weights.Length; i++) weights[i] = mask[w + i] == 0f ? 0f : parameters[w + i];
        string name = $"layers.{l - 1}";
        graph.Initializer.Add(Tensor($"{name}.weight", [size, width], weights));
        graph.Initializer.Add(Tensor($"{name}.bias", [size], parameters.AsSpan((int)b, size).ToArray()));
        string sum = Node(graph, "Gemm", [input, $"{name}.weight", $"{name}.bias"], $"{name}.sum", Int("transB", 1));
        return spec.Layers[l - 1].Activation switch
        {
            Activation.Identity => sum,
            Activation.Relu => Node(graph, "Relu", [sum], $"{name}.relu"),
            Activation.Tanh => Node(graph, "Tanh", [sum], $"{name}.tanh"),
            Activation.Logistic => Node(graph, "Sigmoid", [sum], $"{name}.sigmoid"),
            var a => throw new ArgumentOutOfRangeException(nameof(spec), a, "unknown activation"),
        };
    }

    private static string Node(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Tensor(string name, long[] dims, float[] values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    /// <summary>A float32 [batch, <paramref name="columns"/>] value, batch named and dynamic.</summary>
    private static ValueInfoProto Value(string name, int columns, string doc)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = columns });
        return new ValueInfoProto
        {
            Name = name, DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static string OutputDoc(ModelInfo info) => info.Output switch
    {
        OutputFunction.Softmax => "class probabilities (softmax), one column per class",
        OutputFunction.Logistic => "probabilities (logistic), one column per output",
        _ => info.Task == TaskKind.Classification ? "class scores, one column per class" : "predicted values, one column per target",
    };

    private static IEnumerable<(string, string)> Metadata(NetworkSpec spec, ModelInfo info)
    {
        yield return ("format", ModelFile.Format);
        yield return ("input_size", spec.InputSize.ToString(CultureInfo.InvariantCulture));
        yield return ("layer_sizes", string.Join(",", spec.Layers.Select(x => x.Size.ToString(CultureInfo.InvariantCulture))));
        yield return ("activations", string.Join(",", spec.Layers.Select(x => x.Activation.Name())));
        yield return ("output", info.Output.Name());
        yield return ("loss", info.Loss.Name());
        yield return ("task", info.Task == TaskKind.Classification ? "classify" : "regress");
        if (info.ClassNames != null) yield return ("classes", JsonSerializer.Serialize(info.ClassNames));
        foreach (var (k, v) in info.Training.OrderBy(kv => kv.Key, StringComparer.Ordinal)) yield return ("train." + k, v);
    }

    private static string ProducerVersion()
    {
        string v = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        int plus = v.IndexOf('+');
        return plus < 0 ? v : v[..plus];
    }
}
