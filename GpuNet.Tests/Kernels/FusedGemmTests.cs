using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>
/// The fused step's GEMMs (<see cref="FusedGemmLauncher"/>) against float64 references, on both of their kernels: the
/// large-tile kernel's fused form (its 16×16 test tile, pinned on a CPU accelerator of its own) and the register-blocked
/// kernels the CPU accelerator runs by default. Shapes sit around the 16-wide tile and the 8-deep step; the restarts'
/// parameter blocks and the data's rows have strides that allow 128-bit accesses in one layout and forbid them in the
/// other; every output starts as NaN, and everything but the results must still be NaN afterwards. Both kernels form
/// each sum in k order (and the CPU accelerator does not fuse a·b + c), so they must also agree bit for bit: the large
/// tile is checked against the kernel the rest of the suite already trusts.
/// </summary>
public class FusedGemmTests
{
    private static readonly Lazy<Device> LargeTile = new(() => TestDevices.PinnedCpu(GemmVariant.Large16));

    /// <summary>The same tile with k split where the plan splits it (the forward GEMM only; K ≥ 64 gives 2 slices or
    /// more on this one-multiprocessor device).</summary>
    private static readonly Lazy<Device> SplitTile = new(() => TestDevices.PinnedCpu(GemmVariant.SplitK16));

    /// <summary>(rows of the batch, inputs, outputs): 1, primes, one off the tile, a tile exactly, and inputs deep enough
    /// to split.</summary>
    private static readonly (int B, int I, int O)[] Shapes = [(1, 1, 1), (17, 15, 7), (15, 17, 16), (33, 16, 1), (16, 9, 33), (5, 40, 3), (5, 101, 3)];

    public static TheoryData<bool, bool> Layouts() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    /// <summary>How the restarts' parameters and the data are laid out: with <see cref="Aligned"/> every stride and
    /// offset is a multiple of 4 floats (where the shape allows), else every one is odd.</summary>
    private sealed record Layout(int B, int I, int O, int Count, bool Aligned, bool Ordered, int Seed)
    {
        public int Pad(int cols) => Aligned ? (4 - cols % 4) % 4 : (cols % 2 == 0 ? 1 : 2);
        public int WeightOffset => Aligned ? 4 : 3;
        public int BiasOffset => WeightOffset + O * I + Pad(O * I);
        public int P => BiasOffset + O + Pad(O) + (Aligned || (BiasOffset + O + Pad(O)) % 2 == 1 ? 0 : 1);
        public int DataRows => B + 6;
        public int FirstRow => 3;
        public int Ldx => I + Pad(I);
        private int[]? order;
        /// <summary>The epoch's order of the data's rows (shuffled by <see cref="Seed"/>, once).</summary>
        public int[] Order()
        {
            if (order != null) return order;
            order = Enumerable.Range(0, DataRows).ToArray();
            new Random(Seed).Shuffle(order);
            return order;
        }
        /// <summary>The data's row that batch row b reads.</summary>
        public int Row(int b) => Ordered ? Order()[FirstRow + b] : FirstRow + b;
    }

    private static Device[] Devices => [LargeTile.Value, TestDevices.Cpu];

