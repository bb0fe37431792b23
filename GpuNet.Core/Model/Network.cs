using GpuNet.Compute;
using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Model;

/// <summary>
/// The parameters of <see cref="Restarts"/> networks of one <see cref="Spec"/>, living on a device as one flat buffer
/// [R, P] (restart r's block starts at r·P; inside it W_l [out, in] then b_l per layer): the restarts that train side
/// by side. Layers are numbered 1..L; layer 0 is the input.
/// </summary>
public sealed class Network : IDisposable
{
    private readonly DeviceParameters parameters;
    private readonly float[]? hostMask;
    private bool disposed;

    /// <summary>Creates <paramref name="restarts"/> networks on <paramref name="device"/>; restart r is initialised like
    /// restart <paramref name="firstRestart"/> + r of <paramref name="seed"/>, so one restart can be re-created alone.</summary>
    public Network(Device device, NetworkSpec spec, int restarts = 1, ulong seed = 0, int firstRestart = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(spec);
        if (restarts < 1) throw new ArgumentOutOfRangeException(nameof(restarts), restarts, "at least one restart is needed");
        if (firstRestart < 0) throw new ArgumentOutOfRangeException(nameof(firstRestart), firstRestart, "must be non-negative");
        Device = device;
        Spec = spec;
        Restarts = restarts;
        Seed = seed;
        hostMask = spec.HasMask ? spec.FlatMask() : null;
        parameters = new DeviceParameters(device, spec.Layout, restarts, hostMask);
        for (int r = 0; r < restarts; r++)
            SetParameters(spec.InitialParameters(seed, firstRestart + r), r);
    }

    /// <summary>The device the parameters live on.</summary>
    public Device Device { get; }
    /// <summary>The architecture.</summary>
    public NetworkSpec Spec { get; }
    /// <summary>R: networks side by side, trained from different initial weights.</summary>
    public int Restarts { get; }
    /// <summary>Seed of the initial weights.</summary>
    public ulong Seed { get; }

    /// <summary>What the network was trained for (task, classes, output function, loss, feature scaling): set by
    /// training and by <see cref="Load"/>, written by <see cref="Save"/>; null for a network never trained or loaded.</summary>
    public ModelInfo? Info { get; set; }

    /// <summary>The restart the last training run picked as best (0 before any run); <see cref="Save"/> writes it.</summary>
    public int BestRestart
    {
        get => bestRestart;
        set => bestRestart = CheckRestart(value);
    }
    private int bestRestart;

    /// <summary>The parameters on the device.</summary>
    internal DeviceParameters Parameters => Live(parameters);

    /// <summary>The flat parameter block of one restart (P floats; a synchronising read).</summary>
    public float[] GetParameters(int restart = 0) => Parameters.Read(CheckRestart(restart));

