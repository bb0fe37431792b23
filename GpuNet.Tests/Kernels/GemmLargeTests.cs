using GpuNet.Devices;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>
/// The large-tile GEMM family against the float64 reference. The small test tile (<see cref="GemmTile16"/>: 16×16,
/// depth 8, 4 threads) runs the same kernel code as the GPU tiles on the cheap CPU accelerator, so it takes the shapes
/// around every tile edge; the GPU tiles (256 and 64 threads a group, each barrier ~10 µs per thread there) run a few
/// shapes on the GPU-shaped CPU accelerator.
/// </summary>
public class GemmLargeTests
{
    /// <summary>One off the 16-wide tile and the 8-deep step on each side, 1, primes, M &lt; K and M &gt; K, and K = 0
    /// (C = β·C).</summary>
    public static readonly (int M, int N, int K)[] EdgeShapes =
        [(15, 17, 9), (17, 15, 7), (16, 16, 8), (16, 1, 17), (1, 16, 33), (33, 31, 15), (2, 3, 40), (1, 1, 1), (5, 7, 0)];

    public static TheoryData<bool, bool> Transposes() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    private static Device Cpu => TestDevices.Cpu;

    /// <summary>The pad that makes a row stride of <paramref name="cols"/> floats a multiple of 4.</summary>
    private static int Pad4(int cols) => (4 - cols % 4) % 4;

    /// <summary>The pad (1 or 2) that makes a row stride of <paramref name="cols"/> floats odd.</summary>
    private static int PadOdd(int cols) => cols % 2 == 0 ? 1 : 2;

