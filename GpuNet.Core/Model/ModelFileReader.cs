using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;

namespace GpuNet.Model;

/// <summary>
/// Turns a safetensors file into a GpuNet model, trusting nothing in its metadata: every size the metadata states
/// (layers, input size, masks, classes, feature scaling) is checked against the tensors the file really holds, whose
/// bytes the safetensors reader has already checked against the file's length, before anything of that size is made.
/// </summary>
internal sealed class ModelFileReader
{
    private readonly SafeTensorsFile file;
    private readonly IReadOnlyDictionary<string, string> meta;
    private readonly string name;

    private ModelFileReader(SafeTensorsFile file, string name)
    {
        this.file = file;
        this.name = name;
        meta = file.Metadata;
    }

    /// <summary>The spec, flat parameters and info of the model in <paramref name="file"/>; <paramref name="name"/>
    /// names it in errors.</summary>
    public static (NetworkSpec Spec, float[] Parameters, ModelInfo Info) Read(SafeTensorsFile file, string name)
    {
        var r = new ModelFileReader(file, name);
        var spec = r.Spec();
        return (spec, r.Parameters(spec), r.Info(spec));
    }

    private ModelFormatException Fail(string what) => new($"model file '{name}': {what}");

    private string Need(string key) => meta.TryGetValue(key, out var v) ? v
        : throw Fail($"metadata key '{key}' is missing; this is not a GpuNet model (format {ModelFile.Format})");

    private NetworkSpec Spec()
    {
        string format = Need("format");
        if (format != ModelFile.Format) throw Fail($"format is '{JsonValues.Shown(format)}', expected '{ModelFile.Format}'");
        int inputSize = (int)JsonValues.Integer(Need("input_size"), "input_size", 1, int.MaxValue, Fail);
        var sizes = LayerSizes();
        var acts = Activations(sizes.Length);
        CheckTensors(inputSize, sizes);
        // Every size below is now that of a tensor the file holds: a mask is no larger than its weight tensor.
        var layers = new LayerSpec[sizes.Length];
        for (int l = 0; l < sizes.Length; l++)
            layers[l] = new LayerSpec(sizes[l], acts[l], Mask(l, sizes[l], l == 0 ? inputSize : sizes[l - 1]));
        foreach (var key in meta.Keys)
            if (key.StartsWith("mask.", StringComparison.Ordinal) && !IsLayerIndex(key["mask.".Length..], sizes.Length))
                throw Fail($"metadata key '{JsonValues.Shown(key)}' names no layer of this {sizes.Length}-layer network (masks are mask.0 to mask.{sizes.Length - 1})");
        try
        {
            return new NetworkSpec(inputSize, layers, Initialization());
        }
        catch (ArgumentException e) { throw Fail(e.Message); }
    }

