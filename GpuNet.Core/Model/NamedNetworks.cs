namespace GpuNet.Model;

/// <summary>Networks known by name (<c>gpunet train --network NAME</c>).</summary>
public static class NamedNetworks
{
    /// <summary>The name of <see cref="RunningExample"/>.</summary>
    public const string RunningExampleName = "running-example";

    /// <summary>Every name <see cref="Get"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = [RunningExampleName];

    /// <summary>The idea's running example: input neuron 1 (bias neuron 2), hidden neurons 3 and 4 (bias 5), hidden
    /// neurons 6 and 7 (bias 8), output neuron 9, every function logistic, and the edge 3 → 7 (from the first neuron of
    /// the first hidden layer to the second neuron of the second) missing: 12 weights.</summary>
    public static NetworkSpec RunningExample() => new(1,
    [
        new LayerSpec(2, Activation.Logistic),
        new LayerSpec(2, Activation.Logistic, RunningExampleMask()),
        new LayerSpec(1, Activation.Logistic),
    ]);

    /// <summary>The running example's missing edges, as (layer, from, to): layer 2 lacks the edge from neuron 0 of
    /// layer 1 to its neuron 1.</summary>
    public static IReadOnlyList<(int Layer, int From, int To)> RunningExampleMissingEdges { get; } = [(2, 0, 1)];

    /// <summary>The network called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No network has that name; the message lists those that do.</exception>
    public static NetworkSpec Get(string name) => name switch
    {
        RunningExampleName => RunningExample(),
        _ => throw new ArgumentException($"no network is called '{name}'; known: {string.Join(", ", Names)}"),
    };

    private static bool[,] RunningExampleMask() => new bool[2, 2] { { true, true }, { false, true } }; // [to, from]

    /// <summary><paramref name="spec"/> with the edges (layer, from, to) left out of its masks (layers 1..L, neurons
    /// numbered from 0 as <see cref="Network.GetWeight"/> numbers them).</summary>
    /// <exception cref="ArgumentException">An edge names a layer or neuron the network does not have, or twice.</exception>
    public static NetworkSpec WithoutEdges(this NetworkSpec spec, IEnumerable<(int Layer, int From, int To)> edges)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(edges);
        var masks = spec.Layers.Select((l, i) => l.Mask == null ? null : (bool[,])l.Mask.Clone()).ToArray();
        foreach (var (layer, from, to) in edges)
        {
            if (layer < 1 || layer > spec.Layers.Count)
                throw new ArgumentException($"edge {layer}:{from}-{to}: the network has weight layers 1..{spec.Layers.Count}");
            int inW = spec.InputWidth(layer), outW = spec.Layers[layer - 1].Size;
            if (from < 0 || from >= inW) throw new ArgumentException($"edge {layer}:{from}-{to}: layer {layer - 1} has neurons 0..{inW - 1}");
            if (to < 0 || to >= outW) throw new ArgumentException($"edge {layer}:{from}-{to}: layer {layer} has neurons 0..{outW - 1}");
            var m = masks[layer - 1] ??= Full(outW, inW);
            if (!m[to, from]) throw new ArgumentException($"edge {layer}:{from}-{to} is missing already");
            m[to, from] = false;
        }
        return new NetworkSpec(spec.InputSize, spec.Layers.Select((l, i) => l with { Mask = masks[i] }).ToArray(), spec.Initialization);
    }

    private static bool[,] Full(int rows, int columns)
    {
        var m = new bool[rows, columns];
        for (int j = 0; j < rows; j++)
            for (int i = 0; i < columns; i++) m[j, i] = true;
        return m;
    }
}
