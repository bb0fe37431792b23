namespace GpuNet;

/// <summary>The function σ a layer's neurons apply to their weighted input sum a.</summary>
public enum Activation
{
    /// <summary>σ(a) = a.</summary>
    Identity,
    /// <summary>σ(a) = 1 / (1 + e^(−a)), σ' = σ(1 − σ).</summary>
    Logistic,
    /// <summary>σ(a) = tanh a, σ' = 1 − σ².</summary>
    Tanh,
    /// <summary>σ(a) = max(0, a), σ' = [a &gt; 0].</summary>
    Relu,
}

/// <summary>Parsing and printing of activation names (identity, logistic, tanh, relu).</summary>
public static class ActivationNames
{
    /// <summary>Lower-case name as used on the command line and in model files.</summary>
    public static string Name(this Activation a) => a.ToString().ToLowerInvariant();

    /// <summary>Parses a name (case-insensitive; "sigmoid" is accepted for logistic).</summary>
    public static Activation Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "identity" or "linear" => Activation.Identity,
        "logistic" or "sigmoid" => Activation.Logistic,
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        _ => throw new ArgumentException($"unknown activation '{name}': use identity, logistic, tanh or relu"),
    };
}
