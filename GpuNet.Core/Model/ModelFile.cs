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

    /// <summary>Reads a model file: its spec, flat parameters and info. Every size the metadata states is checked
    /// against the tensors the file holds before anything of that size is made, so a file can never make the reader
    /// allocate more than a small multiple of its own length.</summary>
    /// <exception cref="ModelFormatException">Anything missing, malformed or inconsistent; the message names the file
    /// and the item.</exception>
    /// <exception cref="GpuNetException">The path is a folder, pipe, FIFO or device (refused unopened).</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static (NetworkSpec Spec, float[] Parameters, ModelInfo Info) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ModelFileReader.Read(SafeTensors.Read(path, "model file"), path);
    }

    /// <summary>Reads a model file held in memory, with the checks of <see cref="Read(string)"/>; <paramref name="name"/>
    /// stands for the file in messages.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid GpuNet model.</exception>
    public static (NetworkSpec Spec, float[] Parameters, ModelInfo Info) Read(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ModelFileReader.Read(SafeTensors.Read(bytes, name), name);
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

    private static string FloatsToJson(float[] values) =>
        "[" + string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
