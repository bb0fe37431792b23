using GpuNet.Devices;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>
/// One GEMM on a device against the float64 reference (<see cref="Reference.Gemm"/>). Every stored operand has a row
/// stride of its columns plus a pad, may start some floats into its buffer (a sub-view), and C has a spare row after
/// each product: everything outside the M×N results (the floats before C included) must keep its value bit for
/// bit. With β = 0 all of C starts as NaN (C must not be read, and a stray write shows as a number); with β ≠ 0 all of C
/// is random (a stray α·acc + β·C changes it).
/// </summary>
public sealed record GemmCheck(int M, int N, int K)
{
    public bool TransA { get; init; }
    public bool TransB { get; init; }
    public int Count { get; init; } = 1;
    /// <summary>Stride 0 for A (one matrix shared by every product).</summary>
    public bool ShareA { get; init; }
    public bool ShareB { get; init; }
    public float Alpha { get; init; } = 1f;
    public float Beta { get; init; }
    /// <summary>Row stride minus columns of each stored operand.</summary>
    public int PadA { get; init; } = 1;
    public int PadB { get; init; } = 2;
    public int PadC { get; init; } = 1;
    /// <summary>Floats in front of each operand in its buffer.</summary>
    public int OffsetA { get; init; }
    public int OffsetB { get; init; }
    public int OffsetC { get; init; }
    /// <summary>Split count forced on a split-K variant (null: the launcher's choice).</summary>
    public int? Slices { get; init; }
    public int Seed { get; init; } = 1234;

    public override string ToString() =>
        $"M={M} N={N} K={K} transA={TransA} transB={TransB} count={Count} sharedA={ShareA} sharedB={ShareB} α={Alpha} β={Beta} " +
        $"pads {PadA},{PadB},{PadC} offsets {OffsetA},{OffsetB},{OffsetC}" + (Slices is { } s ? $" slices {s}" : "");

    private static float[] Prefixed(int offset, float[] values)
    {
        var all = new float[offset + values.Length];
        Array.Fill(all, float.NaN, 0, offset);
        values.CopyTo(all, offset);
        return all;
    }

    /// <summary>Runs the product with <paramref name="variant"/>, checks it, and returns all of C's buffer.</summary>
    public float[] Run(Device d, GemmVariant variant) => Run(d, variant, out _);

    /// <inheritdoc cref="Run(Device, GemmVariant)"/>
    /// <param name="plan">How the launcher ran it (load widths, slices).</param>
    public float[] Run(Device d, GemmVariant variant, out GemmPlan plan)
    {
        var rng = new Random(Seed);
        int aRows = TransA ? K : M, aCols = TransA ? M : K, bRows = TransB ? N : K, bCols = TransB ? K : N;
        int lda = aCols + PadA, ldb = bCols + PadB, ldc = N + PadC;
        long strideA = ShareA ? 0 : (long)aRows * lda, strideB = ShareB ? 0 : (long)bRows * ldb, strideC = (long)(M + 1) * ldc;
        // The floats in front of each operand are NaN: a read of one would show in the result. The operands' values do
        // not depend on the offsets, so runs at different offsets can be compared bit for bit.
        var a = Prefixed(OffsetA, TestData.Uniform(rng, (int)((ShareA ? 1 : Count) * (long)aRows * lda)));
        var b = Prefixed(OffsetB, TestData.Uniform(rng, (int)((ShareB ? 1 : Count) * (long)bRows * ldb)));
        var c = Prefixed(OffsetC, TestData.Uniform(rng, (int)(Count * strideC)));
        if (Beta == 0f) Array.Fill(c, float.NaN);

        using var da = TestData.Upload(d, a);
        using var db = TestData.Upload(d, b);
        using var dc = TestData.Upload(d, c);
        var g = new GemmArgs
        {
            A = da.View.SubView(OffsetA, a.Length - OffsetA), B = db.View.SubView(OffsetB, b.Length - OffsetB),
            C = dc.View.SubView(OffsetC, c.Length - OffsetC), M = M, N = N, K = K, Lda = lda, Ldb = ldb, Ldc = ldc,
            StrideA = strideA, StrideB = strideB, StrideC = strideC, TransA = TransA ? 1 : 0, TransB = TransB ? 1 : 0,
            Alpha = Alpha, Beta = Beta, Count = Count,
        };
        plan = Slices is { } forced ? GemmSelection.Plan(variant, g, d.Accelerator.NumMultiprocessors, forced) : d.Gemm.Plan(g, variant);
        if (Slices is { } s) d.Gemm.RunLarge(g, variant, s);
        else d.Gemm.Run(g, variant);
        var got = TestData.Download(dc, c.Length);
        string what = $"{variant} ({plan}) on {TestDevices.Name(d)}: {this}";

        var cRef = Array.ConvertAll(c[OffsetC..], x => float.IsNaN(x) ? 0.0 : x);
        var expected = Reference.Gemm(TestData.ToDouble(a[OffsetA..]), TestData.ToDouble(b[OffsetB..]), cRef, Count, M, N, K,
            TransA, TransB, lda, ldb, ldc, strideA, strideB, strideC, Alpha, Beta);
        var result = got[OffsetC..];
        for (int i = 0; i < OffsetC; i++)
            Assert.True(BitConverter.SingleToInt32Bits(got[i]) == BitConverter.SingleToInt32Bits(c[i]),
                $"{what}: element {i} in front of C was written: {c[i]} → {got[i]}");
        for (long i = 0; i < result.Length; i++)
        {
            long row = i % strideC / ldc, col = i % strideC % ldc;
            if (row < M && col < N) continue;
            Assert.True(BitConverter.SingleToInt32Bits(result[i]) == BitConverter.SingleToInt32Bits(c[OffsetC + i]),
                $"{what}: element {i} (batch {i / strideC}, row {row}, column {col}) outside the result was written: {c[OffsetC + i]} → {result[i]}");
            result[i] = 0f;
            expected[i] = 0.0;
        }
        Tolerances.AssertClose(result, expected, Tolerances.Gemm(K), what);
        return got;
    }
}
