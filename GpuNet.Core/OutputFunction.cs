namespace GpuNet;

/// <summary>What turns the last layer's values into the model's outputs at prediction time.</summary>
public enum OutputFunction
{
    /// <summary>The last layer's values as they are (its own activation already applied).</summary>
    Identity,
    /// <summary>Logistic of the last layer's logits: independent probabilities (with bce).</summary>
    Logistic,
    /// <summary>Softmax of the last layer's logits: class probabilities (with cross-entropy).</summary>
    Softmax,
}

/// <summary>Names of <see cref="OutputFunction"/>.</summary>
public static class OutputFunctions
{
    /// <summary>Lower-case name.</summary>
    public static string Name(this OutputFunction f) => f.ToString().ToLowerInvariant();

    /// <summary>Parses identity, logistic (sigmoid) or softmax.</summary>
    public static OutputFunction Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "identity" or "linear" => OutputFunction.Identity,
        "logistic" or "sigmoid" => OutputFunction.Logistic,
        "softmax" => OutputFunction.Softmax,
        _ => throw new ArgumentException($"unknown output function '{name}': use identity, logistic or softmax"),
    };
}