    /// <summary>Runs <paramref name="check"/> (which checks against the reference and returns the outputs) on the large
    /// tile and on the register-blocked kernels, and asserts that both give the same bits.</summary>
    private static void AssertKernelsAgree(Func<Device, float[]> check)
    {
        var results = Devices.Select(check).ToArray();
        Assert.Equal(results[1], results[0]);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ForwardAddsTheBiasAndAppliesTheActivationAsItStores(bool aligned, bool ordered)
    {
        int seed = 1;
        foreach (var (b, i, o) in Shapes)
            foreach (var act in Enum.GetValues<Activation>())
            {
                var lay = new Layout(b, i, o, Count: 3, aligned, ordered, seed++);
                AssertKernelsAgree(d => Forward(d, lay, act));
                Forward(SplitTile.Value, lay, act);
            }
    }

    private static float[] Forward(Device d, Layout lay, Activation act)
    {
        var rng = new Random(lay.Seed);
        var x = TestData.Uniform(rng, lay.DataRows * lay.Ldx);
        var p = TestData.Uniform(rng, lay.Count * lay.P);
        int ldc = lay.O + lay.Pad(lay.O);
        long strideC = (long)lay.B * ldc + (lay.Aligned ? 0 : 1);
        int cLength = (int)(lay.Count * strideC) + 5;
        using var xb = TestData.Upload(d, x);
        using var pb = TestData.Upload(d, p);
        using var ob = d.Allocate<int>(lay.DataRows);
        ob.View.CopyFromCPU(lay.Order());
        using var cb = TestData.Poisoned(d, cLength);
        var g = new GemmArgs
        {
            A = lay.Ordered ? xb.View : xb.View.SubView((long)lay.FirstRow * lay.Ldx, (long)lay.B * lay.Ldx), Lda = lay.Ldx,
            B = pb.View.SubView(lay.WeightOffset, pb.Length - lay.WeightOffset), Ldb = lay.I, StrideB = lay.P, TransB = 1,
            C = cb.View, Ldc = ldc, StrideC = strideC, M = lay.B, N = lay.O, K = lay.I, Alpha = 1f, Beta = 0f, Count = lay.Count,
        };
        var f = new GemmFusion { Bias = pb.View, BiasOffset = lay.BiasOffset, BiasStride = lay.P, Order = ob.View, FirstRow = lay.FirstRow };
        d.FusedGemm.Forward(act, g, f, lay.Ordered);
        var c = TestData.Download(cb, cLength);
        var expected = new double[cLength];
        Array.Fill(expected, double.NaN);
        for (int z = 0; z < lay.Count; z++)
            for (int r = 0; r < lay.B; r++)
                for (int n = 0; n < lay.O; n++)
                {
                    double sum = 0;
                    for (int k = 0; k < lay.I; k++) sum += (double)x[lay.Row(r) * lay.Ldx + k] * p[z * lay.P + lay.WeightOffset + n * lay.I + k];
                    expected[z * strideC + r * ldc + n] = Reference.Activate(act, sum + p[z * lay.P + lay.BiasOffset + n]);
                }
        AssertMatches(c, expected, Tolerances.Gemm(lay.I) + Tolerances.ElementWise, $"forward {act} {lay} on {d.Info.Name}");
        return c;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void BackwardPairGivesTheWeightAndBiasGradientsAndTheNextDelta(bool aligned, bool oneRestart)
    {
        int seed = 100;
        foreach (var (b, i, o) in Shapes)
            foreach (var act in Enum.GetValues<Activation>())
            {
                var lay = new Layout(b, i, o, Count: oneRestart ? 1 : 3, aligned, Ordered: false, seed++);
                AssertKernelsAgree(d => BackwardPair(d, lay, act));
            }
    }

    private static float[] BackwardPair(Device d, Layout lay, Activation act)
    {
        var rng = new Random(lay.Seed);
        int ldd = lay.O, ldz = lay.I;
        long strideD = (long)lay.B * ldd, strideZ = (long)lay.B * ldz;
        var delta = TestData.Uniform(rng, (int)(lay.Count * strideD));
        var zPrev = TestData.Uniform(rng, (int)(lay.Count * strideZ), -3, 3).Select(v => (float)Reference.Activate(act, v)).ToArray();
        var p = TestData.Uniform(rng, lay.Count * lay.P);
        int gradLength = lay.Count * lay.P, dxLength = (int)(lay.Count * strideZ);
        using var db = TestData.Upload(d, delta);
        using var zb = TestData.Upload(d, zPrev);
        using var pb = TestData.Upload(d, p);
        using var gb = TestData.Poisoned(d, gradLength);
        using var xb = TestData.Poisoned(d, dxLength);
        var dW = new GemmArgs
        {
            A = db.View, Lda = ldd, StrideA = strideD, TransA = 1, B = zb.View, Ldb = ldz, StrideB = strideZ,
            C = gb.View.SubView(lay.WeightOffset, gb.Length - lay.WeightOffset), Ldc = lay.I, StrideC = lay.P,
            M = lay.O, N = lay.I, K = lay.B, Alpha = 1f, Beta = 0f, Count = lay.Count,
        };
        var fW = new GemmFusion { BiasGrad = gb.View, BiasGradOffset = lay.BiasOffset, BiasGradStride = lay.P, HasBiasGrad = 1 };
        var dX = new GemmArgs
        {
            A = db.View, Lda = ldd, StrideA = strideD, B = pb.View.SubView(lay.WeightOffset, pb.Length - lay.WeightOffset), Ldb = lay.I,
            StrideB = lay.P, C = xb.View, Ldc = ldz, StrideC = strideZ, M = lay.B, N = lay.I, K = lay.O, Alpha = 1f, Beta = 0f, Count = lay.Count,
        };
        d.FusedGemm.BackwardPair(act, dW, fW, dX, new GemmFusion { Aux = zb.View });
        var grads = TestData.Download(gb, gradLength);
        var dx = TestData.Download(xb, dxLength);
        var expectedGrads = ExpectedGradients(lay, delta, strideD, ldd, (z, r, k) => zPrev[z * strideZ + r * ldz + k]);
        var expectedDx = new double[dxLength];
        for (int z = 0; z < lay.Count; z++)
        {
            for (int r = 0; r < lay.B; r++)
                for (int k = 0; k < lay.I; k++)
                {
                    long at = z * strideZ + r * ldz + k;
                    double sum = Enumerable.Range(0, lay.O).Sum(n => (double)delta[z * strideD + r * ldd + n] * p[z * lay.P + lay.WeightOffset + n * lay.I + k]);
                    expectedDx[at] = sum * DerivativeFromOutput(act, zPrev[at]);
                }
        }
        AssertMatches(grads, expectedGrads, Tolerances.Gemm(lay.B), $"dW and db {act} {lay} on {d.Info.Name}");
        AssertMatches(dx, expectedDx, Tolerances.Gemm(lay.O) + Tolerances.ElementWise, $"δ {act} {lay} on {d.Info.Name}");
        return [.. grads, .. dx];
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void FirstLayerWeightGradientReadsTheBatchThroughTheOrder(bool aligned, bool ordered)
    {
        int seed = 200;
        foreach (var (b, i, o) in Shapes)
        {
            var lay = new Layout(b, i, o, Count: 3, aligned, ordered, seed++);
            AssertKernelsAgree(d => WeightGradient(d, lay));
        }
    }

    private static float[] WeightGradient(Device d, Layout lay)
    {
        var rng = new Random(lay.Seed);
        int ldd = lay.O;
        long strideD = (long)lay.B * ldd;
        var delta = TestData.Uniform(rng, (int)(lay.Count * strideD));
        var x = TestData.Uniform(rng, lay.DataRows * lay.Ldx);
        int gradLength = lay.Count * lay.P;
        using var db = TestData.Upload(d, delta);
        using var xb = TestData.Upload(d, x);
        using var ob = d.Allocate<int>(lay.DataRows);
        ob.View.CopyFromCPU(lay.Order());
        using var gb = TestData.Poisoned(d, gradLength);
        var g = new GemmArgs
        {
            A = db.View, Lda = ldd, StrideA = strideD, TransA = 1,
            B = lay.Ordered ? xb.View : xb.View.SubView((long)lay.FirstRow * lay.Ldx, (long)lay.B * lay.Ldx), Ldb = lay.Ldx,
            C = gb.View.SubView(lay.WeightOffset, gb.Length - lay.WeightOffset), Ldc = lay.I, StrideC = lay.P,
            M = lay.O, N = lay.I, K = lay.B, Alpha = 1f, Beta = 0f, Count = lay.Count,
        };
        var f = new GemmFusion
        {
            BiasGrad = gb.View, BiasGradOffset = lay.BiasOffset, BiasGradStride = lay.P, HasBiasGrad = 1, Order = ob.View, FirstRow = lay.FirstRow,
        };
        d.FusedGemm.WeightGradient(g, f, lay.Ordered);
        var grads = TestData.Download(gb, gradLength);
        var expected = ExpectedGradients(lay, delta, strideD, ldd, (z, r, k) => x[lay.Row(r) * lay.Ldx + k]);
        AssertMatches(grads, expected, Tolerances.Gemm(lay.B), $"first-layer dW and db {lay} on {d.Info.Name}");
        return grads;
    }

    /// <summary>The deep shape's forward GEMM runs split: the sliced product, then the fused sum.</summary>
    [Fact]
    public void DeepForwardProductsAreSplitAndSummedWithTheEpilogue()
    {
        var d = SplitTile.Value;
        long before = d.Counters.Launches;
        Forward(d, new Layout(5, 101, 3, Count: 3, Aligned: true, Ordered: true, Seed: 7), Activation.Tanh);
        Assert.Equal(2, d.Counters.Launches - before);
        Assert.StartsWith("GemmSplitK.ReduceFused<Tanh>", d.Counters.LastKernel);
    }

    /// <summary>The large tile's plan for the aligned layouts reads and writes 128 bits at a time, so the tests above
    /// cover the vector paths as well as the scalar ones.</summary>
    [Fact]
    public void AlignedLayoutsTakeTheVectorPaths()
    {
        var d = LargeTile.Value;
        using var a = d.Allocate(64);
        var g = new GemmArgs
        {
            A = a.View, Lda = 16, B = a.View.SubView(4, 32), Ldb = 16, StrideB = 16, TransB = 1, C = a.View, Ldc = 8, StrideC = 16,
            M = 2, N = 2, K = 16, Alpha = 1f, Count = 2,
        };
        var plan = d.Gemm.Plan(g);
        Assert.Equal(GemmVariant.Large16, plan.Variant);
        Assert.True(plan.VectorA && plan.VectorB && plan.VectorC, plan.ToString());
    }

    /// <summary>The float64 reference of the restarts' flat gradients [Count, P]: dW[z][n][k] = Σ_r δ[z][r][n]·input(z, r, k)
    /// and db[z][n] = Σ_r δ[z][r][n], with δ[z] at z·<paramref name="strideD"/>, rows <paramref name="ldd"/> apart; NaN
    /// (never written) everywhere else.</summary>
    private static double[] ExpectedGradients(Layout lay, float[] delta, long strideD, int ldd, Func<int, int, int, double> input)
    {
        var expected = new double[lay.Count * lay.P];
        Array.Fill(expected, double.NaN);
        for (int z = 0; z < lay.Count; z++)
            for (int n = 0; n < lay.O; n++)
            {
                for (int k = 0; k < lay.I; k++)
                    expected[z * lay.P + lay.WeightOffset + n * lay.I + k] =
                        Enumerable.Range(0, lay.B).Sum(r => (double)delta[z * strideD + r * ldd + n] * input(z, r, k));
                expected[z * lay.P + lay.BiasOffset + n] = Enumerable.Range(0, lay.B).Sum(r => (double)delta[z * strideD + r * ldd + n]);
            }
        return expected;
    }

    private static double DerivativeFromOutput(Activation act, double z) => act switch
    {
        Activation.Identity => 1.0,
        Activation.Logistic => z * (1.0 - z),
        Activation.Tanh => 1.0 - z * z,
        Activation.Relu => z > 0 ? 1.0 : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>Where the reference is NaN the output must still be NaN (never written); elsewhere it must be finite and
    /// within <paramref name="tolerance"/> (relative, over all results).</summary>
    private static void AssertMatches(float[] actual, double[] expected, double tolerance, string what)
    {
        var got = new List<float>();
        var want = new List<double>();
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i]))
            {
                Assert.True(float.IsNaN(actual[i]), $"{what}: element {i} outside the results was written ({actual[i]})");
                continue;
            }
            Assert.True(float.IsFinite(actual[i]), $"{what}: result {i} is {actual[i]}");
            got.Add(actual[i]);
            want.Add(expected[i]);
        }
        double err = Tolerances.RelativeError(got.ToArray(), want.ToArray());
        Assert.True(err <= tolerance, $"{what}: relative error {err:E2} > {tolerance:E2}");
    }
}
