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
            d.Elementwise.BiasActivate(act, dz.View, dp.View, 2, p, b, o);
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
            d.Elementwise.ActivationBackward(act, dg.View, dz.View, z.Length);
            var gotG = TestData.Download(dg, g.Length);
            var expG = new double[g.Length];
            for (int i = 0; i < g.Length; i++) expG[i] = g[i] * Reference.Derivative(act, aRef[i]);
            Tolerances.AssertClose(gotG, expG, Tolerances.ActivationDerivative, $"{act} backward {k}×{b}×{o}");
        }
    }

    /// <summary>The output function applied in place at prediction time (<c>Network.Predict</c> with a logistic
    /// output): the first n elements become σ(z), the rest of the buffer is left alone, NaN stays NaN.</summary>
    [Theory]
    [MemberData(nameof(DeviceActivations))]
    public void ApplyMatchesReferenceOnTheFirstNElementsOnly(string device, Activation act)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(41 + (int)act);
        // (n, elements past n): 1, primes and more than the 8 threads of a CPU launch (grid-stride loop), with and
        // without a tail that must be left alone.
        foreach (var (n, spare) in new[] { (1, 0), (1, 2), (7, 3), (37, 1), (221, 0) })
        {
            var z = TestData.Uniform(rng, n + spare, -6f, 6f);
            z[0] = 0f; // ReLU's kink and the logistic's centre
            if (n > 2) { z[1] = 100f; z[2] = -100f; } // saturated: exp(∓100) must not turn into NaN
            if (n > 3) z[3] = float.NaN;
            for (int i = n; i < z.Length; i++) z[i] = -1000f - i; // past n: must keep these values (σ would change them)
            using var dz = TestData.Upload(d, z);
            d.Elementwise.Apply(act, dz.View, n);
            var got = TestData.Download(dz, z.Length);
            for (int i = n; i < z.Length; i++) Assert.Equal(z[i], got[i]);
            if (n > 3) { Assert.True(float.IsNaN(got[3]), $"{act} of NaN gave {got[3]}"); got[3] = 0f; }
            var expected = new double[n];
            for (int i = 0; i < n; i++) expected[i] = i == 3 ? 0.0 : Reference.Activate(act, z[i]);
            Tolerances.AssertClose(got[..n], expected, Tolerances.ElementWise, $"{act} applied to {n} of {n + spare}");
        }
    }

    /// <summary>(rows, width) of the softmax test: the standard shapes' K·B rows of width O, one row of one, and 1031
    /// rows, far more than the 8 threads of a launch on the 2x2x2 CPU device, so the grid-stride loop takes many turns.</summary>
    public static IEnumerable<(int Rows, int Width)> SoftmaxShapes() =>
        Shapes.Select(s => (s.K * s.B, s.O)).Append((1, 1)).Append((1031, 3));

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void SoftmaxRowsMatchesReferenceEvenForHugeLogits(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(5);
        foreach (var (rows, width) in SoftmaxShapes())
        {
            const int spare = 3; // past the matrix: must be left alone
            var z = TestData.Uniform(rng, rows * width + spare, -5f, 5f);
            for (int i = rows * width; i < z.Length; i++) z[i] = float.NaN;
            // Logits of ±1e4 in the first and last rows: exp would overflow or underflow without the max shift.
            z[rng.Next(width)] = 1e4f;
            z[(rows - 1) * width + rng.Next(width)] = -1e4f;
            using var dz = TestData.Upload(d, z);
            d.Elementwise.SoftmaxRows(dz.View, rows, width);
            var all = TestData.Download(dz, z.Length);
            for (int i = rows * width; i < z.Length; i++) Assert.True(float.IsNaN(all[i]), $"softmax {rows}×{width} wrote element {i} past the matrix");
            var got = all[..(rows * width)];
            var expected = new double[rows * width];
            for (int r = 0; r < rows; r++)
            {
                double max = Enumerable.Range(0, width).Max(o => (double)z[r * width + o]);
                double sum = Enumerable.Range(0, width).Sum(o => Math.Exp(z[r * width + o] - max));
                for (int o = 0; o < width; o++) expected[r * width + o] = Math.Exp(z[r * width + o] - max) / sum;
            }
            // Per element: the float32 shift x = z − max is off by ≤ u·|x| (|x| ≤ 10 here, or the exp is 0 in both),
            // which exp turns into a relative error ≤ 10u; exp itself, the width-term sum and the reciprocal and
            // product add ≤ (width + 3)u. So (width + 13)u ≥ every element's relative error, hence the norm's.
            Tolerances.AssertClose(got, expected, (width + 13) * Tolerances.U, $"softmax {rows}×{width}");
        }
    }

    public static TheoryData<string, LossFunction, Activation> LossCases()
    {
        var data = new TheoryData<string, LossFunction, Activation>();
        foreach (var d in TestDevices.Devices)
        {
            foreach (var a in Enum.GetValues<Activation>())
            {
                data.Add(TestDevices.Name(d), LossFunction.MeanSquaredError, a);
                data.Add(TestDevices.Name(d), LossFunction.MeanAbsoluteError, a);
            }
            data.Add(TestDevices.Name(d), LossFunction.CrossEntropy, Activation.Identity);
            data.Add(TestDevices.Name(d), LossFunction.BinaryCrossEntropy, Activation.Identity);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LossCases))]
    public void LossesMatchReference(string device, LossFunction loss, Activation output)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(77 + (int)loss * 10 + (int)output);
        foreach (var (k, b, o0) in Shapes)
        foreach (bool perNetTargets in new[] { false, true }) // shared targets (stride 0) and one set per network
        {
            int o = loss == LossFunction.CrossEntropy ? Math.Max(o0, 2) : o0;
            // z holds what the output layer produced: σ(a) for a random a.
            var a = TestData.Uniform(rng, k * b * o, -3f, 3f);
            if (loss is LossFunction.CrossEntropy or LossFunction.BinaryCrossEntropy && a.Length > 2) { a[0] = 1e4f; a[1] = -1e4f; }
            var z = Array.ConvertAll(a, v => (float)Reference.Activate(output, v));
            int yCopies = perNetTargets ? k : 1;
            var y = new float[yCopies * b * o];
            for (int r = 0; r < yCopies * b; r++)
                if (loss == LossFunction.CrossEntropy) y[r * o + rng.Next(o)] = 1f;
                else for (int j = 0; j < o; j++) y[r * o + j] = loss == LossFunction.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble();
            using var dz = TestData.Upload(d, z);
            using var dy = TestData.Upload(d, y);
            using var delta = TestData.Poisoned(d, z.Length);
            using var rowLoss = TestData.Poisoned(d, k * b);
            float scale = 1f / b;
            GpuNet.Compute.Loss.Create(d, loss, output).Evaluate(new LossArgs
            {
                Output = dz.View, Targets = dy.View, Delta = delta.View, RowLoss = rowLoss.View,
                Restarts = k, Rows = b, Width = o, TargetStride = perNetTargets ? (long)b * o : 0, GradScale = scale,
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
                        LossFunction.MeanSquaredError => GpuNet.LossFunction.MeanSquaredError,
                        LossFunction.MeanAbsoluteError => GpuNet.LossFunction.MeanAbsoluteError,
                        LossFunction.CrossEntropy => GpuNet.LossFunction.CrossEntropy,
                        _ => GpuNet.LossFunction.BinaryCrossEntropy,
                    };
                    // The kernel sees the float32 z; the reference recomputes σ' from a, so feed it z's own a.
                    var (l, dl) = Networks.ReferenceNet.RowLoss(fn, output, aRow, zRow, yr);
                    expLoss[row] = l;
                    for (int j = 0; j < o; j++) expDelta[row * o + j] = dl[j] * scale;
                }
            string what = $"{loss}/{output} {k}×{b}×{o} per-network targets={perNetTargets}";
            Tolerances.AssertClose(gotLoss, expLoss, Tolerances.Loss, $"{what}: row loss");
            // The kernel forms σ' from the float32 z (z rounded by ≤ u/2), the reference from a: for |a| ≤ 3 that costs
            // ≤ (u/2)·2z²/(1 − z²) ≈ 100u for tanh (z = tanh 3) and ≤ (u/2)·z/(1 − z) ≈ 10u for the logistic, on
            // top of the loss's own few ulps: ≤ 1e-5 per element, so twice Tolerances.Loss for the norm.
            Tolerances.AssertClose(gotDelta, expDelta, Tolerances.Loss * 2, $"{what}: delta");
        }
    }

    /// <summary>The accuracy kernel against a plain count: arg-max of the outputs against arg-max of the targets
    /// (first index on ties, in either) for O &gt; 1, both sides thresholded for O = 1 (output &gt; threshold, target
    /// &gt; 0.5; an output exactly at the threshold is class 0), for 0.5 (probabilities) and 0 (logits), with
    /// shared and per-network targets.</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void CorrectCountsHitsLikeTheReference(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(8);
        static int ArgMax(float[] a, int start, int width)
        {
            int best = 0;
            for (int o = 1; o < width; o++) if (a[start + o] > a[start + best]) best = o;
            return best;
        }
        foreach (var (k, b, o) in Shapes.Append((2, 11, 2)).Append((4, 9, 1)))
        foreach (float threshold in o == 1 ? new[] { 0.5f, 0f } : new[] { 0f })
        foreach (bool perNetTargets in new[] { false, true })
        {
            int yCopies = perNetTargets ? k : 1;
            var y = new float[yCopies * b * o];
            var z = TestData.Uniform(rng, k * b * o, threshold - 1f, threshold + 1f);
            for (int row = 0; row < k * b; row++)
            {
                int zb = row * o, yb = ((perNetTargets ? row / b * b : 0) + row % b) * o;
                if (o == 1)
                {
                    if (row % 3 == 1) z[zb] = threshold; // on the threshold: predicts class 0
                    if (!perNetTargets && row >= b) continue; // shared targets: drawn for the first network
                    y[yb] = rng.Next(2);
                    continue;
                }
                if (row % 4 == 1)
                {
                    // A tie at the top of the outputs between i < j: the prediction is i.
                    int i = rng.Next(o - 1), j = i + 1 + rng.Next(o - 1 - i);
                    z[zb + i] = z[zb + j] = threshold + 2f;
                }
                if (!perNetTargets && row >= b) continue;
                int label = rng.Next(2) == 0 ? ArgMax(z, zb, o) : rng.Next(o); // about half the rows are hits
                if (row % 5 == 3)
                {
                    // Tied targets (say 0.5 and 0.5): the label is the first of them.
                    int other = rng.Next(o);
                    y[yb + label] = y[yb + other] = 0.5f;
                }
                else y[yb + label] = 1f;
            }
            using var dz = TestData.Upload(d, z);
            using var dy = TestData.Upload(d, y);
            using var hits = TestData.Poisoned(d, k * b + 2);
            d.Losses.Correct(dz.View, dy.View, hits.View, k, b, o, perNetTargets ? (long)b * o : 0, threshold);
            var got = TestData.Download(hits, k * b + 2);
            string what = $"{k}×{b}×{o} threshold {threshold} per-network targets={perNetTargets}";
            int expectedHits = 0;
            for (int row = 0; row < k * b; row++)
            {
                int zb = row * o, yb = ((perNetTargets ? row / b * b : 0) + row % b) * o;
                bool hit = o == 1 ? (z[zb] > threshold) == (y[yb] > 0.5f) : ArgMax(z, zb, o) == ArgMax(y, yb, o);
                expectedHits += hit ? 1 : 0;
                Assert.True(got[row] == (hit ? 1f : 0f), $"{what}: row {row} is {got[row]}, expected {(hit ? 1 : 0)}");
            }
            Assert.True(float.IsNaN(got[k * b]) && float.IsNaN(got[k * b + 1]), $"{what}: written past the rows");
            // Both outcomes occur, so a kernel answering always 1 or always 0 cannot pass.
            if (k * b >= 6) Assert.InRange(expectedHits, 1, k * b - 1);
        }
    }

    /// <summary>The divergence watch: a network whose loss sum is NaN or ±∞ gets the step number, once; a network
    /// already flagged keeps its first step, and a finite sum (however large) is never flagged.</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void FlagNonFiniteRecordsOnlyTheFirstBadStep(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(9);
        double[] bad = [double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        double[] good = [0.0, -0.0, 1.5, -3e300, double.MaxValue, double.Epsilon];
        foreach (int n in new[] { 1, 7, 37 })
        {
            var sums = new double[n];
            var first = new long[n + 2];
            for (int i = 0; i < n; i++)
            {
                sums[i] = rng.Next(2) == 0 ? bad[rng.Next(bad.Length)] : good[rng.Next(good.Length)];
                first[i] = rng.Next(3) == 0 ? 3 : -1; // some flagged at step 3 already
            }
            if (n > 1) { sums[0] = double.NaN; first[0] = -1; sums[1] = double.PositiveInfinity; first[1] = 3; }
            first[n] = first[n + 1] = -7; // past the networks: must stay
            using var dSums = d.Accelerator.Allocate1D(sums);
            using var dFirst = d.Accelerator.Allocate1D(first);
            var expected = (long[])first.Clone();
            foreach (long step in new long[] { 5, 9 })
            {
                d.Losses.FlagNonFinite(dSums.View, dFirst.View, step);
                for (int i = 0; i < n; i++)
                    if (expected[i] < 0 && !double.IsFinite(sums[i])) expected[i] = step;
                Assert.Equal(expected, dFirst.GetAsArray1D());
                // Between the steps, more sums go bad; earlier flags must not move.
                for (int i = 0; i < n; i += 3) sums[i] = double.NegativeInfinity;
                dSums.CopyFromCPU(sums);
            }
            if (n > 1) Assert.Equal(5, dFirst.GetAsArray1D()[0]);
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
        data.Add(TestDevices.Name(TestDevices.WideGpuShaped), ReductionVariant.Tree);
        return data;
    }

    [Theory]
    [MemberData(nameof(ReductionCases))]
    public void ColumnSumsMatchReference(string device, ReductionVariant variant)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(3);
        // The 1024-thread device pays ~10 ms a barrier on the CPU accelerator: a run of width 1 (one group a run), and
        // columns over three 8-column groups with rows enough for the 128 row lanes' four-row loop.
        var shapes = d == TestDevices.WideGpuShaped ? [(3, 5, 1), (2, 1031, 11)] : Shapes.Append((2, 1031, 37)).ToArray();
        foreach (var (k, b, o) in shapes)
        {
            var src = TestData.Uniform(rng, k * b * o);
            using var ds = TestData.Upload(d, src);
            long stride = o + 4, offset = 3;
            using var dst = TestData.Poisoned(d, (int)(k * stride));
            d.Reductions.ColumnSum(ds.View, dst.View, offset, stride, k, b, o, variant);
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
            d.Reductions.ColumnSumAccumulate(ds.View, accBuf.View, k, b, o, variant);
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

    public enum OptimizerKernel { Sgd, Momentum, Nesterov, Adam, AdamW }

    public static TheoryData<string, OptimizerKernel, bool> OptimizerCases()
    {
        var data = new TheoryData<string, OptimizerKernel, bool>();
        foreach (var d in TestDevices.Devices)
            foreach (var kind in Enum.GetValues<OptimizerKernel>())
                foreach (bool hasMask in new[] { false, true })
                    data.Add(TestDevices.Name(d), kind, hasMask);
        return data;
    }

    /// <summary>Two consecutive steps on the same buffers, so the carried moments matter, against the float64
    /// optimizers of <see cref="Reference"/>: parameters and every moment buffer are downloaded and compared after
    /// each step. With a mask, masked parameters must become exactly 0 and their moments keep their bits; without
    /// one (HasMask 0), the very same mask buffer, zeros included, must be ignored.</summary>
    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void OptimizersMatchReferenceOverTwoStepsAndHonourTheMask(string device, OptimizerKernel kind, bool hasMask)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(12 + 2 * (int)kind + (hasMask ? 1 : 0));
        // (R restarts, P parameters): 1s, primes, and more parameters than the CPU launch has threads (8), so
        // the grid-stride loop runs more than once.
        foreach (var (k, p) in new[] { (1, 1), (1, 7), (3, 17), (5, 13) })
        {
            // Random non-zero moments and parameters everywhere, masked ones included, so that "left alone" and
            // "set to 0" are both visible. The mask has at least one 0 whenever P > 1.
            var mask = Enumerable.Range(0, p).Select(i => i % 5 == 2 || (p > 1 && i == p - 1) ? 0f : 1f).ToArray();
            var w = TestData.Uniform(rng, k * p);
            var m = TestData.Uniform(rng, k * p, -0.1f, 0.1f);
            var v = TestData.Uniform(rng, k * p, 0.01f, 0.1f);
            using var dw = TestData.Upload(d, w);
            using var dm = TestData.Upload(d, m);
            using var dv = TestData.Upload(d, v);
            using var dmask = TestData.Upload(d, mask);
            double[] rw = TestData.ToDouble(w), rm = TestData.ToDouble(m), rv = TestData.ToDouble(v);
            float[]? refMask = hasMask ? mask : null;
            const float beta1 = 0.9f, beta2 = 0.99f;
            float wd = kind is OptimizerKernel.Adam ? 0f : 0.05f;
            for (int t = 1; t <= 2; t++)
            {
                var g = TestData.Uniform(rng, k * p);
                using var dg = TestData.Upload(d, g);
                var s = new OptimizerStep
                {
                    LearningRate = t == 1 ? 0.1f : 0.05f, Beta1 = beta1, Beta2 = beta2, Epsilon = 1e-8f, WeightDecay = wd,
                    // As the engine computes them for step t.
                    Correction1 = (float)(1 - Math.Pow(beta1, t)), Correction2 = (float)(1 - Math.Pow(beta2, t)),
                    Nesterov = kind == OptimizerKernel.Nesterov ? 1 : 0, ParamsPerNet = p, HasMask = hasMask ? 1 : 0,
                };
                var rg = TestData.ToDouble(g);
                switch (kind)
                {
                    case OptimizerKernel.Sgd:
                        d.Optimizers.Sgd(dw.View, dg.View, dmask.View, s);
                        Reference.Sgd(rw, rg, refMask, p, s.LearningRate, s.WeightDecay);
                        break;
                    case OptimizerKernel.Momentum or OptimizerKernel.Nesterov:
                        d.Optimizers.Momentum(dw.View, dg.View, dm.View, dmask.View, s);
                        Reference.Momentum(rw, rg, rm, refMask, p, s.LearningRate, s.Beta1, s.WeightDecay, s.Nesterov != 0);
                        break;
                    default:
                        d.Optimizers.Adam(dw.View, dg.View, dm.View, dv.View, dmask.View, s);
                        Reference.Adam(rw, rg, rm, rv, refMask, p, s.LearningRate, s.Beta1, s.Beta2, s.Epsilon, s.WeightDecay,
                            s.Correction1, s.Correction2);
                        break;
                }
                string what = $"{kind} step {t} K={k} P={p} mask={hasMask}";
                var gotW = TestData.Download(dw, w.Length);
                var gotM = TestData.Download(dm, m.Length);
                var gotV = TestData.Download(dv, v.Length);
                // Each updated value is at most ~8 float32 operations (Adam: two products and a sum per moment, a
                // quotient, a square root, a quotient and two subtractions) on operands of size ≤ 1 (v ≥ 0.01 keeps
                // Adam's √v far from ε), each rounding by ≤ u of its operands, and two steps compound it: ≈ 16u ≈ 1e-6
                // of the operands. A sum like 0.9m + 0.1g may cancel, so that is 1e-6 · √n absolute (n values) besides
                // 1e-6 relative. A wrong or missing term (λw = 0.05w, a factor β or 1 − β, the old moment) is ≥ 1e-3.
                double abs = Tolerances.ElementWise * Math.Sqrt(w.Length);
                Tolerances.AssertClose(gotW, rw, Tolerances.ElementWise, abs, $"{what}: w");
                // Moments: momentum's buffer is m (v unused); Adam's m and v. A buffer a kernel must not use is
                // compared with its untouched start.
                Tolerances.AssertClose(gotM, rm, Tolerances.ElementWise, abs, $"{what}: first moment");
                Tolerances.AssertClose(gotV, rv, Tolerances.ElementWise, abs, $"{what}: second moment");
                for (int i = 0; i < w.Length; i++)
                {
                    if (!hasMask || mask[i % p] != 0f) continue;
                    Assert.True(gotW[i] == 0f, $"{what}: masked parameter {i} is {gotW[i]}, not 0");
                    Assert.True(BitConverter.SingleToInt32Bits(gotM[i]) == BitConverter.SingleToInt32Bits(m[i]), $"{what}: masked first moment {i} changed");
                    Assert.True(BitConverter.SingleToInt32Bits(gotV[i]) == BitConverter.SingleToInt32Bits(v[i]), $"{what}: masked second moment {i} changed");
                }
                if (!hasMask && p > 1)
                    for (int i = 0; i < w.Length; i++)
                        if (mask[i % p] == 0f) Assert.True(gotW[i] != 0f, $"{what}: without a mask, parameter {i} was zeroed");
            }
        }
    }

    /// <summary>Rows gathered by an index list, for one and several copies, with copies packed and with gaps between
    /// them in source and destination (the gaps must keep their poison), and a batch large enough that every thread of
    /// the launch runs the four-position loop as well as its tail.</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void GatherRowsCopiesTheIndexedRows(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(4);
        // (dataset rows n, features f, copies, offset, batch rows, source gap, destination gap)
        foreach (var (n, f, copies, offset, rows, srcGap, dstGap) in new[]
                 { (13, 7, 3, 4, 5, 0, 0), (13, 7, 3, 4, 5, 2, 3), (1, 1, 1, 0, 1, 0, 0), (61, 11, 2, 3, 37, 5, 1) })
        {
            long srcStride = (long)n * f + srcGap, dstStride = (long)rows * f + dstGap;
            var src = TestData.Uniform(rng, (int)(copies * srcStride));
            var order = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
            using var ds = TestData.Upload(d, src);
            using var di = d.Accelerator.Allocate1D(order);
            int length = (int)(copies * dstStride);
            using var dst = TestData.Poisoned(d, length);
            d.Gather.Rows(ds.View, di.View, dst.View, offset, rows, f, copies, srcStride, dstStride);
            var got = TestData.Download(dst, length);
            var expected = new float[length];
            Array.Fill(expected, float.NaN);
            for (int c = 0; c < copies; c++)
                for (int r = 0; r < rows; r++)
                    for (int j = 0; j < f; j++)
                        expected[c * dstStride + r * f + j] = src[c * srcStride + order[offset + r] * f + j];
            for (int i = 0; i < length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                    $"{copies}×{rows}×{f} (gaps {srcGap}, {dstGap}): element {i} is {got[i]}, expected {expected[i]}");
        }
    }
}
