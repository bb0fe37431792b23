namespace GpuNet.Compute;

/// <summary>
/// What device code needs to know of a layered network: the input width, each weight layer's width and function, and
/// where W_l ([out, in], row-major) and b_l sit in one network's flat parameter block of P floats (layer by layer, W_l
/// then b_l). Layers are numbered 1..L; layer 0 is the input.
/// </summary>
public sealed class NetworkLayout
{
    private readonly int[] widths;
    private readonly Activation[] activations;
    private readonly long[] weightOffsets, biasOffsets;

    /// <summary>The layout of a network with <paramref name="inputSize"/> inputs and the given weight layers.</summary>
    /// <exception cref="ArgumentException">A width is not positive, or the parameters do not fit in an int (the
    /// kernels index one network's block with 32-bit offsets).</exception>
    public NetworkLayout(int inputSize, IReadOnlyList<(int Size, Activation Activation)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (inputSize <= 0) throw new ArgumentException($"the input layer needs at least one neuron, got {inputSize}");
        if (layers.Count == 0) throw new ArgumentException("a network needs at least one layer after the input");
        widths = new int[layers.Count + 1];
        activations = new Activation[layers.Count + 1];
        weightOffsets = new long[layers.Count + 1];
        biasOffsets = new long[layers.Count + 1];
        widths[0] = inputSize;
        long offset = 0;
        for (int l = 1; l <= layers.Count; l++)
        {
            var (size, activation) = layers[l - 1];
            if (size <= 0) throw new ArgumentException($"layer {l} needs at least one neuron, got {size}");
            if (!Enum.IsDefined(activation)) throw new ArgumentException($"layer {l}: unknown activation {activation}");
            widths[l] = size;
            activations[l] = activation;
            weightOffsets[l] = offset;
            offset += (long)size * widths[l - 1];
            biasOffsets[l] = offset;
            offset += size;
        }
        if (offset > int.MaxValue) throw new ArgumentException($"network has {offset} parameters; at most {int.MaxValue} are supported");
        ParameterCount = offset;
    }

    /// <summary>Neurons in the input layer.</summary>
    public int InputSize => widths[0];
    /// <summary>Neurons in the output layer.</summary>
    public int OutputSize => widths[^1];
    /// <summary>L: weight layers after the input.</summary>
    public int Depth => widths.Length - 1;
    /// <summary>P: floats in one network's flat parameter block.</summary>
    public long ParameterCount { get; }

    /// <summary>Neurons in layer l (0 = the input).</summary>
    public int Width(int layer) => widths[Check(layer, 0)];
    /// <summary>The function of layer l (1..L).</summary>
    public Activation Activation(int layer) => activations[Check(layer, 1)];
    /// <summary>Offset of W_l in the flat parameter block.</summary>
    public long WeightOffset(int layer) => weightOffsets[Check(layer, 1)];
    /// <summary>Offset of b_l in the flat parameter block.</summary>
    public long BiasOffset(int layer) => biasOffsets[Check(layer, 1)];

    /// <summary>Neurons summed over every layer after the input (the activations one row keeps).</summary>
    public long Neurons => widths.Skip(1).Sum(w => (long)w);

    private int Check(int layer, int first) =>
        layer >= first && layer <= Depth ? layer
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layers are numbered {first}..{Depth} here (0 is the input)");
}
