using GpuNet.Compute;

namespace GpuNet.Model;

/// <summary>How initial weights are drawn (biases start at 0).</summary>
public enum Initialization
{
    /// <summary>He for ReLU layers, Xavier (Glorot) for the others.</summary>
    Auto,
    /// <summary>Xavier/Glorot uniform: U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out))).</summary>
    XavierUniform,
    /// <summary>He (Kaiming) normal: N(0, 2/fan_in).</summary>
    HeNormal,
}

/// <summary>One layer of neurons after the input: its size, its function σ and, optionally, which edges
/// from the previous layer exist (mask[j, i] = true when neuron i of the previous layer feeds neuron j;
/// null = fully connected). Every layer but the output is followed by a bias neuron that always sends 1;
/// in weight terms, each neuron of this layer has a bias b_j.</summary>
public sealed record LayerSpec(int Size, Activation Activation, bool[,]? Mask = null);

/// <summary>
/// An immutable network description: input size, the layers after it, initialisation. Parameters of one
/// network are stored flat, layer by layer: W_l as [out, in] row-major (PyTorch's nn.Linear layout), then b_l.
/// </summary>
public sealed class NetworkSpec
{
    /// <summary>Creates and validates a spec.</summary>
    /// <param name="inputSize">Neurons in the input layer.</param>
    /// <param name="layers">Layers after the input; the last one is the output layer.</param>
    /// <param name="initialization">How initial weights are drawn.</param>
    public NetworkSpec(int inputSize, IReadOnlyList<LayerSpec> layers, Initialization initialization = Initialization.Auto)
    {
        if (layers == null || layers.Count == 0) throw new ArgumentException("a network needs at least one layer after the input");
        Layout = new NetworkLayout(inputSize, layers.Select(l => (l.Size, l.Activation)).ToArray());
        for (int l = 1; l <= layers.Count; l++)
        {
            var mask = layers[l - 1].Mask;
            if (mask != null && (mask.GetLength(0) != layers[l - 1].Size || mask.GetLength(1) != Layout.Width(l - 1)))
                throw new ArgumentException(
                    $"layer {l}: mask is {mask.GetLength(0)}×{mask.GetLength(1)}, expected [out, in] = {layers[l - 1].Size}×{Layout.Width(l - 1)}");
        }
        Layers = layers.ToArray();
        Initialization = initialization;
    }

    /// <summary>Fully connected network: sizes from input to output; hidden layers use
    /// <paramref name="hidden"/>, the output layer <paramref name="output"/>.</summary>
    public static NetworkSpec Dense(int[] sizes, Activation hidden, Activation output,
        Initialization initialization = Initialization.Auto)
    {
        if (sizes.Length < 2) throw new ArgumentException("sizes must list at least the input and the output layer");
        var layers = new LayerSpec[sizes.Length - 1];
        for (int i = 1; i < sizes.Length; i++)
            layers[i - 1] = new LayerSpec(sizes[i], i == sizes.Length - 1 ? output : hidden);
        return new NetworkSpec(sizes[0], layers, initialization);
    }

    /// <summary>Neurons in the input layer.</summary>
    public int InputSize => Layout.InputSize;
    /// <summary>Layers after the input (weight layers), numbered 1..L in the API.</summary>
    public IReadOnlyList<LayerSpec> Layers { get; }
    /// <summary>Neurons in the output layer.</summary>
    public int OutputSize => Layers[^1].Size;
    /// <summary>How initial weights are drawn.</summary>
    public Initialization Initialization { get; }
    /// <summary>P: floats in one network's flat parameter block (masked edges keep a slot, held at 0).</summary>
    public long ParameterCount => Layout.ParameterCount;

    /// <summary>Widths, functions and parameter offsets, as device code sees them.</summary>
    public NetworkLayout Layout { get; }

    /// <summary>Weights and biases that exist (masked edges excluded): the network's true parameter count.</summary>
    public long TrainableParameterCount
    {
        get
        {
            long n = 0;
            for (int l = 1; l <= Layers.Count; l++)
            {
                var layer = Layers[l - 1];
                n += layer.Size;
                if (layer.Mask == null) n += (long)layer.Size * InputWidth(l);
                else foreach (bool e in layer.Mask) if (e) n++;
            }
            return n;
        }
    }

    /// <summary>True when some layer has a connectivity mask.</summary>
    public bool HasMask => Layers.Any(l => l.Mask != null);

    /// <summary>Neurons feeding layer l (1-based): the input size for l = 1.</summary>
    public int InputWidth(int layer) => layer == 1 ? InputSize : Layers[layer - 2].Size;

    /// <summary>Offset of W_l (1-based l) in the flat parameter block.</summary>
    public long WeightOffset(int layer) => Layout.WeightOffset(CheckLayer(layer));

    /// <summary>Offset of b_l (1-based l) in the flat parameter block.</summary>
    public long BiasOffset(int layer) => Layout.BiasOffset(CheckLayer(layer));

    /// <summary>Flat mask over the parameter block: 1 where a weight or bias exists, 0 for a missing edge.</summary>
    public float[] FlatMask()
    {
        var mask = new float[ParameterCount];
        Array.Fill(mask, 1f);
        for (int l = 1; l <= Layers.Count; l++)
        {
            var m = Layers[l - 1].Mask;
            if (m == null) continue;
            long w = WeightOffset(l);
            int inW = InputWidth(l);
            for (int j = 0; j < m.GetLength(0); j++)
                for (int i = 0; i < inW; i++)
                    if (!m[j, i]) mask[w + (long)j * inW + i] = 0f;
        }
        return mask;
    }

    /// <summary>Initial parameters of restart <paramref name="restart"/> for <paramref name="seed"/>: each restart
    /// draws from its own stream, so restart r is the same network whether trained alone or beside others.</summary>
    public float[] InitialParameters(ulong seed, int restart)
    {
        var p = new float[ParameterCount];
        var rng = new Rng(seed, (ulong)restart + 1);
        for (int l = 1; l <= Layers.Count; l++)
        {
            var layer = Layers[l - 1];
            int fanIn = InputWidth(l), fanOut = layer.Size;
            var init = Initialization;
            if (init == Initialization.Auto)
                init = layer.Activation == Activation.Relu ? Initialization.HeNormal : Initialization.XavierUniform;
            long w = WeightOffset(l);
            double limit = Math.Sqrt(6.0 / (fanIn + fanOut)), sd = Math.Sqrt(2.0 / fanIn);
            for (long i = 0; i < (long)fanIn * fanOut; i++)
                p[w + i] = init == Initialization.HeNormal
                    ? (float)(sd * rng.NextGaussian())
                    : (float)((2 * rng.NextDouble() - 1) * limit);
        }
        if (HasMask)
        {
            var mask = FlatMask();
            for (long i = 0; i < p.Length; i++) if (mask[i] == 0f) p[i] = 0f;
        }
        return p;
    }

    /// <summary>"2-8-1 (tanh, logistic)": sizes and functions, for messages and summaries.</summary>
    public override string ToString() =>
        $"{InputSize}-{string.Join("-", Layers.Select(l => l.Size))} ({string.Join(", ", Layers.Select(l => l.Activation.Name()))})";

    private int CheckLayer(int layer) =>
        layer >= 1 && layer <= Layers.Count ? layer
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layers are numbered 1..{Layers.Count} (0 is the input)");
}
