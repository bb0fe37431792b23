namespace GpuNet;

/// <summary>The training loss ℓ of a batch of B rows with O outputs each.</summary>
public enum LossFunction
{
    /// <summary>mse: (1/(B·O)) Σ (y − f(x))². For one output this is the mean over the batch of the squared error (y − f(x))².</summary>
    MeanSquaredError,
    /// <summary>mae: (1/(B·O)) Σ |y − f(x)|.</summary>
    MeanAbsoluteError,
    /// <summary>cross-entropy: softmax over the outputs (the last layer gives logits, identity) and
    /// (1/B) Σ_b −log p(label_b); fused and numerically stable.</summary>
    CrossEntropy,
    /// <summary>bce: logistic outputs (the last layer gives logits, identity) and the mean over B·O of
    /// −[y log p + (1 − y) log(1 − p)]; stable for any logit.</summary>
    BinaryCrossEntropy,
}

/// <summary>Names and helpers for <see cref="LossFunction"/>.</summary>
public static class LossFunctions
{
    /// <summary>Command-line name: mse, mae, cross-entropy, bce.</summary>
    public static string Name(this LossFunction l) => l switch
    {
        LossFunction.MeanSquaredError => "mse",
        LossFunction.MeanAbsoluteError => "mae",
        LossFunction.CrossEntropy => "cross-entropy",
        LossFunction.BinaryCrossEntropy => "bce",
        _ => throw new ArgumentOutOfRangeException(nameof(l)),
    };

    /// <summary>Parses a command-line name.</summary>
    public static LossFunction Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "mse" => LossFunction.MeanSquaredError,
        "mae" => LossFunction.MeanAbsoluteError,
        "cross-entropy" or "crossentropy" or "ce" => LossFunction.CrossEntropy,
        "bce" => LossFunction.BinaryCrossEntropy,
        _ => throw new ArgumentException($"unknown loss '{name}': use mse, mae, cross-entropy or bce"),
    };

    /// <summary>True when the loss reads logits (the output layer must be identity).</summary>
    public static bool TakesLogits(this LossFunction l) => l is LossFunction.CrossEntropy or LossFunction.BinaryCrossEntropy;

    /// <summary>Refuses a last layer that does not suit the loss: the losses on logits apply their own output function
    /// (softmax, logistic), so the last layer must pass its sums through unchanged (identity).</summary>
    /// <exception cref="ArgumentException">A loss on logits with a last layer that is not identity.</exception>
    public static void CheckLastLayer(this LossFunction loss, Activation lastLayer)
    {
        if (loss.TakesLogits() && lastLayer != Activation.Identity)
            throw new ArgumentException(
                $"loss {loss.Name()} applies its own output function to logits: the output layer must be identity, not {lastLayer.Name()}");
    }

    /// <summary>Threshold that separates the two classes of a one-output network for accuracy: 0 for logits, 0.5 otherwise.</summary>
    public static float AccuracyThreshold(this LossFunction loss) => loss.TakesLogits() ? 0f : 0.5f;
}