    /// <summary>Replaces the flat parameter block of one restart. A missing edge must be given as 0.</summary>
    public void SetParameters(float[] values, int restart = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != Spec.ParameterCount)
            throw new ArgumentException($"parameter block has {values.Length} values; this network has {Spec.ParameterCount}");
        if (hostMask != null)
            for (long i = 0; i < values.Length; i++)
                if (hostMask[i] == 0f && values[i] != 0f)
                    throw new ArgumentException($"parameter {i} belongs to a missing edge and must be 0, got {values[i]}");
        Parameters.Write(CheckRestart(restart), values);
    }

    /// <summary>W_l as [out, in]: element [j, i] is the weight of the edge from neuron i of layer l−1 to neuron j of layer l.</summary>
    public float[,] GetWeights(int layer, int restart = 0)
    {
        var p = GetParameters(restart);
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size, inW = Spec.InputWidth(layer);
        var w = new float[outW, inW];
        long off = Spec.WeightOffset(layer);
        for (int j = 0; j < outW; j++)
            for (int i = 0; i < inW; i++)
                w[j, i] = p[off + (long)j * inW + i];
        return w;
    }

    /// <summary>Replaces W_l ([out, in], see <see cref="GetWeights"/>).</summary>
    public void SetWeights(int layer, float[,] weights, int restart = 0)
    {
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size, inW = Spec.InputWidth(layer);
        if (weights.GetLength(0) != outW || weights.GetLength(1) != inW)
            throw new ArgumentException($"layer {layer} weights are [out, in] = {outW}×{inW}, got {weights.GetLength(0)}×{weights.GetLength(1)}");
        var p = GetParameters(restart);
        long off = Spec.WeightOffset(layer);
        for (int j = 0; j < outW; j++)
            for (int i = 0; i < inW; i++)
                p[off + (long)j * inW + i] = weights[j, i];
        SetParameters(p, restart);
    }

    /// <summary>b_l: the weights from the bias neuron of layer l−1 into layer l.</summary>
    public float[] GetBias(int layer, int restart = 0)
    {
        var p = GetParameters(restart);
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size;
        return p.AsSpan((int)Spec.BiasOffset(layer), outW).ToArray();
    }

    /// <summary>Replaces b_l.</summary>
    public void SetBias(int layer, float[] bias, int restart = 0)
    {
        int outW = Spec.Layers[CheckLayer(layer) - 1].Size;
        if (bias.Length != outW) throw new ArgumentException($"layer {layer} has {outW} biases, got {bias.Length}");
        var p = GetParameters(restart);
        bias.CopyTo(p, Spec.BiasOffset(layer));
        SetParameters(p, restart);
    }

    /// <summary>Weight of the edge from neuron <paramref name="from"/> of layer l−1 to neuron <paramref name="to"/> of layer l (0-based).</summary>
    public float GetWeight(int layer, int from, int to, int restart = 0) => GetWeights(layer, restart)[to, from];

    /// <summary>Sets the weight of the edge from neuron <paramref name="from"/> of layer l−1 to neuron <paramref name="to"/> of layer l.</summary>
    public void SetWeight(int layer, int from, int to, float value, int restart = 0)
    {
        var w = GetWeights(layer, restart);
        w[to, from] = value;
        SetWeights(layer, w, restart);
    }

    /// <summary>f(x) for every row of <paramref name="inputs"/> [rows, InputSize]: the output layer's values [rows, OutputSize].</summary>
    public float[,] Predict(float[,] inputs, int restart = 0)
    {
        int rows = inputs.GetLength(0);
        if (inputs.GetLength(1) != Spec.InputSize)
            throw new ArgumentException($"inputs have {inputs.GetLength(1)} columns; the network takes {Spec.InputSize}");
        var flat = new float[inputs.Length];
        Buffer.BlockCopy(inputs, 0, flat, 0, flat.Length * sizeof(float));
        var outFlat = Predict(flat, rows, restart);
        var result = new float[rows, Spec.OutputSize];
        Buffer.BlockCopy(outFlat, 0, result, 0, outFlat.Length * sizeof(float));
        return result;
    }

    /// <summary>f(x) for row-major inputs [rows, InputSize]; returns row-major [rows, OutputSize], with
    /// <paramref name="output"/> (softmax or logistic of the last layer's values) applied on the device.</summary>
    public float[] Predict(float[] inputs, int rows, int restart = 0, OutputFunction output = OutputFunction.Identity) =>
        Device.Guard(() => PredictCore(inputs, rows, restart, output));

    private float[] PredictCore(float[] inputs, int rows, int restart, OutputFunction output)
    {
        CheckRestart(restart);
        if (inputs.Length != (long)rows * Spec.InputSize)
            throw new ArgumentException($"{inputs.Length} input values are not {rows} rows × {Spec.InputSize}");
        var result = new float[(long)rows * Spec.OutputSize];
        if (rows == 0) return result;
        int chunk = Math.Min(rows, 4096), inW = Spec.InputSize, outW = Spec.OutputSize;
        using var forward = new ForwardPass(Device, Spec.Layout, Restarts, chunk);
        using var x = Device.Allocate((long)chunk * inW);
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            ((ArrayView<float>)x.View).SubView(0, (long)n * inW).CopyFromCPU(inputs.AsSpan(start * inW, n * inW));
            forward.Run(Parameters, x.View, 0, n);
            var o = forward.Output(n);
            if (output == OutputFunction.Softmax) Device.Elementwise.SoftmaxRows(o, (long)Restarts * n, outW);
            else if (output == OutputFunction.Logistic) Device.Elementwise.Apply(Activation.Logistic, o, o.Length);
            Device.Counters.Synced();
            o.SubView((long)restart * n * outW, (long)n * outW).CopyToCPU(result.AsSpan(start * outW, n * outW));
        }
        return result;
    }

    /// <summary>A new single-restart network on the same device holding restart <paramref name="restart"/>'s
    /// parameters and this network's <see cref="Info"/>.</summary>
    public Network ExtractRestart(int restart)
    {
        var values = GetParameters(restart); // checks the restart, and that this network is not disposed, before allocating
        var n = new Network(Device, Spec, 1, Seed, restart) { Info = Info };
        n.SetParameters(values);
        return n;
    }

    /// <summary>Writes one restart (by default <see cref="BestRestart"/>) and <see cref="Info"/> to a model file,
    /// atomically: the file records what training used, so it evaluates as the network does here.</summary>
    /// <exception cref="InvalidOperationException">The network has no <see cref="Info"/>: it was never trained or loaded
    /// (set <see cref="Info"/> to say what it is for).</exception>
    public void Save(string path, int? restart = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = Info ?? throw new InvalidOperationException(
            "the network has not been trained or loaded, so nothing says what it is for (task, classes, output, loss): train it, or set Info");
        ModelFile.Save(path, Spec, GetParameters(restart ?? BestRestart), info);
    }

    /// <summary>Reads a model file onto <paramref name="device"/>: one restart, with the file's <see cref="Info"/>.</summary>
    /// <exception cref="ModelFormatException">The file is malformed or not a GpuNet model.</exception>
    public static Network Load(Device device, string path) => ModelFile.Load(device, path);

    private int CheckRestart(int restart) =>
        restart >= 0 && restart < Restarts ? restart
            : throw new ArgumentOutOfRangeException(nameof(restart), restart, $"restarts are numbered 0..{Restarts - 1}");

    private int CheckLayer(int layer) =>
        layer >= 1 && layer <= Spec.Layers.Count ? layer
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"weight layers are numbered 1..{Spec.Layers.Count} (0 is the input)");

    private T Live<T>(T value)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return value;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        parameters.Dispose();
    }
}
