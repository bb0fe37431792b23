using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>
/// The mean loss of one network over a few rows, in float64 on the host, evaluated neuron by neuron, and the same loss
/// with one parameter moved by δ: what central finite differences need. The unmoved pass is kept per row, so a moved
/// parameter of layer l recomputes only its own neuron, the next layer's sums by the change of that neuron's output,
/// and the layers after that: a_{l+1} + W_{l+1}[:, j]·Δz_l[j] is a_{l+1} recomputed with the moved weight, up to
/// float64 rounding, and each moved loss shares the unmoved rounding of everything below the moved neuron.
/// </summary>
/// <remarks>Shapes: B rows, I inputs, O outputs; parameters in GpuNet's flat layout (W_l [out, in] row-major, then
/// b_l). A moved loss also says whether it crossed a kink of the loss surface (a ReLU pre-activation, or for mae an
/// output minus its target, changing sign): a difference quotient across a kink is no derivative.</remarks>
internal sealed class Float64Loss
{
    private readonly NetworkSpec spec;
    private readonly double[] p;
    private readonly LossFunction loss;
    private readonly double[][] y;
    private readonly double[][][] a, z; // [row][layer 0..L][neuron]; z[r][0] is the input row, a[r][0] unused

    /// <param name="spec">The network.</param>
    /// <param name="parameters">One network's flat parameters [P].</param>
    /// <param name="loss">The loss; the network's last layer gives logits for cross-entropy and bce.</param>
    /// <param name="features">Inputs [B, I], row-major, as the network takes them (already standardised).</param>
    /// <param name="targets">Targets [B, O] (one-hot for classes).</param>
    /// <param name="rows">B.</param>
    public Float64Loss(NetworkSpec spec, ReadOnlySpan<float> parameters, LossFunction loss, ReadOnlySpan<float> features,
        ReadOnlySpan<float> targets, int rows)
    {
        if (parameters.Length != spec.ParameterCount)
            throw new ArgumentException($"{parameters.Length} parameters for a network of {spec.ParameterCount}");
        if (rows <= 0 || features.Length != (long)rows * spec.InputSize || targets.Length != (long)rows * spec.OutputSize)
            throw new ArgumentException($"{features.Length} features and {targets.Length} targets are not {rows} rows of " +
                $"{spec.InputSize} inputs and {spec.OutputSize} outputs");
        this.spec = spec;
        this.loss = loss;
        p = new double[parameters.Length];
        for (int i = 0; i < p.Length; i++) p[i] = parameters[i];
        y = new double[rows][];
        a = new double[rows][][];
        z = new double[rows][][];
        int layers = spec.Layers.Count;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            y[r] = ToDouble(targets.Slice(r * spec.OutputSize, spec.OutputSize));
            a[r] = new double[layers + 1][];
            z[r] = new double[layers + 1][];
            z[r][0] = ToDouble(features.Slice(r * spec.InputSize, spec.InputSize));
            for (int l = 1; l <= layers; l++) (a[r][l], z[r][l]) = Layer(l, z[r][l - 1]);
            total += RowLoss(a[r][layers], z[r][layers], y[r]);
        }
        Loss = total / rows;
    }

    /// <summary>Mean loss over the rows at the given parameters.</summary>
    public double Loss { get; }

    /// <summary>Mean loss with parameter <paramref name="index"/> moved by <paramref name="delta"/>, and whether a row
    /// crossed a kink on the way.</summary>
    public (double Loss, bool Kink) Moved(long index, double delta)
    {
        var (layer, neuron, input) = Locate(index);
        double total = 0;
        bool kink = false;
        for (int r = 0; r < y.Length; r++)
        {
            var (rowLoss, rowKink) = MovedRow(r, layer, neuron, input, delta);
            total += rowLoss;
            kink |= rowKink;
        }
        return (total / y.Length, kink);
    }

    private (double Loss, bool Kink) MovedRow(int r, int l, int j, int input, double delta)
    {
        int layers = spec.Layers.Count;
        var act = spec.Layers[l - 1].Activation;
        double moved = a[r][l][j] + delta * (input < 0 ? 1.0 : z[r][l - 1][input]);
        bool kink = Crosses(act, a[r][l][j], moved);
        var aL = (double[])a[r][l].Clone();
        var zL = (double[])z[r][l].Clone();
        aL[j] = moved;
        zL[j] = Activate(act, moved);
        if (l < layers)
        {
            // Layer l + 1 sees neuron j change by Δz: its sums change by its weights from j times Δz.
            int next = l + 1, width = spec.InputWidth(next);
            double dz = zL[j] - z[r][l][j];
            aL = (double[])a[r][next].Clone();
            for (int k = 0; k < aL.Length; k++) aL[k] += p[spec.WeightOffset(next) + (long)k * width + j] * dz;
            zL = Activate(spec.Layers[next - 1].Activation, aL, a[r][next], ref kink);
            for (int m = next + 1; m <= layers; m++)
            {
                double[] before = a[r][m];
                (aL, zL) = Layer(m, zL);
                for (int k = 0; k < aL.Length; k++) kink |= Crosses(spec.Layers[m - 1].Activation, before[k], aL[k]);
            }
        }
        if (loss == LossFunction.MeanAbsoluteError)
            for (int k = 0; k < zL.Length; k++) kink |= Math.Sign(zL[k] - y[r][k]) != Math.Sign(z[r][layers][k] - y[r][k]);
        return (RowLoss(aL, zL, y[r]), kink);
    }

    /// <summary>Weighted sums a_l = W_l z_{l−1} + b_l and outputs z_l = σ_l(a_l) of layer <paramref name="l"/>.</summary>
    private (double[] A, double[] Z) Layer(int l, double[] below)
    {
        int width = spec.InputWidth(l), size = spec.Layers[l - 1].Size;
        long w = spec.WeightOffset(l), b = spec.BiasOffset(l);
        var sums = new double[size];
        for (int j = 0; j < size; j++)
        {
            double s = p[b + j];
            for (int i = 0; i < width; i++) s += p[w + (long)j * width + i] * below[i];
            sums[j] = s;
        }
        bool unused = false;
        return (sums, Activate(spec.Layers[l - 1].Activation, sums, sums, ref unused));
    }

    private static double[] Activate(Activation act, double[] sums, double[] unmoved, ref bool kink)
    {
        var outputs = new double[sums.Length];
        for (int k = 0; k < sums.Length; k++)
        {
            outputs[k] = Activate(act, sums[k]);
            kink |= Crosses(act, unmoved[k], sums[k]);
        }
        return outputs;
    }

    private static double Activate(Activation act, double v) => act switch
    {
        Activation.Identity => v,
        Activation.Logistic => 1.0 / (1.0 + Math.Exp(-v)),
        Activation.Tanh => Math.Tanh(v),
        Activation.Relu => Math.Max(0.0, v),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    private static bool Crosses(Activation act, double before, double after) => act == Activation.Relu && (before > 0) != (after > 0);

    /// <summary>One row's loss from the last layer's sums (logits) and outputs, as <see cref="LossFunction"/> defines it.</summary>
    private double RowLoss(double[] sums, double[] outputs, double[] target)
    {
        int o = outputs.Length;
        double l = 0;
        switch (loss)
        {
            case LossFunction.MeanSquaredError:
                for (int j = 0; j < o; j++) l += (outputs[j] - target[j]) * (outputs[j] - target[j]);
                return l / o;
            case LossFunction.MeanAbsoluteError:
                for (int j = 0; j < o; j++) l += Math.Abs(outputs[j] - target[j]);
                return l / o;
            case LossFunction.CrossEntropy:
                double max = sums.Max(), sum = 0;
                foreach (double v in sums) sum += Math.Exp(v - max);
                for (int j = 0; j < o; j++) l -= target[j] * (sums[j] - max - Math.Log(sum));
                return l;
            case LossFunction.BinaryCrossEntropy:
                for (int j = 0; j < o; j++) l += Math.Max(sums[j], 0) - sums[j] * target[j] + double.LogP1(Math.Exp(-Math.Abs(sums[j])));
                return l / o;
            default:
                throw new ArgumentOutOfRangeException(nameof(loss));
        }
    }

    /// <summary>The layer (1-based), neuron and input (−1 for the bias) of flat parameter <paramref name="index"/>.</summary>
    private (int Layer, int Neuron, int Input) Locate(long index)
    {
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            long w = spec.WeightOffset(l), b = spec.BiasOffset(l);
            int width = spec.InputWidth(l);
            if (index >= w && index < b) return (l, (int)((index - w) / width), (int)((index - w) % width));
            if (index >= b && index < b + spec.Layers[l - 1].Size) return (l, (int)(index - b), -1);
        }
        throw new ArgumentOutOfRangeException(nameof(index), index, $"parameters are numbered 0..{spec.ParameterCount - 1}");
    }

    private static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var d = new double[values.Length];
        for (int i = 0; i < d.Length; i++) d[i] = values[i];
        return d;
    }
}
