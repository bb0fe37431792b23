namespace GpuNet.Model;

/// <summary>How a network's output layer, output function and loss must fit together.</summary>
public static class OutputPolicy
{
    /// <summary>Checks that the network's output function suits the loss.</summary>
    public static void CheckCompatible(this LossFunction l, NetworkSpec spec)
    {
        l.CheckLastLayer(spec.Layers[^1].Activation);
        if (l == LossFunction.CrossEntropy && spec.OutputSize < 2)
            throw new ArgumentException("cross-entropy needs at least 2 outputs (one per class); use bce for one output");
    }
}
