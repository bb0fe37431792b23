using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Model;

namespace GpuNet.Tests.IO;

/// <summary>Model files the reader tests start from, before they damage them.</summary>
public static class TestModels
{
    /// <summary>The metadata and tensors of a valid 3-4-2 classifier (tanh, identity; softmax and cross-entropy) whose
    /// first layer is masked, with class names "no", "yes" and feature scaling, written by the library.</summary>
    public static (Dictionary<string, string> Meta, List<TensorEntry> Tensors) MaskedClassifier(TempDir dir)
    {
        var mask = new bool[4, 3] { { true, false, true }, { true, true, true }, { false, true, true }, { true, true, false } };
        var spec = new NetworkSpec(3, [new LayerSpec(4, Activation.Tanh, mask), new LayerSpec(2, Activation.Identity)]);
        using var net = new Network(TestDevices.Cpu, spec, seed: 3);
        string path = dir.File("classifier.safetensors");
        net.Info = new ModelInfo
        {
            Output = OutputFunction.Softmax, Loss = LossFunction.CrossEntropy, Task = TaskKind.Classification, ClassNames = ["no", "yes"],
            FeatureMean = [0.5f, -1, 2], FeatureScale = [1, 2, 0.25f], Training = new Dictionary<string, string> { ["seed"] = "3" },
        };
        net.Save(path);
        var file = SafeTensors.Read(path);
        return (file.Metadata.ToDictionary(), file.Tensors.ToList());
    }
}