    [Theory]
    [MemberData(nameof(Transposes))]
    public void LargeTileMatchesReferenceAtEveryTileEdge(bool ta, bool tb)
    {
        foreach (var (m, n, k) in EdgeShapes)
        {
            int aCols = ta ? m : k, bCols = tb ? k : n;
            // Row strides that are multiples of 4: 128-bit loads and stores.
            var aligned = new GemmCheck(m, n, k) { TransA = ta, TransB = tb, PadA = Pad4(aCols), PadB = Pad4(bCols), PadC = Pad4(n) };
            aligned.Run(Cpu, GemmVariant.Large16, out var plan);
            Assert.True(plan.VectorA && plan.VectorB && plan.VectorC, $"{aligned}: {plan}");
            // Odd row strides, three products sharing A, β ≠ 0: scalar loads and stores.
            var odd = new GemmCheck(m, n, k)
            {
                TransA = ta, TransB = tb, Count = 3, ShareA = true, Alpha = 0.5f, Beta = 2f, PadA = PadOdd(aCols), PadB = PadOdd(bCols), PadC = PadOdd(n),
            };
            odd.Run(Cpu, GemmVariant.Large16, out plan);
            // With K = 0 an operand with K rows is empty: never read, any load width.
            Assert.False((plan.VectorA && k > 0) || (plan.VectorB && k > 0) || plan.VectorC, $"{odd}: {plan}");
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void SplitKMatchesReferenceForEverySliceCount(bool ta, bool tb)
    {
        foreach (int slices in new[] { 2, 3, 5 })
        {
            new GemmCheck(17, 15, 41) { TransA = ta, TransB = tb, Slices = slices }.Run(Cpu, GemmVariant.SplitK16);
            new GemmCheck(5, 33, 100) { TransA = ta, TransB = tb, Slices = slices, Count = 2, ShareB = true, Alpha = 0.5f, Beta = 2f,
                PadA = Pad4(ta ? 5 : 100), PadB = Pad4(tb ? 100 : 33), PadC = Pad4(33) }.Run(Cpu, GemmVariant.SplitK16);
        }
    }

    /// <summary>A split product is the sum of its slices in slice order, bit for bit: slice s is the large-tile kernel on
    /// k in [s·chunk, (s + 1)·chunk), and the sum adds slice 0, then 1, and so on. So it is the same every run.</summary>
    [Fact]
    public void SplitKSumsItsSlicesInAFixedOrder()
    {
        const int m = 9, n = 21, k = 70, slices = 3, chunk = 24; // slices of 24, 24 and 22
        var check = new GemmCheck(m, n, k) { Slices = slices, PadA = 2, PadB = 3, PadC = 3 };
        var first = check.Run(Cpu, GemmVariant.SplitK16, out var plan);
        Assert.Equal((slices, chunk), (plan.Slices, plan.KChunk));
        Assert.Equal(first, check.Run(Cpu, GemmVariant.SplitK16));

        var rng = new Random(7);
        int lda = k + 2, ldb = n + 3;
        var a = TestData.Uniform(rng, m * lda);
        var b = TestData.Uniform(rng, k * ldb);
        using var da = TestData.Upload(Cpu, a);
        using var db = TestData.Upload(Cpu, b);
        using var dc = TestData.Poisoned(Cpu, m * n);
        var g = new GemmArgs { A = da.View, B = db.View, C = dc.View, M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = n, Alpha = 1, Count = 1 };
        Cpu.Gemm.RunLarge(g, GemmVariant.SplitK16, slices);
        var split = TestData.Download(dc, m * n);
        var sum = new float[m * n];
        for (int s = 0; s < slices; s++)
        {
            int k0 = s * chunk, len = Math.Min(chunk, k - k0);
            Cpu.Gemm.Run(g with { A = da.View.SubView(k0, a.Length - k0), B = db.View.SubView(k0 * ldb, b.Length - k0 * ldb), K = len },
                GemmVariant.Large16);
            var part = TestData.Download(dc, m * n);
            for (int i = 0; i < sum.Length; i++) sum[i] = s == 0 ? part[i] : sum[i] + part[i];
        }
        Assert.Equal(sum, split);
    }

    /// <summary>ILGPU assumes every view starts 256-byte aligned; a sub-view 1, 2 or 3 floats into its buffer does not, and
    /// 128-bit accesses there would fault on a GPU. The host must see it and read that operand with scalar loads, with the
    /// same result bit for bit (the same products are summed in the same order).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SubViewsAtOddOffsetsAreReadWithScalarLoadsAndGiveTheSameBits(int offset)
    {
        foreach (var (ta, tb) in new[] { (false, true), (true, false) })
        {
            var aligned = new GemmCheck(19, 22, 37) { TransA = ta, TransB = tb, Count = 2, Alpha = 0.5f, Beta = 2f, PadA = Pad4(ta ? 19 : 37), PadB = Pad4(tb ? 37 : 22), PadC = Pad4(22) };
            var reference = aligned.Run(Cpu, GemmVariant.Large16, out var plan)[aligned.OffsetC..];
            Assert.True(plan.VectorA && plan.VectorB && plan.VectorC, plan.ToString());
            foreach (var shifted in new[] { aligned with { OffsetA = offset }, aligned with { OffsetB = offset }, aligned with { OffsetC = offset } })
            {
                var got = shifted.Run(Cpu, GemmVariant.Large16, out plan)[shifted.OffsetC..];
                Assert.Equal((shifted.OffsetA == 0, shifted.OffsetB == 0, shifted.OffsetC == 0), (plan.VectorA, plan.VectorB, plan.VectorC));
                Assert.Equal(reference, got);
            }
            var four = aligned with { OffsetA = 4, OffsetB = 4, OffsetC = 4 };
            Assert.Equal(reference, four.Run(Cpu, GemmVariant.Large16, out plan)[4..]);
            Assert.True(plan.VectorA && plan.VectorB && plan.VectorC, $"offset 4: {plan}");
        }
    }

    /// <summary>The GPU tiles on the GPU-shaped CPU accelerator: the 128×128 tile (all 8 warps, partial in both
    /// directions), the 64×64 tile across several groups and steps, and its split-K form.</summary>
    [Fact]
    public void GpuTilesMatchReference()
    {
        var d = TestDevices.GpuShaped;
        new GemmCheck(100, 100, 9) { TransB = true, PadA = Pad4(9), PadB = Pad4(9), PadC = 0 }.Run(d, GemmVariant.Large128);
        new GemmCheck(65, 63, 17) { TransA = true, Count = 2, ShareA = true }.Run(d, GemmVariant.Large64);
        new GemmCheck(40, 70, 150) { TransA = true, TransB = true, Slices = 3, Beta = 1f, PadA = Pad4(40), PadB = Pad4(150) }
            .Run(d, GemmVariant.SplitK64);
    }

    [Fact]
    public void AVariantTooLargeForTheGroupIsRefusedNamingWhy()
    {
        var g = new GemmCheck(4, 4, 4);
        var ex = Assert.Throws<NotSupportedException>(() => g.Run(Cpu, GemmVariant.Large128));
        Assert.Contains("256 threads a group", ex.Message);
        Assert.Contains("large128", ex.Message);
    }
}
