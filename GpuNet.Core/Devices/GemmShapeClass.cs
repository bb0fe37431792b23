using GpuNet.Kernels;

namespace GpuNet.Devices;

/// <summary>
/// The GEMM shapes one tuning decision covers: the transpose pair, whether A and B can be read with 128-bit loads, and
/// M, N, K and the batch count each rounded up to a power of two. Products of one class have the same kernel code and
/// about the same balance of groups, steps and launch cost, so the fastest variant for one is kept for all.
/// </summary>
/// <param name="TransA">1 when op(A) = Aᵀ.</param>
/// <param name="TransB">1 when op(B) = Bᵀ.</param>
/// <param name="VectorA">A is read in 128-bit chunks (<see cref="GemmSelection.Vector4"/>).</param>
/// <param name="VectorB">B likewise.</param>
/// <param name="M">Rows of C rounded up to a power of two.</param>
/// <param name="N">Columns of C rounded up to a power of two.</param>
/// <param name="K">Inner dimension rounded up to a power of two.</param>
/// <param name="Count">Products rounded up to a power of two.</param>
public readonly record struct GemmShapeClass(int TransA, int TransB, bool VectorA, bool VectorB, long M, long N, long K, long Count)
{
    /// <summary>The class of <paramref name="g"/>.</summary>
    public static GemmShapeClass Of(in GemmArgs g) => new(g.TransA, g.TransB,
        GemmSelection.Vector4(g.A, g.Lda, g.StrideA, g.Count), GemmSelection.Vector4(g.B, g.Ldb, g.StrideB, g.Count),
        Ceiling(g.M), Ceiling(g.N), Ceiling(g.K), Ceiling(g.Count));

    /// <summary>Smallest power of two ≥ x (1 for x ≤ 1).</summary>
    public static long Ceiling(long x)
    {
        long p = 1;
        while (p < x) p <<= 1;
        return p;
    }

    /// <summary>The key of the class in the tuning cache, e.g. <c>NT A4 B4 M128 N256 K1024 count1</c> (A4: A read in
    /// 128-bit chunks, A1: scalar; each size the power of two at or above it).</summary>
    public string Key =>
        $"{(TransA == 0 ? 'N' : 'T')}{(TransB == 0 ? 'N' : 'T')} A{(VectorA ? 4 : 1)} B{(VectorB ? 4 : 1)} M{M} N{N} K{K} count{Count}";

    /// <inheritdoc/>
    public override string ToString() => Key;
}