    private static bool IsLayerIndex(string text, int layers) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int l)
        && l < layers && text == l.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>layer_sizes: a comma-separated list of positive sizes, no more layers than the tensors allow.</summary>
    private int[] LayerSizes()
    {
        string text = Need("layer_sizes");
        // Each layer has a weight and a bias tensor: count before splitting, so a long list costs nothing.
        long count = text.Count(c => c == ',') + 1L;
        if (count > file.Tensors.Count)
            throw Fail($"layer_sizes lists {count} layers but the file holds only {file.Tensors.Count} tensors (each layer has a weight and a bias)");
        return text.Split(',').Select(s => (int)JsonValues.Integer(s, "a size in layer_sizes", 1, int.MaxValue, Fail)).ToArray();
    }

    private Activation[] Activations(int layers)
    {
        string text = Need("activations");
        long count = text.Count(c => c == ',') + 1L;
        if (count != layers) throw Fail($"{layers} layer sizes but {count} activations");
        var names = text.Split(',');
        var acts = new Activation[layers];
        for (int l = 0; l < layers; l++)
        {
            try { acts[l] = ActivationNames.Parse(names[l]); }
            catch (ArgumentException) { throw Fail($"layer {l}: unknown activation '{JsonValues.Shown(names[l])}' (identity, logistic, tanh or relu)"); }
        }
        return acts;
    }

    /// <summary>The file holds exactly layers.{i}.weight [out, in] and layers.{i}.bias [out] for every layer.</summary>
    private void CheckTensors(int inputSize, int[] sizes)
    {
        Int128 claimed = 0;
        for (int l = 0, prev = inputSize; l < sizes.Length; prev = sizes[l], l++) claimed += (Int128)sizes[l] * prev + sizes[l];
        long held = file.Tensors.Sum(t => (long)t.Data.Length);
        string network = JsonValues.Shown($"{inputSize}-{string.Join("-", sizes)}");
        // Only shapes are compared here: nothing of the claimed size is made.
        string scale = claimed <= held ? ""
            : $"; the metadata describes a network of {claimed:N0} parameters ({claimed * 4:N0} bytes), the file holds {held:N0} values ({held * 4:N0} bytes)";
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int l = 0, prev = inputSize; l < sizes.Length; prev = sizes[l], l++)
        {
            Expect($"layers.{l}.weight", [sizes[l], prev]);
            Expect($"layers.{l}.bias", [sizes[l]]);
        }
        foreach (var t in file.Tensors)
            if (!expected.Contains(t.Name))
                throw Fail($"tensor '{JsonValues.Shown(t.Name)}' is not part of a {sizes.Length}-layer network (layers.0 to layers.{sizes.Length - 1}, weight and bias)");

        void Expect(string tensor, long[] shape)
        {
            expected.Add(tensor);
            var t = file.Find(tensor)
                ?? throw Fail($"tensor '{tensor}' is missing (the file has: {string.Join(", ", file.Tensors.Take(20).Select(x => JsonValues.Shown(x.Name)))}){scale}");
            if (!t.Shape.AsSpan().SequenceEqual(shape))
                throw Fail($"tensor '{tensor}' has shape {TensorEntry.FormatShape(t.Shape)}, the {network} network needs {TensorEntry.FormatShape(shape)}{scale}");
        }
    }

    /// <summary>mask.{l}: <paramref name="rows"/> rows of <paramref name="columns"/> '0'/'1' characters separated by '/',
    /// read in place (no string per row).</summary>
    private bool[,]? Mask(int l, int rows, int columns)
    {
        if (!meta.TryGetValue($"mask.{l}", out var text)) return null;
        if (text.Length != (long)rows * (columns + 1) - 1)
            throw Fail($"mask.{l} is {text.Length} characters; {rows} rows of {columns} '0'/'1' characters separated by '/' are {(long)rows * (columns + 1) - 1}");
        var mask = new bool[rows, columns];
        for (int j = 0; j < rows; j++)
        {
            int at = j * (columns + 1);
            if (j > 0 && text[at - 1] != '/') throw Fail($"mask.{l}: row {j - 1} is not {columns} characters followed by '/'");
            for (int i = 0; i < columns; i++)
            {
                char c = text[at + i];
                if (c != '0' && c != '1') throw Fail($"mask.{l}: row {j}, column {i} is '{JsonValues.Shown(c.ToString())}', expected '0' or '1'");
                mask[j, i] = c == '1';
            }
        }
        return mask;
    }

    private Initialization Initialization()
    {
        if (!meta.TryGetValue("initialization", out var text)) return Model.Initialization.Auto; // files from before it was recorded
        if (Enum.GetNames<Initialization>().Contains(text, StringComparer.Ordinal)) return Enum.Parse<Initialization>(text);
        throw Fail($"initialization is '{JsonValues.Shown(text)}', expected {string.Join(", ", Enum.GetNames<Initialization>())}");
    }

    /// <summary>The flat parameter block, refusing non-finite values and weights on masked edges.</summary>
    private float[] Parameters(NetworkSpec spec)
    {
        var p = new float[spec.ParameterCount]; // the tensors hold exactly this many values (checked above)
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            var w = file.Get($"layers.{l - 1}.weight");
            var b = file.Get($"layers.{l - 1}.bias");
            CheckFinite(w.Data, w.Name, spec.InputWidth(l));
            CheckFinite(b.Data, b.Name, 0);
            w.Data.CopyTo(p, spec.WeightOffset(l));
            b.Data.CopyTo(p, spec.BiasOffset(l));
        }
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            var mask = spec.Layers[l - 1].Mask;
            if (mask == null) continue;
            int inW = spec.InputWidth(l);
            for (int j = 0; j < mask.GetLength(0); j++)
                for (int i = 0; i < inW; i++)
                    if (!mask[j, i] && p[spec.WeightOffset(l) + (long)j * inW + i] != 0f)
                        throw Fail($"layers.{l - 1}.weight[{j}, {i}] is {p[spec.WeightOffset(l) + (long)j * inW + i]} but mask.{l - 1} leaves that edge out");
        }
        return p;
    }

    /// <summary>Refuses a tensor holding NaN or ±Inf, naming the element ([row, column] when <paramref name="columns"/> &gt; 0):
    /// such a model gives nothing but NaN, and a diverged run writes its last good weights instead.</summary>
    private void CheckFinite(float[] data, string tensor, int columns)
    {
        int i = Array.FindIndex(data, v => !float.IsFinite(v));
        if (i < 0) return;
        string at = columns > 0 ? $"[{i / columns}, {i % columns}]" : $"[{i}]";
        throw Fail($"{tensor}{at} is {data[i]}: the model holds non-finite weights (from a diverged run?)");
    }

    private ModelInfo Info(NetworkSpec spec)
    {
        var output = Parse(Need("output"), "output", OutputFunctions.Parse, "identity, logistic or softmax");
        var loss = Parse(Need("loss"), "loss", LossFunctions.Parse, "mse, mae, cross-entropy or bce");
        try { loss.CheckCompatible(spec); }
        catch (ArgumentException e) { throw Fail(e.Message); }
        if (output == OutputFunction.Softmax && spec.OutputSize < 2) throw Fail($"output softmax needs at least 2 outputs; the network has {spec.OutputSize}");
        // The pairs training makes: a loss on logits with its own output function, softmax only with cross-entropy.
        if ((loss == LossFunction.CrossEntropy) != (output == OutputFunction.Softmax) || (loss == LossFunction.BinaryCrossEntropy && output != OutputFunction.Logistic))
            throw Fail($"loss {loss.Name()} and output {output.Name()} do not go together (cross-entropy goes with softmax, bce with logistic)");
        var task = Need("task") switch
        {
            "classify" => TaskKind.Classification,
            "regress" => TaskKind.Regression,
            var t => throw Fail($"task '{JsonValues.Shown(t)}' is neither classify nor regress"),
        };
        var (mean, scale) = Scaling(spec.InputSize);
        return new ModelInfo
        {
            Output = output, Loss = loss, Task = task, ClassNames = ClassNames(task, spec.OutputSize),
            FeatureMean = mean, FeatureScale = scale,
            Training = meta.Where(kv => kv.Key.StartsWith("train.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["train.".Length..], kv => kv.Value),
        };
    }

    /// <summary>classes: a JSON array of distinct strings, one per output (or two for a single logistic output).</summary>
    private string[]? ClassNames(TaskKind task, int outputs)
    {
        if (!meta.TryGetValue("classes", out var json)) return null;
        if (task != TaskKind.Classification) throw Fail("classes are given for a regression model");
        using var doc = JsonValues.Parse(json, "classes", Fail);
        var root = doc.RootElement;
        int count = root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : -1;
        int expected = outputs == 1 && (count == 1 || count == 2) ? count : outputs;
        var names = JsonValues.Strings(root, "classes", expected, Fail);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
            if (!seen.Add(n)) throw Fail($"classes names '{JsonValues.Shown(n)}' twice");
        return names;
    }

    /// <summary>feature_mean and feature_scale: both or neither, one finite value per input (scales positive).</summary>
    private (float[]? Mean, float[]? Scale) Scaling(int inputs)
    {
        bool hasMean = meta.TryGetValue("feature_mean", out var meanJson), hasScale = meta.TryGetValue("feature_scale", out var scaleJson);
        if (!hasMean && !hasScale) return (null, null);
        if (!hasMean || !hasScale) throw Fail($"{(hasMean ? "feature_mean" : "feature_scale")} is given without {(hasMean ? "feature_scale" : "feature_mean")}");
        float[] Read(string json, string key)
        {
            using var doc = JsonValues.Parse(json, key, Fail);
            return JsonValues.Floats(doc.RootElement, key, inputs, Fail);
        }
        var mean = Read(meanJson!, "feature_mean");
        var scale = Read(scaleJson!, "feature_scale");
        int bad = Array.FindIndex(scale, v => !(v > 0));
        if (bad >= 0) throw Fail($"feature_scale of feature {bad} is {scale[bad]}: a feature's scale must be positive and finite");
        return (mean, scale);
    }

    private T Parse<T>(string text, string key, Func<string, T> parse, string choices)
    {
        try { return parse(text); }
        catch (ArgumentException) { throw Fail($"{key} '{JsonValues.Shown(text)}' is unknown: use {choices}"); }
    }
}
