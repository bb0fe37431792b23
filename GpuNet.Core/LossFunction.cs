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
}
