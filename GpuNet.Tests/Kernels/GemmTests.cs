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
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesFloat64Reference(string device, GemmVariant variant)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(1234);
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckOne(d, variant, rng, m, n, k, ta, tb, batch: 1, shareA: false, alpha: 1f, beta: 0f);
                    CheckOne(d, variant, rng, m, n, k, ta, tb, batch: 3, shareA: rng.Next(2) == 0, alpha: 0.5f, beta: 2f);
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
        CheckOne(TestDevices.GpuShaped, GemmVariant.Tiled64, rng, m, n, k, ta, tb, batch: 2, shareA: true, alpha: 1f, beta: 0f);
    }

    [Fact]
    public void RejectsTooSmallBuffersNamingTheOperand()
    {
        var d = TestDevices.Cpu;
        using var a = d.Allocate(6);
        using var b = d.Allocate(6);
        using var c = d.Allocate(3);
        var g = new GemmArgs { A = a.View, B = b.View, C = c.View, M = 2, N = 2, K = 3, Lda = 3, Ldb = 2, Ldc = 2, Alpha = 1, Batch = 1 };
        var ex = Assert.Throws<ArgumentException>(() => d.Kernels.Gemm(g));
        Assert.Contains("operand C", ex.Message);
        Assert.Contains("needs 4", ex.Message);
    }

    private static void CheckOne(Device d, GemmVariant variant, Random rng, int m, int n, int k, bool ta, bool tb,
        int batch, bool shareA, float alpha, float beta)
    {
        // Stored shapes, with a row stride one larger than needed to catch ld/cols mix-ups.
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 1, ldb = bCols + 2, ldc = n + 1;
        long strideA = shareA ? 0 : (long)aRows * lda, strideB = (long)bRows * ldb, strideC = (long)m * ldc;
        var a = TestData.Uniform(rng, (int)((shareA ? 1 : batch) * (long)aRows * lda));
        var b = TestData.Uniform(rng, (int)(batch * strideB));
        float[] c;
        if (beta == 0f) { c = new float[batch * strideC]; Array.Fill(c, float.NaN); }
        else c = TestData.Uniform(rng, (int)(batch * strideC));

        using var da = TestData.Upload(d, a);
        using var db = TestData.Upload(d, b);
        using var dc = TestData.Upload(d, c);
        d.Kernels.Gemm(new GemmArgs
        {
            A = da.View, B = db.View, C = dc.View, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc,
            StrideA = strideA, StrideB = strideB, StrideC = strideC, TransA = ta ? 1 : 0, TransB = tb ? 1 : 0,
            Alpha = alpha, Beta = beta, Batch = batch,
        }, variant);
        var got = TestData.Download(dc, c.Length);

        var cRef = Array.ConvertAll(c, x => float.IsNaN(x) ? 0.0 : x);
        var expected = Reference.Gemm(TestData.ToDouble(a), TestData.ToDouble(b), cRef, batch, m, n, k, ta, tb,
            lda, ldb, ldc, strideA, strideB, strideC, alpha, beta);
        // Padding columns (j ≥ n) must be left alone: poisoned ones stay NaN.
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
            {
                long pad = z * strideC + i * ldc + n;
                if (beta == 0f) Assert.True(float.IsNaN(got[pad]), $"padding at {pad} was written");
                got[pad] = 0f; expected[pad] = 0.0;
            }
        Tolerances.AssertClose(got, expected, Tolerances.Gemm(k),
            $"{variant} on {d.Info.Name}: M={m} N={n} K={k} transA={ta} transB={tb} batch={batch} sharedA={shareA} α={alpha} β={beta}");
    }
}
