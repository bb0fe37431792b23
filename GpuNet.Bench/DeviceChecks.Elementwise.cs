using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Bench;

internal sealed partial class DeviceChecks
{
    // R restarts, B rows, O outputs: primes, none a multiple of a group or warp.
    private const int R = 3, B = 37, O = 29;

    private void ElementwiseChecks()
    {
        foreach (var act in Enum.GetValues<Activation>()) ActivationChecks(act);
        SoftmaxCheck();
        foreach (var (loss, output) in new[] { (LossFunction.MeanSquaredError, Activation.Identity), (LossFunction.MeanSquaredError, Activation.Logistic),
                     (LossFunction.MeanAbsoluteError, Activation.Identity), (LossFunction.CrossEntropy, Activation.Identity),
                     (LossFunction.BinaryCrossEntropy, Activation.Identity) })
            LossCheck(loss, output);
        foreach (int width in new[] { O, 1 }) SumChecks(1031, width);
        OptimizerChecks();
        GatherCheck();
    }

    private static double Forward(Activation act, double a) => act switch
    {
        Activation.Logistic => 1 / (1 + Math.Exp(-a)),
        Activation.Tanh => Math.Tanh(a),
        Activation.Relu => Math.Max(0, a),
        _ => a,
    };

    private static double DerivativeFromOutput(Activation act, double z) => act switch
    {
        Activation.Logistic => z * (1 - z),
        Activation.Tanh => 1 - z * z,
        Activation.Relu => z > 0 ? 1 : 0,
        _ => 1,
    };

    private void ActivationChecks(Activation act)
    {
        const int p = O + 5; // a parameter block per network, the bias at offset 2
        var z = Random(R * B * O, -3f, 3f);
        var par = Random(R * p);
        using var dz = Upload(z);
        using var dp = Upload(par);
        device.Elementwise.BiasActivate(act, dz.View, dp.View, 2, p, B, O);
        var zOut = dz.GetAsArray1D();
        var expected = new double[z.Length];
        for (int i = 0; i < z.Length; i++) expected[i] = Forward(act, z[i] + (double)par[i / (B * O) * p + 2 + i % O]);
        Record($"bias + {act.Name()} {R}x{B}x{O}", Compare(zOut, expected), ElementTolerance);
        if (act == Activation.Identity) return;

        var delta = Random(z.Length);
        using var dd = Upload(delta);
        device.Elementwise.ActivationBackward(act, dd.View, dz.View, z.Length);
        for (int i = 0; i < z.Length; i++) expected[i] = delta[i] * DerivativeFromOutput(act, zOut[i]);
        Record($"{act.Name()} backward {z.Length}", Compare(dd.GetAsArray1D(), expected), ElementTolerance);

        // σ over the first n elements only; the rest keeps its poison.
        int n = z.Length - 3;
        var withTail = z.Concat(Nan(3)).ToArray();
        using var da = Upload(withTail);
        device.Elementwise.Apply(act, da.View, n);
        var applied = new double[withTail.Length];
        for (int i = 0; i < applied.Length; i++) applied[i] = i < n ? Forward(act, z[i]) : i < z.Length ? z[i] : double.NaN;
        Record($"{act.Name()} apply {n} of {withTail.Length}", Compare(da.GetAsArray1D(), applied), ElementTolerance);
    }

    private void SoftmaxCheck()
    {
        var z = Random(R * B * O, -5f, 5f);
        using var dz = Upload(z);
        device.Elementwise.SoftmaxRows(dz.View, R * B, O);
        var expected = new double[z.Length];
        for (int r = 0; r < R * B; r++)
        {
            double max = z.Skip(r * O).Take(O).Max(), sum = 0;
            for (int o = 0; o < O; o++) sum += Math.Exp(z[r * O + o] - max);
            for (int o = 0; o < O; o++) expected[r * O + o] = Math.Exp(z[r * O + o] - max) / sum;
        }
        Record($"softmax rows {R * B}x{O}", Compare(dz.GetAsArray1D(), expected), ElementTolerance);
    }

