using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>Every element-wise, loss, reduction, optimizer and gather kernel against a float64 reference,
/// on fresh seeded inputs of awkward sizes, with output buffers poisoned (NaN) first.</summary>
public class ElementwiseTests
{
    // (networks K, rows B, width O): 1s, primes, one off the small group sizes.
    private static readonly (int K, int B, int O)[] Shapes = [(1, 1, 1), (1, 7, 3), (3, 5, 1), (2, 13, 17), (5, 3, 9)];

    public static TheoryData<string, Activation> DeviceActivations()
    {
        var data = new TheoryData<string, Activation>();
        foreach (var d in TestDevices.Devices)
            foreach (var a in Enum.GetValues<Activation>()) data.Add(TestDevices.Name(d), a);
        return data;
    }

    [Theory]
    [MemberData(nameof(DeviceActivations))]
    public void BiasActivateAndBackwardMatchReference(string device, Activation act)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(31 + (int)act);
        foreach (var (k, b, o) in Shapes)
        {
            long p = o + 5; // a parameter block per network, bias at offset 2
            var z = TestData.Uniform(rng, k * b * o, -4f, 4f);
            var par = TestData.Uniform(rng, (int)(k * p));
            using var dz = TestData.Upload(d, z);
            using var dp = TestData.Upload(d, par);
            d.Kernels.BiasActivate(act, dz.View, dp.View, 2, p, b, o);
            var got = TestData.Download(dz, z.Length);
            var expected = new double[z.Length];
            var aRef = new double[z.Length];
            for (int i = 0; i < z.Length; i++)
            {
                int net = i / (b * o), col = i % o;
                aRef[i] = z[i] + (double)par[net * p + 2 + col];
                expected[i] = Reference.Activate(act, aRef[i]);
            }
            Tolerances.AssertClose(got, expected, Tolerances.ElementWise, $"{act} forward {k}×{b}×{o}");

            var g = TestData.Uniform(rng, z.Length);
            using var dg = TestData.Upload(d, g);
            d.Kernels.ActivationBackward(act, dg.View, dz.View, z.Length);
            var gotG = TestData.Download(dg, g.Length);
            var expG = new double[g.Length];
            for (int i = 0; i < g.Length; i++) expG[i] = g[i] * Reference.Derivative(act, aRef[i]);
            Tolerances.AssertClose(gotG, expG, Tolerances.ActivationDerivative, $"{act} backward {k}×{b}×{o}");
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void SoftmaxRowsMatchesReferenceEvenForHugeLogits(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(5);
        int rows = 7, width = 11;
        var z = TestData.Uniform(rng, rows * width, -5f, 5f);
        z[3] = 1e4f; z[width + 2] = -1e4f;
        using var dz = TestData.Upload(d, z);
        d.Kernels.SoftmaxRows(dz.View, rows, width);
        var got = TestData.Download(dz, z.Length);
        var expected = new double[z.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = Enumerable.Range(0, width).Max(o => (double)z[r * width + o]);
            double sum = Enumerable.Range(0, width).Sum(o => Math.Exp(z[r * width + o] - max));
            for (int o = 0; o < width; o++) expected[r * width + o] = Math.Exp(z[r * width + o] - max) / sum;
        }
        Tolerances.AssertClose(got, expected, Tolerances.ElementWise * 4, "softmax");
    }

    public static TheoryData<string, LossKernel, Activation> LossCases()
    {
        var data = new TheoryData<string, LossKernel, Activation>();
        foreach (var d in TestDevices.Devices)
        {
            foreach (var a in Enum.GetValues<Activation>())
            {
                data.Add(TestDevices.Name(d), LossKernel.SquaredError, a);
                data.Add(TestDevices.Name(d), LossKernel.AbsoluteError, a);
            }
            data.Add(TestDevices.Name(d), LossKernel.SoftmaxCrossEntropy, Activation.Identity);
            data.Add(TestDevices.Name(d), LossKernel.BinaryCrossEntropy, Activation.Identity);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossesMatchReference(string device, LossKernel loss, Activation output)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(77 + (int)loss * 10 + (int)output);
        foreach (var (k, b, o0) in Shapes)
        {
            int o = loss == LossKernel.SoftmaxCrossEntropy ? Math.Max(o0, 2) : o0;
            // z holds what the output layer produced: σ(a) for a random a.
            var a = TestData.Uniform(rng, k * b * o, -3f, 3f);
            if (loss is LossKernel.SoftmaxCrossEntropy or LossKernel.BinaryCrossEntropy && a.Length > 2) { a[0] = 1e4f; a[1] = -1e4f; }
            var z = Array.ConvertAll(a, v => (float)Reference.Activate(output, v));
            bool perNetTargets = k > 1 && rng.Next(2) == 0;
            int yCopies = perNetTargets ? k : 1;
            var y = new float[yCopies * b * o];
            for (int r = 0; r < yCopies * b; r++)
                if (loss == LossKernel.SoftmaxCrossEntropy) y[r * o + rng.Next(o)] = 1f;
                else for (int j = 0; j < o; j++) y[r * o + j] = loss == LossKernel.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble();
            using var dz = TestData.Upload(d, z);
            using var dy = TestData.Upload(d, y);
            using var delta = TestData.Poisoned(d, z.Length);
            using var rowLoss = TestData.Poisoned(d, k * b);
            float scale = 1f / b;
            d.Kernels.Loss(loss, output, new LossArgs
            {
                Output = dz.View, Targets = dy.View, Delta = delta.View, RowLoss = rowLoss.View,
                Networks = k, Rows = b, Width = o, TargetStride = perNetTargets ? (long)b * o : 0, GradScale = scale,
            });
            var gotDelta = TestData.Download(delta, z.Length);
            var gotLoss = TestData.Download(rowLoss, k * b);
            var expDelta = new double[z.Length];
            var expLoss = new double[k * b];
            for (int net = 0; net < k; net++)
                for (int r = 0; r < b; r++)
                {
                    int row = net * b + r;
                    var aRow = a.Skip(row * o).Take(o).Select(v => (double)v).ToArray();
                    var zRow = z.Skip(row * o).Take(o).Select(v => (double)v).ToArray();
                    int yRow = (perNetTargets ? net * b : 0) + r;
                    var yr = y.Skip(yRow * o).Take(o).Select(v => (double)v).ToArray();
                    var fn = loss switch
                    {
                        LossKernel.SquaredError => GpuNet.Training.LossFunction.MeanSquaredError,
                        LossKernel.AbsoluteError => GpuNet.Training.LossFunction.MeanAbsoluteError,
                        LossKernel.SoftmaxCrossEntropy => GpuNet.Training.LossFunction.CrossEntropy,
                        _ => GpuNet.Training.LossFunction.BinaryCrossEntropy,
                    };
                    // The kernel sees the float32 z; the reference recomputes σ' from a, so feed it z's own a.
                    var (l, dl) = Networks.ReferenceNet.RowLoss(fn, output, aRow, zRow, yr);
                    expLoss[row] = l;
                    for (int j = 0; j < o; j++) expDelta[row * o + j] = dl[j] * scale;
                }
            Tolerances.AssertClose(gotLoss, expLoss, Tolerances.Loss, $"{loss}/{output} row loss {k}×{b}×{o}");
            Tolerances.AssertClose(gotDelta, expDelta, Tolerances.Loss * 10, $"{loss}/{output} delta {k}×{b}×{o}");
        }
    }

    public static TheoryData<string, ReductionVariant> ReductionCases()
    {
        var data = new TheoryData<string, ReductionVariant>();
        foreach (var d in TestDevices.Devices)
        {
            data.Add(TestDevices.Name(d), ReductionVariant.Direct);
            data.Add(TestDevices.Name(d), ReductionVariant.Tree);
        }
        data.Add(TestDevices.Name(TestDevices.GpuShaped), ReductionVariant.Tree);
        return data;
    }

    [Theory]
    [MemberData(nameof(ReductionCases))]
    public void ColumnSumsMatchReference(string device, ReductionVariant variant)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(3);
        foreach (var (k, b, o) in Shapes.Append((2, 1031, 37)))
        {
            var src = TestData.Uniform(rng, k * b * o);
            using var ds = TestData.Upload(d, src);
            long stride = o + 4, offset = 3;
            using var dst = TestData.Poisoned(d, (int)(k * stride));
            d.Kernels.ColumnSum(ds.View, dst.View, offset, stride, k, b, o, variant);
            var got = TestData.Download(dst, (int)(k * stride));
            var exp = new double[got.Length];
            for (int i = 0; i < got.Length; i++) exp[i] = double.NaN;
            for (int net = 0; net < k; net++)
                for (int c = 0; c < o; c++)
                {
                    double s = 0;
                    for (int r = 0; r < b; r++) s += src[(net * b + r) * o + c];
                    exp[net * stride + offset + c] = s;
                }
            for (int i = 0; i < got.Length; i++)
                if (double.IsNaN(exp[i])) { Assert.True(float.IsNaN(got[i]), $"element {i} outside the columns was written"); got[i] = 0; exp[i] = 0; }
            Tolerances.AssertClose(got, exp, Tolerances.Reduction, $"{variant} column sum {k}×{b}×{o}");

            var accStart = Enumerable.Range(0, k * o).Select(i => 0.5 * i).ToArray();
            using var accBuf = d.Accelerator.Allocate1D(accStart);
            d.Kernels.ColumnSumAccumulate(ds.View, accBuf.View, k, b, o, variant);
            var gotAcc = accBuf.GetAsArray1D();
            for (int net = 0; net < k; net++)
                for (int c = 0; c < o; c++)
                {
                    double s = accStart[net * o + c];
                    for (int r = 0; r < b; r++) s += src[(net * b + r) * o + c];
                    Assert.True(Math.Abs(gotAcc[net * o + c] - s) <= 1e-9 * Math.Max(1, Math.Abs(s)), $"accumulated sum {net},{c}: {gotAcc[net * o + c]} vs {s}");
                }
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void OptimizersMatchReferenceAndKeepMaskedParametersAtZero(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(12);
        const int k = 3, p = 17;
        var mask = Enumerable.Range(0, p).Select(i => i % 5 == 2 ? 0f : 1f).ToArray();
        foreach (int kind in new[] { 0, 1, 2, 3 })
        {
            var w = TestData.Uniform(rng, k * p);
            var g = TestData.Uniform(rng, k * p);
            var m0 = TestData.Uniform(rng, k * p, -0.1f, 0.1f);
            var v0 = TestData.Uniform(rng, k * p, 0f, 0.1f);
            using var dw = TestData.Upload(d, w);
            using var dg = TestData.Upload(d, g);
            using var dm = TestData.Upload(d, m0);
            using var dv = TestData.Upload(d, v0);
            using var dmask = TestData.Upload(d, mask);
            var s = new OptimizerStep
            {
                LearningRate = 0.1f, Beta1 = 0.9f, Beta2 = 0.99f, Epsilon = 1e-8f, WeightDecay = 0.01f,
                Correction1 = 0.19f, Correction2 = 0.0199f, Nesterov = kind == 2 ? 1 : 0, ParamsPerNet = p, HasMask = 1,
            };
            if (kind == 0) d.Kernels.Sgd(dw.View, dg.View, dmask.View, s);
            else if (kind <= 2) d.Kernels.Momentum(dw.View, dg.View, dm.View, dmask.View, s);
            else d.Kernels.Adam(dw.View, dg.View, dm.View, dv.View, dmask.View, s);
            var got = TestData.Download(dw, w.Length);
            var exp = new double[w.Length];
            for (int i = 0; i < w.Length; i++)
            {
                if (mask[i % p] == 0f) { exp[i] = 0; continue; }
                double wi = w[i], gi = g[i], lr = 0.1, wd = 0.01;
                switch (kind)
                {
                    case 0: exp[i] = wi - lr * (gi + wd * wi); break;
                    case 1: { double vi = 0.9 * m0[i] + gi + wd * wi; exp[i] = wi - lr * vi; break; }
                    case 2: { double gg = gi + wd * wi, vi = 0.9 * m0[i] + gg; exp[i] = wi - lr * (gg + 0.9 * vi); break; }
                    default:
                        {
                            double mi = 0.9 * m0[i] + 0.1 * gi, vi = 0.99 * v0[i] + 0.01 * gi * gi;
                            exp[i] = wi - lr * wd * wi - lr * (mi / 0.19) / (Math.Sqrt(vi / 0.0199) + 1e-8);
                            break;
                        }
                }
            }
            Tolerances.AssertClose(got, exp, Tolerances.ElementWise * 10, $"optimizer {kind}");
            for (int i = 0; i < w.Length; i++) if (mask[i % p] == 0f) Assert.Equal(0f, got[i]);
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void GatherRowsCopiesTheIndexedRows(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(4);
        int n = 13, f = 7, copies = 3;
        var src = TestData.Uniform(rng, copies * n * f);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        using var ds = TestData.Upload(d, src);
        using var di = d.Accelerator.Allocate1D(order);
        int offset = 4, rows = 5;
        using var dst = TestData.Poisoned(d, copies * rows * f);
        d.Kernels.GatherRows(ds.View, di.View, dst.View, offset, rows, f, copies, (long)n * f, (long)rows * f);
        var got = TestData.Download(dst, copies * rows * f);
        for (int c = 0; c < copies; c++)
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < f; j++)
                    Assert.Equal(src[c * n * f + order[offset + r] * f + j], got[c * rows * f + r * f + j]);
    }
}
