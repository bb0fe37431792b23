using GpuNet.Model;
using GpuNet.Tests.Networks;
using GpuNet.Training;

namespace GpuNet.Tests.Kernels;

/// <summary>
/// What the fused restarts kernel computes, in float64 and written to be read: every restart, one after another, takes
/// the steps of one epoch (batches of B rows of the given order, the last one shorter), each step the batch's mean loss
/// and gradient (<see cref="ReferenceNet"/>), then one update of the optimizer (<see cref="Reference"/>, bias
/// corrections 1 − βᵗ); the loss sums and hits add up the rows.
/// </summary>
internal static class RestartReference
{
    public sealed record Result(double[][] Parameters, double[][] First, double[][] Second, double[] Loss, double[] Hits);

    public static Result Run(NetworkSpec spec, float[][] initial, float[] x, float[] y, int[] order, int batch, int steps,
        float[] rates, LossFunction loss, OptimizerOptions o, bool countHits)
    {
        int inW = spec.InputSize, outW = spec.OutputSize, rows = x.Length / inW;
        float[]? mask = spec.HasMask ? spec.FlatMask() : null;
        int restarts = initial.Length;
        var result = new Result(new double[restarts][], new double[restarts][], new double[restarts][], new double[restarts], new double[restarts]);
        for (int r = 0; r < restarts; r++)
        {
            var w = Array.ConvertAll(initial[r], v => (double)v);
            double[] m = new double[w.Length], v = new double[w.Length];
            for (int s = 0; s < steps; s++)
            {
                int start = s * batch, n = Math.Min(batch, rows - start);
                var xs = Enumerable.Range(start, n).Select(i => Row(x, order[i], inW)).ToArray();
                var ys = Enumerable.Range(start, n).Select(i => Row(y, order[i], outW)).ToArray();
                var net = new ReferenceNet(spec, w);
                var (mean, g) = net.LossAndGradient(xs, ys, loss);
                result.Loss[r] += mean * n;
                if (countHits) result.Hits[r] += xs.Zip(ys).Count(p => Hit(net, p.First, p.Second, loss));
                Update(o, w, g, m, v, mask, rates[s], s + 1);
            }
            (result.Parameters[r], result.First[r], result.Second[r]) = (w, m, v);
        }
        return result;
    }

    private static double[] Row(float[] a, int row, int width) => a.Skip(row * width).Take(width).Select(v => (double)v).ToArray();

    private static bool Hit(ReferenceNet net, double[] x, double[] y, LossFunction loss)
    {
        var z = net.Forward(x).Z[^1];
        if (z.Length == 1) return (z[0] > (loss.TakesLogits() ? 0 : 0.5)) == (y[0] > 0.5);
        return Array.IndexOf(z, z.Max()) == Array.IndexOf(y, y.Max());
    }

    private static void Update(OptimizerOptions o, double[] w, double[] g, double[] m, double[] v, float[]? mask, double rate, long t)
    {
        long p = w.Length;
        switch (o.Kind)
        {
            case OptimizerKind.Sgd: Reference.Sgd(w, g, mask, p, rate, o.WeightDecay); break;
            case OptimizerKind.Momentum: Reference.Momentum(w, g, m, mask, p, rate, o.Momentum, o.WeightDecay, o.Nesterov); break;
            default:
                Reference.Adam(w, g, m, v, mask, p, rate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay, 1 - Math.Pow(o.Beta1, t), 1 - Math.Pow(o.Beta2, t));
                break;
        }
    }
}
