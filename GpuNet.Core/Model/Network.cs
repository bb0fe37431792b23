using GpuNet.Devices;
using GpuNet.Training;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Model;

/// <summary>
/// The parameters of <see cref="Copies"/> networks of one <see cref="Spec"/>, living on a device as one flat
/// buffer [Copies, P] (copy k's block starts at k·P; inside it W_l [out, in] then b_l per layer). Copies are
/// the restarts that train side by side. Layers are numbered 1..L; layer 0 is the input.
/// </summary>
public sealed class Network : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> parameters;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> mask;
    private readonly float[]? hostMask;

    /// <summary>Creates <paramref name="copies"/> networks on <paramref name="device"/>; copy k is initialised
    /// like copy <paramref name="firstCopy"/> + k of <paramref name="seed"/>, so one copy can be re-created alone.</summary>
    public Network(Device device, NetworkSpec spec, int copies = 1, ulong seed = 0, int firstCopy = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(spec);
        if (copies < 1) throw new ArgumentOutOfRangeException(nameof(copies), copies, "at least one network copy is needed");
        if (firstCopy < 0) throw new ArgumentOutOfRangeException(nameof(firstCopy), firstCopy, "must be non-negative");
        long total = spec.ParameterCount * copies;
        Device = device;
        Spec = spec;
        Copies = copies;
        Seed = seed;
        parameters = device.Allocate(total);
        hostMask = spec.HasMask ? spec.FlatMask() : null;
        mask = device.Allocate(hostMask?.Length ?? 1);
        if (hostMask != null) mask.View.CopyFromCPU(hostMask);
        for (int k = 0; k < copies; k++)
            SetParameters(spec.InitialParameters(seed, firstCopy + k), k);
    }

    /// <summary>The device the parameters live on.</summary>
    public Device Device { get; }
    /// <summary>The architecture.</summary>
    public NetworkSpec Spec { get; }
    /// <summary>Networks side by side (restarts).</summary>
    public int Copies { get; }
    /// <summary>Seed of the initial weights.</summary>
    public ulong Seed { get; }

    internal ArrayView<float> ParameterView => parameters.View;
    internal ArrayView<float> MaskView => mask.View;
    internal bool HasMask => hostMask != null;

    /// <summary>The flat parameter block of one copy (P floats; a synchronising read).</summary>
    public float[] GetParameters(int copy = 0)
    {
        Device.Counters.Synced();
        var p = new float[Spec.ParameterCount];
        ((ArrayView<float>)parameters.View).SubView(Block(copy), p.Length).CopyToCPU(p);
        return p;
    }

    /// <summary>Replaces the flat parameter block of one copy. A missing edge must be given as 0.</summary>
    public void SetParameters(float[] values, int copy = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != Spec.ParameterCount)
            throw new ArgumentException($"parameter block has {values.Length} values; this network has {Spec.ParameterCount}");
        if (hostMask != null)
            for (long i = 0; i < values.Length; i++)
                if (hostMask[i] == 0f && values[i] != 0f)
                    throw new ArgumentException($"parameter {i} belongs to a missing edge and must be 0, got {values[i]}");
        ((ArrayView<float>)parameters.View).SubView(Block(copy), values.Length).CopyFromCPU(values);
    }

    /// <summary>W_l as [out, in]: element [j, i] is the weight of the edge from neuron i of layer l−1 to neuron j of layer l.</summary>
    public float[,] GetWeights(int layer, int copy = 0)
    {
        var p = GetParameters(copy);
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size, inW = Spec.InputWidth(layer);
        var w = new float[outW, inW];
        long off = Spec.WeightOffset(layer);
        for (int j = 0; j < outW; j++)
            for (int i = 0; i < inW; i++)
                w[j, i] = p[off + (long)j * inW + i];
        return w;
    }

    /// <summary>Replaces W_l ([out, in], see <see cref="GetWeights"/>).</summary>
    public void SetWeights(int layer, float[,] weights, int copy = 0)
    {
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size, inW = Spec.InputWidth(layer);
        if (weights.GetLength(0) != outW || weights.GetLength(1) != inW)
            throw new ArgumentException($"layer {layer} weights are [out, in] = {outW}×{inW}, got {weights.GetLength(0)}×{weights.GetLength(1)}");
        var p = GetParameters(copy);
        long off = Spec.WeightOffset(layer);
        for (int j = 0; j < outW; j++)
            for (int i = 0; i < inW; i++)
                p[off + (long)j * inW + i] = weights[j, i];
        SetParameters(p, copy);
    }

    /// <summary>b_l: the weights from the bias neuron of layer l−1 into layer l.</summary>
    public float[] GetBias(int layer, int copy = 0)
    {
        var p = GetParameters(copy);
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size;
        return p.AsSpan((int)Spec.BiasOffset(layer), outW).ToArray();
    }

    /// <summary>Replaces b_l.</summary>
    public void SetBias(int layer, float[] bias, int copy = 0)
    {
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size;
        if (bias.Length != outW) throw new ArgumentException($"layer {layer} has {outW} biases, got {bias.Length}");
        var p = GetParameters(copy);
        bias.CopyTo(p, Spec.BiasOffset(layer));
        SetParameters(p, copy);
    }

    /// <summary>Weight of the edge from neuron <paramref name="from"/> of layer l−1 to neuron <paramref name="to"/> of layer l (0-based).</summary>
    public float GetWeight(int layer, int from, int to, int copy = 0) => GetWeights(layer, copy)[to, from];

    /// <summary>Sets the weight of the edge from neuron <paramref name="from"/> of layer l−1 to neuron <paramref name="to"/> of layer l.</summary>
    public void SetWeight(int layer, int from, int to, float value, int copy = 0)
    {
        var w = GetWeights(layer, copy);
        w[to, from] = value;
        SetWeights(layer, w, copy);
    }

    /// <summary>f(x) for every row of <paramref name="inputs"/> [rows, InputSize]: the output layer's values [rows, OutputSize].</summary>
    public float[,] Predict(float[,] inputs, int copy = 0)
    {
        int rows = inputs.GetLength(0);
        if (inputs.GetLength(1) != Spec.InputSize)
            throw new ArgumentException($"inputs have {inputs.GetLength(1)} columns; the network takes {Spec.InputSize}");
        var flat = new float[inputs.Length];
        Buffer.BlockCopy(inputs, 0, flat, 0, flat.Length * sizeof(float));
        var outFlat = Predict(flat, rows, copy);
        var result = new float[rows, Spec.OutputSize];
        Buffer.BlockCopy(outFlat, 0, result, 0, outFlat.Length * sizeof(float));
        return result;
    }

    /// <summary>f(x) for row-major inputs [rows, InputSize]; returns row-major [rows, OutputSize], with
    /// <paramref name="output"/> (softmax or logistic of the last layer's values) applied on the device.</summary>
    public float[] Predict(float[] inputs, int rows, int copy = 0, OutputFunction output = OutputFunction.Identity) =>
        Device.Guard(() => PredictCore(inputs, rows, copy, output));

    private float[] PredictCore(float[] inputs, int rows, int copy, OutputFunction output)
    {
        CheckCopy(copy);
        if (inputs.Length != (long)rows * Spec.InputSize)
            throw new ArgumentException($"{inputs.Length} input values are not {rows} rows × {Spec.InputSize}");
        var result = new float[(long)rows * Spec.OutputSize];
        if (rows == 0) return result;
        int chunk = Math.Min(rows, 4096);
        using var engine = new Engine(this, chunk);
        using var x = Device.Allocate((long)chunk * Spec.InputSize);
        var outs = new float[(long)chunk * Spec.OutputSize * Copies];
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            ((ArrayView<float>)x.View).SubView(0, (long)n * Spec.InputSize).CopyFromCPU(inputs.AsSpan(start * Spec.InputSize, n * Spec.InputSize));
            engine.Forward(x.View, 0, n);
            var o = engine.Output(n);
            if (output == OutputFunction.Softmax) Device.Elementwise.SoftmaxRows(o, (long)Copies * n, Spec.OutputSize);
            else if (output == OutputFunction.Logistic) Device.Elementwise.Apply(Activation.Logistic, o, o.Length);
            Device.Counters.Synced();
            o.SubView((long)copy * n * Spec.OutputSize, (long)n * Spec.OutputSize)
                .CopyToCPU(result.AsSpan(start * Spec.OutputSize, n * Spec.OutputSize));
        }
        return result;
    }

    /// <summary>A new single-copy network on the same device holding copy <paramref name="copy"/>'s parameters.</summary>
    public Network ExtractCopy(int copy)
    {
        CheckCopy(copy);
        var n = new Network(Device, Spec, 1, Seed, copy);
        n.SetParameters(GetParameters(copy));
        return n;
    }

    private long Block(int copy) => CheckCopy(copy) * Spec.ParameterCount;

    private int CheckCopy(int copy) =>
        copy >= 0 && copy < Copies ? copy : throw new ArgumentOutOfRangeException(nameof(copy), copy, $"copies are numbered 0..{Copies - 1}");

    private int CheckLayer(int layer) =>
        layer >= 1 && layer <= Spec.Layers.Count ? layer
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"weight layers are numbered 1..{Spec.Layers.Count} (0 is the input)");

    /// <inheritdoc/>
    public void Dispose()
    {
        parameters.Dispose();
        mask.Dispose();
    }
}
