namespace GpuNet.Model;

/// <summary>How a network's output layer, output function and loss must fit together.</summary>
public static class OutputPolicy
{
    /// <summary>Checks that the network's output function suits the loss.</summary>
    public static void CheckCompatible(this LossFunction l, NetworkSpec spec)
    {
        if (l.TakesLogits() && spec.Layers[^1].Activation != Activation.Identity)
            throw new ArgumentException(
                $"loss {l.Name()} applies its own output function to logits: the output layer must be identity, not {spec.Layers[^1].Activation.Name()}");
        if (l == LossFunction.CrossEntropy && spec.OutputSize < 2)
            throw new ArgumentException("cross-entropy needs at least 2 outputs (one per class); use bce for one output");
    }
}
