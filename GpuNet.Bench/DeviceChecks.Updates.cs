using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Bench;

internal sealed partial class DeviceChecks
{
    private enum Update { Sgd, Momentum, Nesterov, Adam }

    /// <summary>One step of each optimizer over R restarts of P parameters with a mask: masked parameters become 0 and
    /// keep their moments, the others follow the float64 update.</summary>
    private void OptimizerChecks()
    {
        const int p = 1031;
        var mask = Enumerable.Range(0, p).Select(i => i % 7 == 3 ? 0f : 1f).ToArray();
        using var dmask = Upload(mask);
        foreach (var kind in Enum.GetValues<Update>())
        {
            float[] w = Random(R * p), g = Random(R * p), m = Random(R * p, -0.1f, 0.1f), v = Random(R * p, 0.01f, 0.1f);
            using var dw = Upload(w);
            using var dg = Upload(g);
            using var dm = Upload(m);
            using var dv = Upload(v);
            var s = new OptimizerStep
            {
                LearningRate = 0.01f, Beta1 = 0.9f, Beta2 = 0.99f, Epsilon = 1e-8f, WeightDecay = 0.01f, Correction1 = 0.1f, Correction2 = 0.01f,
                Nesterov = kind == Update.Nesterov ? 1 : 0, ParamsPerNet = p, HasMask = 1,
            };
            switch (kind)
            {
                case Update.Sgd: device.Optimizers.Sgd(dw.View, dg.View, dmask.View, s); break;
                case Update.Adam: device.Optimizers.Adam(dw.View, dg.View, dm.View, dv.View, dmask.View, s); break;
                default: device.Optimizers.Momentum(dw.View, dg.View, dm.View, dmask.View, s); break;
            }
            var (ew, em, ev) = ExpectedUpdate(kind, s, w, g, m, v, mask);
            string name = $"{kind} {R}x{p} masked";
            Record(name + ": parameters", Compare(dw.GetAsArray1D(), ew), ElementTolerance);
            Record(name + ": moments", Math.Max(Compare(dm.GetAsArray1D(), em), Compare(dv.GetAsArray1D(), ev)), ElementTolerance);
        }
    }

    private static (double[] W, double[] M, double[] V) ExpectedUpdate(Update kind, OptimizerStep s, float[] w, float[] g, float[] m, float[] v, float[] mask)
    {
        double[] ew = new double[w.Length], em = m.Select(x => (double)x).ToArray(), ev = v.Select(x => (double)x).ToArray();
        for (int i = 0; i < w.Length; i++)
        {
            if (mask[i % mask.Length] == 0f) continue; // ew stays 0; the moments keep their values
            double wi = w[i], gi = g[i], lr = s.LearningRate, wd = s.WeightDecay;
            switch (kind)
            {
                case Update.Sgd:
                    ew[i] = wi - lr * (gi + wd * wi);
                    break;
                case Update.Adam:
                    em[i] = s.Beta1 * m[i] + (1 - s.Beta1) * gi;
                    ev[i] = s.Beta2 * v[i] + (1 - s.Beta2) * gi * gi;
                    ew[i] = wi - lr * wd * wi - lr * (em[i] / s.Correction1) / (Math.Sqrt(ev[i] / s.Correction2) + s.Epsilon);
                    break;
                default:
                    double gw = gi + wd * wi;
                    em[i] = s.Beta1 * m[i] + gw;
                    ew[i] = wi - lr * (kind == Update.Nesterov ? gw + s.Beta1 * em[i] : em[i]);
                    break;
            }
        }
        return (ew, em, ev);
    }

    /// <summary>Rows gathered by a permutation for two copies with gaps between them, the gaps left poisoned; and the
    /// masked-gradient clear.</summary>
    private void GatherCheck()
    {
        const int n = 61, f = O, copies = 2, offset = 5, rows = B;
        long srcStride = (long)n * f + 3, dstStride = (long)rows * f + 2;
        var src = Random(copies * srcStride);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        using var ds = Upload(src);
        using var di = device.Accelerator.Allocate1D(order);
        using var dst = Upload(Nan(copies * dstStride));
        device.Gather.Rows(ds.View, di.View, dst.View, offset, rows, f, copies, srcStride, dstStride);
        var expected = new double[copies * dstStride];
        Array.Fill(expected, double.NaN);
        for (int c = 0; c < copies; c++)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < f; j++)
                    expected[c * dstStride + r * f + j] = src[c * srcStride + (long)order[offset + r] * f + j];
        Record($"gather {copies}x{rows}x{f} of {n} rows, gaps", Compare(dst.GetAsArray1D(), expected), 0);

        const int p = 1031;
        var mask = Enumerable.Range(0, p).Select(i => i % 5 == 1 ? 0f : 1f).ToArray();
        var grad = Random(R * p);
        using var dmask = Upload(mask);
        using var dg = Upload(grad);
        device.Optimizers.ZeroMasked(dg.View, dmask.View, p);
        var cleared = grad.Select((x, i) => mask[i % p] == 0f ? 0.0 : x).ToArray();
        Record($"zero masked {R}x{p}", Compare(dg.GetAsArray1D(), cleared), 0);
    }
}