    /// <summary>Per-row loss and δ against float64, per-network targets (stride B·O).</summary>
    private void LossCheck(LossFunction loss, Activation output)
    {
        var a = Random(R * B * O, -3f, 3f);
        var z = a.Select(v => (float)Forward(output, v)).ToArray();
        var y = new float[R * B * O];
        for (int r = 0; r < R * B; r++)
            if (loss == LossFunction.CrossEntropy) y[r * O + rng.Next(O)] = 1f;
            else for (int o = 0; o < O; o++) y[r * O + o] = loss == LossFunction.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble();
        using var dz = Upload(z);
        using var dy = Upload(y);
        using var delta = Upload(Nan(z.Length));
        using var rowLoss = Upload(Nan(R * B));
        const float scale = 1f / B;
        GpuNet.Compute.Loss.Create(device, loss, output).Evaluate(new LossArgs
        {
            Output = dz.View, Targets = dy.View, Delta = delta.View, RowLoss = rowLoss.View,
            Restarts = R, Rows = B, Width = O, TargetStride = (long)B * O, GradScale = scale,
        });
        var expLoss = new double[R * B];
        var expDelta = new double[z.Length];
        for (int r = 0; r < R * B; r++) RowLoss(loss, output, z, y, r, expLoss, expDelta, scale);
        string name = $"loss {loss.Name()}/{output.Name()} {R}x{B}x{O}";
        Record(name + " row loss", Compare(rowLoss.GetAsArray1D(), expLoss), ElementTolerance);
        Record(name + " delta", Compare(delta.GetAsArray1D(), expDelta), ElementTolerance);
    }

    private static void RowLoss(LossFunction loss, Activation output, float[] z, float[] y, int r, double[] rowLoss, double[] delta, double scale)
    {
        int at = r * O;
        double sum = 0;
        if (loss == LossFunction.CrossEntropy)
        {
            double max = double.NegativeInfinity, exp = 0;
            for (int o = 0; o < O; o++) max = Math.Max(max, z[at + o]);
            for (int o = 0; o < O; o++) exp += Math.Exp(z[at + o] - max);
            double log = Math.Log(exp);
            for (int o = 0; o < O; o++)
            {
                sum -= y[at + o] * (z[at + o] - max - log);
                delta[at + o] = scale * (Math.Exp(z[at + o] - max - log) - y[at + o]);
            }
            rowLoss[r] = sum;
            return;
        }
        for (int o = 0; o < O; o++)
        {
            double v = z[at + o], t = y[at + o], d = v - t;
            (double l, double g) = loss switch
            {
                LossFunction.MeanSquaredError => (d * d, 2 * d * DerivativeFromOutput(output, v)),
                LossFunction.MeanAbsoluteError => (Math.Abs(d), Math.Sign(d) * DerivativeFromOutput(output, v)),
                _ => (Math.Max(v, 0) - v * t + Math.Log(1 + Math.Exp(-Math.Abs(v))), 1 / (1 + Math.Exp(-v)) - t),
            };
            sum += l;
            delta[at + o] = scale * g / O;
        }
        rowLoss[r] = sum / O;
    }

    /// <summary>Column sums written into a strided destination, and accumulated in float64 (width 1: the run sums).</summary>
    private void SumChecks(int rows, int width)
    {
        var src = Random(R * rows * width);
        using var ds = Upload(src);
        long stride = width + 4, offset = 3;
        using var dst = Upload(Nan((int)(R * stride)));
        device.Reductions.ColumnSum(ds.View, dst.View, offset, stride, R, rows, width);
        var expected = new double[R * stride];
        Array.Fill(expected, double.NaN);
        var sums = new double[R * width];
        for (int s = 0; s < R; s++)
            for (int w = 0; w < width; w++)
            {
                for (int b = 0; b < rows; b++) sums[s * width + w] += src[((long)s * rows + b) * width + w];
                expected[s * stride + offset + w] = sums[s * width + w];
            }
        // Float64 sums of float32 inputs, rounded once to float32: half an ulp of the result.
        Record($"column sum {R}x{rows}x{width} ({device.Reductions.DefaultVariant})", Compare(dst.GetAsArray1D(), expected), U);

        var start = Enumerable.Range(0, R * width).Select(i => 0.25 * i).ToArray();
        using var acc = device.Accelerator.Allocate1D(start);
        device.Reductions.ColumnSumAccumulate(ds.View, acc.View, R, rows, width);
        var got = acc.GetAsArray1D();
        double worst = 0;
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - (start[i] + sums[i])) / Math.Max(1, Math.Abs(sums[i])));
        // Float64 throughout, only the order differs from the reference: ~rows·2⁻⁵³.
        Record($"column sum accumulate {R}x{rows}x{width}", double.IsNaN(worst) ? double.PositiveInfinity : worst, 1e-12);
    }
}
