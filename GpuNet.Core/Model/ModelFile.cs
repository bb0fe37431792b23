using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Model;

/// <summary>Everything besides the weights that evaluation and prediction need.</summary>
public sealed record ModelInfo
{
    /// <summary>Applied to the last layer's values at prediction time.</summary>
    public OutputFunction Output { get; init; }
    /// <summary>The loss the model was trained with (and is evaluated with).</summary>
    public LossFunction Loss { get; init; }
    /// <summary>Regression or classification.</summary>
    public TaskKind Task { get; init; }
    /// <summary>Class names in output order (classification).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }
    /// <summary>Per-feature mean subtracted before the network (standardisation), or null.</summary>
    public float[]? FeatureMean { get; init; }
    /// <summary>Per-feature divisor applied after the mean, or null.</summary>
    public float[]? FeatureScale { get; init; }
    /// <summary>Free-form string facts (data, seed, epochs, ...), stored under "train.*" keys.</summary>
    public IReadOnlyDictionary<string, string> Training { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// GpuNet models as safetensors files: tensors <c>layers.{i}.weight</c> [out, in] and <c>layers.{i}.bias</c> [out],
/// i = 0 for the first weight layer (PyTorch's nn.Linear names and layouts), and string metadata describing the
/// architecture, output function, loss, classes, feature scaling and connectivity masks.
/// </summary>
public static class ModelFile
{
    /// <summary>Value of the "format" metadata key.</summary>
    public const string Format = "gpunet-mlp/1";

    /// <summary>Writes a spec and its flat parameter block atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, NetworkSpec spec, float[] parameters, ModelInfo info)
    {
        if (parameters.Length != spec.ParameterCount)
            throw new ArgumentException($"{parameters.Length} parameters for a network of {spec.ParameterCount}");
        var tensors = new List<TensorEntry>();
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            int outW = spec.Layers[l - 1].Size, inW = spec.InputWidth(l);
            tensors.Add(new TensorEntry($"layers.{l - 1}.weight", [outW, inW],
                parameters.AsSpan((int)spec.WeightOffset(l), outW * inW).ToArray()));
            tensors.Add(new TensorEntry($"layers.{l - 1}.bias", [outW],
                parameters.AsSpan((int)spec.BiasOffset(l), outW).ToArray()));
        }
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["input_size"] = spec.InputSize.ToString(CultureInfo.InvariantCulture),
            ["layer_sizes"] = string.Join(",", spec.Layers.Select(x => x.Size.ToString(CultureInfo.InvariantCulture))),
            ["activations"] = string.Join(",", spec.Layers.Select(x => x.Activation.Name())),
            ["initialization"] = spec.Initialization.ToString(),
            ["output"] = info.Output.Name(),
            ["loss"] = info.Loss.Name(),
            ["task"] = info.Task == TaskKind.Classification ? "classify" : "regress",
        };
        if (info.ClassNames != null) meta["classes"] = JsonSerializer.Serialize(info.ClassNames);
        if (info.FeatureMean != null) meta["feature_mean"] = FloatsToJson(info.FeatureMean);
        if (info.FeatureScale != null) meta["feature_scale"] = FloatsToJson(info.FeatureScale);
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            var m = spec.Layers[l - 1].Mask;
            if (m == null) continue;
            var rows = new string[m.GetLength(0)];
            for (int j = 0; j < rows.Length; j++)
                rows[j] = new string(Enumerable.Range(0, m.GetLength(1)).Select(i => m[j, i] ? '1' : '0').ToArray());
            meta[$"mask.{l - 1}"] = string.Join("/", rows);
        }
        foreach (var (k, v) in info.Training) meta["train." + k] = v;
        SafeTensors.Write(path, tensors, meta);
    }

    /// <summary>Reads a model file: its spec, flat parameters and info. Every missing or malformed item is a
    /// <see cref="ModelFormatException"/> naming the file and the item.</summary>
    public static (NetworkSpec Spec, float[] Parameters, ModelInfo Info) Read(string path)
    {
        var file = SafeTensors.Read(path);
        var meta = file.Metadata;
        ModelFormatException Fail(string what) => new($"model file '{path}': {what}");
        string Need(string key) => meta.TryGetValue(key, out var v) ? v
            : throw Fail($"metadata key '{key}' is missing; this is not a GpuNet model (format {Format})");
        if (Need("format") != Format) throw Fail($"format is '{meta["format"]}', expected '{Format}'");
        int inputSize = ParseInt(Need("input_size"), "input_size", Fail);
        var sizes = Need("layer_sizes").Split(',').Select(s => ParseInt(s, "layer_sizes", Fail)).ToArray();
        var acts = Need("activations").Split(',');
        if (acts.Length != sizes.Length) throw Fail($"{sizes.Length} layer sizes but {acts.Length} activations");
        if (sizes.Length > 1000) throw Fail($"{sizes.Length} layers is not a plausible network");
        var layers = new LayerSpec[sizes.Length];
        int prev = inputSize;
        for (int l = 0; l < sizes.Length; l++)
        {
            Activation act;
            try { act = ActivationNames.Parse(acts[l]); }
            catch (ArgumentException e) { throw Fail($"layer {l}: {e.Message}"); }
            bool[,]? mask = null;
            if (meta.TryGetValue($"mask.{l}", out var ms))
            {
                var rows = ms.Split('/');
                if (rows.Length != sizes[l] || rows.Any(r => r.Length != prev || r.Any(c => c != '0' && c != '1')))
                    throw Fail($"mask.{l} is not {sizes[l]} rows of {prev} '0'/'1' characters");
                mask = new bool[sizes[l], prev];
                for (int j = 0; j < sizes[l]; j++) for (int i = 0; i < prev; i++) mask[j, i] = rows[j][i] == '1';
            }
            layers[l] = new LayerSpec(sizes[l], act, mask);
            prev = sizes[l];
        }
        NetworkSpec spec;
        try
        {
            var init = meta.TryGetValue("initialization", out var iv) && Enum.TryParse<Initialization>(iv, out var parsed) ? parsed : Initialization.Auto;
            spec = new NetworkSpec(inputSize, layers, init);
        }
        catch (ArgumentException e) { throw Fail(e.Message); }
        var p = new float[spec.ParameterCount];
        for (int l = 1; l <= layers.Length; l++)
        {
            int outW = layers[l - 1].Size, inW = spec.InputWidth(l);
            var w = Get(file, $"layers.{l - 1}.weight", [outW, inW], Fail);
            var b = Get(file, $"layers.{l - 1}.bias", [outW], Fail);
            CheckFinite(w.Data, $"layers.{l - 1}.weight", inW, Fail);
            CheckFinite(b.Data, $"layers.{l - 1}.bias", 0, Fail);
            w.Data.CopyTo(p, spec.WeightOffset(l));
            b.Data.CopyTo(p, spec.BiasOffset(l));
        }
        if (spec.HasMask)
        {
            var mask = spec.FlatMask();
            for (int i = 0; i < p.Length; i++)
                if (mask[i] == 0f && p[i] != 0f) throw Fail($"parameter {i} belongs to a masked edge but holds {p[i]}");
        }
        var info = new ModelInfo
        {
            Output = ParseWith(Need("output"), OutputFunctions.Parse, Fail),
            Loss = ParseWith(Need("loss"), LossFunctions.Parse, Fail),
            Task = Need("task") switch
            {
                "classify" => TaskKind.Classification,
                "regress" => TaskKind.Regression,
                var t => throw Fail($"task '{t}' is neither classify nor regress"),
            },
            ClassNames = meta.TryGetValue("classes", out var cs) ? ParseJson<string[]>(cs, "classes", Fail) : null,
            FeatureMean = meta.TryGetValue("feature_mean", out var fm) ? ParseJson<float[]>(fm, "feature_mean", Fail) : null,
            FeatureScale = meta.TryGetValue("feature_scale", out var fs) ? ParseJson<float[]>(fs, "feature_scale", Fail) : null,
            Training = meta.Where(kv => kv.Key.StartsWith("train.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["train.".Length..], kv => kv.Value),
        };
        int bad = FirstIndex(info.FeatureMean, float.IsFinite);
        if (bad >= 0) throw Fail($"feature_mean of feature {bad} is {info.FeatureMean![bad]}: a feature's mean must be finite");
        bad = FirstIndex(info.FeatureScale, v => float.IsFinite(v) && v > 0);
        if (bad >= 0) throw Fail($"feature_scale of feature {bad} is {info.FeatureScale![bad]}: a feature's scale must be positive and finite");
        if (info.FeatureMean != null && info.FeatureMean.Length != inputSize) throw Fail($"feature_mean has {info.FeatureMean.Length} values for {inputSize} inputs");
        if (info.FeatureScale != null && info.FeatureScale.Length != inputSize) throw Fail($"feature_scale has {info.FeatureScale.Length} values for {inputSize} inputs");
        if (info.ClassNames != null && info.ClassNames.Count != spec.OutputSize && !(spec.OutputSize == 1 && info.ClassNames.Count == 2))
            throw Fail($"{info.ClassNames.Count} class names for {spec.OutputSize} outputs");
        return (spec, p, info);
    }

    /// <summary>Reads a model file and puts the network on <paramref name="device"/>, with the file's info.</summary>
    public static Network Load(Device device, string path)
    {
        var (spec, p, info) = Read(path);
        var net = new Network(device, spec) { Info = info };
        try
        {
            net.SetParameters(p);
        }
        catch
        {
            net.Dispose();
            throw;
        }
        return net;
    }

    /// <summary>Index of the first value that is not <paramref name="ok"/>, or −1 (also for null).</summary>
    private static int FirstIndex(float[]? values, Func<float, bool> ok)
    {
        if (values != null)
            for (int i = 0; i < values.Length; i++)
                if (!ok(values[i])) return i;
        return -1;
    }

    /// <summary>Refuses a tensor holding NaN or ±Inf, naming the element ([row, column] when <paramref name="columns"/> &gt; 0):
    /// such a model gives nothing but NaN, and a diverged run writes its last good weights instead.</summary>
    private static void CheckFinite(float[] data, string name, int columns, Func<string, ModelFormatException> fail)
    {
        int i = FirstIndex(data, float.IsFinite);
        if (i < 0) return;
        string at = columns > 0 ? $"[{i / columns}, {i % columns}]" : $"[{i}]";
        throw fail($"{name}{at} is {data[i]}: the model holds non-finite weights (from a diverged run?)");
    }

    private static TensorEntry Get(SafeTensorsFile file, string name, long[] shape, Func<string, ModelFormatException> fail)
    {
        if (!file.Tensors.Any(t => t.Name == name)) throw fail($"tensor '{name}' is missing (the file has: {string.Join(", ", file.Tensors.Select(t => t.Name))})");
        var t = file.Tensors.First(t => t.Name == name);
        if (!t.Shape.SequenceEqual(shape))
            throw fail($"tensor '{name}' has shape [{string.Join(", ", t.Shape)}], the architecture needs [{string.Join(", ", shape)}]");
        return t;
    }

    private static int ParseInt(string s, string key, Func<string, ModelFormatException> fail) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw fail($"{key}: '{s}' is not a positive integer");

    private static T ParseWith<T>(string s, Func<string, T> parse, Func<string, ModelFormatException> fail)
    {
        try { return parse(s); }
        catch (ArgumentException e) { throw fail(e.Message); }
    }

    private static T ParseJson<T>(string s, string key, Func<string, ModelFormatException> fail) where T : class
    {
        try { return JsonSerializer.Deserialize<T>(s) ?? throw fail($"{key} is null"); }
        catch (JsonException e) { throw fail($"{key} is not valid: {e.Message}"); }
    }

    private static string FloatsToJson(float[] values) =>
        "[" + string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
