using GpuNet.Devices;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests.Kernels;

public class GemmTests
{
    // (M, N, K): 1s, primes, one off the 8-wide small tile, M < K and M > K, non-square everywhere.
    public static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 3), (7, 1, 5), (3, 5, 29), (29, 3, 5), (9, 7, 8), (8, 9, 7), (17, 13, 31), (31, 2, 1),
    ];

    /// <summary>Tiled64 on a CPU accelerator: each launch runs 256 OS threads through two barriers per K-step (tens of
    /// ms a launch on 2 cores), so it takes three of <see cref="Shapes"/> (M = N = 1, M &lt; K, M &gt; K, all one
    /// K-step); several tiles and K-steps are <see cref="Tiled64MatchesReference"/>'s. On a GPU it takes every shape.</summary>
    public static readonly (int M, int N, int K)[] Tiled64CpuShapes = [(1, 1, 1), (1, 7, 3), (29, 3, 5)];

    public static TheoryData<string, GemmVariant> Cases()
    {
        var data = new TheoryData<string, GemmVariant>();
        foreach (var d in TestDevices.Devices)
        {
            data.Add(TestDevices.Name(d), GemmVariant.Naive);
            data.Add(TestDevices.Name(d), GemmVariant.Blocked);
            data.Add(TestDevices.Name(d), GemmVariant.Tiled8);
            if (d.Accelerator.MaxNumThreadsPerGroup >= 256) data.Add(TestDevices.Name(d), GemmVariant.Tiled64);
        }
        // The GPU default on the GPU-shaped CPU accelerator, so it runs on every machine.
        data.Add(TestDevices.Name(TestDevices.GpuShaped), GemmVariant.Tiled64);
        return data;
    }

    /// <summary>Which batch entries share an operand (batch stride 0): the engine shares the input batch as A in
    /// the forward pass and as B in the weight gradient.</summary>
    public static readonly (bool A, bool B)[] Sharing = [(false, false), (true, false), (false, true)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Reference(string device, GemmVariant variant)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(1234);
        var shapes = variant == GemmVariant.Tiled64 && d.IsCpu ? Tiled64CpuShapes : Shapes;
        foreach (var (m, n, k) in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckOne(d, variant, rng, m, n, k, ta, tb, batch: 1, shareA: false, shareB: false, alpha: 1f, beta: 0f);
                    foreach (var (shareA, shareB) in Sharing)
                        CheckOne(d, variant, rng, m, n, k, ta, tb, batch: 3, shareA, shareB, alpha: 0.5f, beta: 2f);
                }
    }

    /// <summary>The GPU tile (64×64, 256 threads) on a GPU-shaped CPU accelerator: shapes around one tile
    /// and two, with M &lt; K and M &gt; K.</summary>
    [Theory]
    [InlineData(65, 63, 17, false, true)]
    [InlineData(17, 70, 129, true, false)]
    [InlineData(130, 5, 33, false, false)]
    [InlineData(3, 64, 64, true, true)]
    public void Tiled64MatchesReference(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m * 1000 + n);
        CheckOne(TestDevices.GpuShaped, GemmVariant.Tiled64, rng, m, n, k, ta, tb, batch: 2, shareA: true, shareB: false, alpha: 1f, beta: 0f);
    }

    [Fact]
    public void RejectsTooSmallBuffersNamingTheOperand()
    {
        var d = TestDevices.Cpu;
        using var a = d.Allocate(6);
        using var b = d.Allocate(6);
        using var c = d.Allocate(3);
        var g = new GemmArgs { A = a.View, B = b.View, C = c.View, M = 2, N = 2, K = 3, Lda = 3, Ldb = 2, Ldc = 2, Alpha = 1, Count = 1 };
        var ex = Assert.Throws<ArgumentException>(() => d.Gemm.Run(g));
        Assert.Contains("operand C", ex.Message);
        Assert.Contains("needs 4", ex.Message);
    }

    /// <summary>One GEMM against the float64 reference. Every stored operand has a row stride larger than its
    /// columns, and C has a padding column and a spare row after each batch entry (stride C &gt; M·ldc): everything
    /// outside the M×N results must keep its value bit for bit. With β = 0 all of C starts as NaN (C must not be
    /// read, and a stray write shows as a number); with β ≠ 0 all of C is random (a stray α·acc + β·C changes it).</summary>
    private static void CheckOne(Device d, GemmVariant variant, Random rng, int m, int n, int k, bool ta, bool tb,
        int batch, bool shareA, bool shareB, float alpha, float beta)
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 1, ldb = bCols + 2, ldc = n + 1;
        long strideA = shareA ? 0 : (long)aRows * lda, strideB = shareB ? 0 : (long)bRows * ldb, strideC = (long)(m + 1) * ldc;
        var a = TestData.Uniform(rng, (int)((shareA ? 1 : batch) * (long)aRows * lda));
        var b = TestData.Uniform(rng, (int)((shareB ? 1 : batch) * (long)bRows * ldb));
        float[] c;
        if (beta == 0f) { c = new float[batch * strideC]; Array.Fill(c, float.NaN); }
        else c = TestData.Uniform(rng, (int)(batch * strideC));

        using var da = TestData.Upload(d, a);
        using var db = TestData.Upload(d, b);
        using var dc = TestData.Upload(d, c);
        d.Gemm.Run(new GemmArgs
        {
            A = da.View, B = db.View, C = dc.View, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
            StrideA = strideA, StrideB = strideB, StrideC = strideC, TransA = ta ? 1 : 0, TransB = tb ? 1 : 0,
            Alpha = alpha, Beta = beta, Count = batch,
        }, variant);
        var got = TestData.Download(dc, c.Length);
        string what = $"{variant} on {TestDevices.Name(d)}: M={m} N={n} K={k} transA={ta} transB={tb} batch={batch} " +
            $"sharedA={shareA} sharedB={shareB} α={alpha} β={beta}";

        var cRef = Array.ConvertAll(c, x => float.IsNaN(x) ? 0.0 : x);
        var expected = Reference.Gemm(TestData.ToDouble(a), TestData.ToDouble(b), cRef, batch, m, n, k, ta, tb,
            lda, ldb, ldc, strideA, strideB, strideC, alpha, beta);
        for (long i = 0; i < c.Length; i++)
        {
            long row = i % strideC / ldc, col = i % strideC % ldc;
            if (row < m && col < n) continue;
            Assert.True(BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(c[i]),
                $"{what}: element {i} (batch {i / strideC}, row {row}, column {col}) outside the result was written: {c[i]} → {got[i]}");
            got[i] = 0f; expected[i] = 0.0;
        }
        Tolerances.AssertClose(got, expected, Tolerances.Gemm(k), what);
    }
}
