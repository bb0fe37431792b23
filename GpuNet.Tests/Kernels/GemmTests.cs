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
            data.Add(TestDevices.Name(d), GemmVariant.Large16);
            data.Add(TestDevices.Name(d), GemmVariant.SplitK16);
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

    /// <summary>One GEMM against the float64 reference (see <see cref="GemmCheck"/>): every stored operand has a row
    /// stride larger than its columns, C a padding column and a spare row after each product.</summary>
    private static void CheckOne(Device d, GemmVariant variant, Random rng, int m, int n, int k, bool ta, bool tb,
        int batch, bool shareA, bool shareB, float alpha, float beta) =>
        new GemmCheck(m, n, k)
        {
            TransA = ta, TransB = tb, Count = batch, ShareA = shareA, ShareB = shareB, Alpha = alpha, Beta = beta, Seed = rng.Next(),
        }.Run(d, variant);
}
