using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Tests.Networks;

/// <summary>
/// A float64 network evaluated neuron by neuron, never optimised: the reference for the device's forward
/// pass, loss and backward pass. Parameters use GpuNet's flat layout (W_l [out, in] row-major, then b_l).
/// </summary>
public sealed class ReferenceNet(NetworkSpec spec, double[] parameters)
{
    public NetworkSpec Spec { get; } = spec;
    public double[] Parameters { get; } = parameters;

    private double W(int l, int j, int i) => Parameters[Spec.WeightOffset(l) + (long)j * Spec.InputWidth(l) + i];
    private double B(int l, int j) => Parameters[Spec.BiasOffset(l) + j];

    /// <summary>Weighted sums a_l and outputs z_l of every layer for one input row (z[0] = x).</summary>
    public (double[][] A, double[][] Z) Forward(double[] x)
    {
        int L = Spec.Layers.Count;
        var a = new double[L + 1][];
        var z = new double[L + 1][];
        z[0] = x;
        for (int l = 1; l <= L; l++)
        {
            int outW = Spec.Layers[l - 1].Size, inW = Spec.InputWidth(l);
            a[l] = new double[outW];
            z[l] = new double[outW];
            for (int j = 0; j < outW; j++)
            {
                double s = B(l, j);
                for (int i = 0; i < inW; i++) s += W(l, j, i) * z[l - 1][i];
                a[l][j] = s;
                z[l][j] = Reference.Activate(Spec.Layers[l - 1].Activation, s);
            }
        }
        return (a, z);
    }

    /// <summary>Loss of one row and ∂(row loss)/∂a_L.</summary>
    public static (double Loss, double[] DLoss) RowLoss(LossFunction loss, Activation outAct, double[] aL, double[] zL, double[] y)
    {
        int o = zL.Length;
        var d = new double[o];
        double l = 0;
        switch (loss)
        {
            case LossFunction.MeanSquaredError:
                for (int j = 0; j < o; j++)
                {
                    l += (zL[j] - y[j]) * (zL[j] - y[j]) / o;
                    d[j] = 2 * (zL[j] - y[j]) / o * Reference.Derivative(outAct, aL[j]);
                }
                break;
            case LossFunction.MeanAbsoluteError:
                for (int j = 0; j < o; j++)
                {
                    l += Math.Abs(zL[j] - y[j]) / o;
                    d[j] = Math.Sign(zL[j] - y[j]) / (double)o * Reference.Derivative(outAct, aL[j]);
                }
                break;
            case LossFunction.CrossEntropy:
                {
                    double max = aL.Max();
                    double sum = aL.Sum(v => Math.Exp(v - max));
                    for (int j = 0; j < o; j++)
                    {
                        double logp = aL[j] - max - Math.Log(sum);
                        l -= y[j] * logp;
                        d[j] = Math.Exp(logp) - y[j];
                    }
                    break;
                }
            case LossFunction.BinaryCrossEntropy:
                for (int j = 0; j < o; j++)
                {
                    double p = 1 / (1 + Math.Exp(-aL[j]));
                    // −[y log p + (1−y) log(1−p)] written so that it stays finite for any logit
                    l += (Math.Max(aL[j], 0) - aL[j] * y[j] + Math.Log(1 + Math.Exp(-Math.Abs(aL[j])))) / o;
                    d[j] = (p - y[j]) / o;
                }
                break;
        }
        return (l, d);
    }

    /// <summary>Mean loss over the rows and its gradient with respect to every parameter (flat layout).</summary>
    public (double Loss, double[] Gradient) LossAndGradient(double[][] xs, double[][] ys, LossFunction loss)
    {
        int L = Spec.Layers.Count, rows = xs.Length;
        var grad = new double[Parameters.Length];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            var (a, z) = Forward(xs[r]);
            var (rowLoss, dL) = RowLoss(loss, Spec.Layers[^1].Activation, a[L], z[L], ys[r]);
            total += rowLoss;
            var delta = dL.Select(v => v / rows).ToArray();
            for (int l = L; l >= 1; l--)
            {
                int outW = Spec.Layers[l - 1].Size, inW = Spec.InputWidth(l);
                for (int j = 0; j < outW; j++)
                {
                    grad[Spec.BiasOffset(l) + j] += delta[j];
                    for (int i = 0; i < inW; i++)
                        grad[Spec.WeightOffset(l) + (long)j * inW + i] += delta[j] * z[l - 1][i];
                }
                if (l == 1) break;
                var prev = new double[inW];
                for (int i = 0; i < inW; i++)
                {
                    double s = 0;
                    for (int j = 0; j < outW; j++) s += W(l, j, i) * delta[j];
                    prev[i] = s * Reference.Derivative(Spec.Layers[l - 2].Activation, a[l - 1][i]);
                }
                delta = prev;
            }
        }
        if (Spec.HasMask)
        {
            var mask = Spec.FlatMask();
            for (int i = 0; i < grad.Length; i++) if (mask[i] == 0f) grad[i] = 0;
        }
        return (total / rows, grad);
    }
}
