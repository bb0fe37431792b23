namespace GpuNet.Bench;

/// <summary>A GEMM case's result checked at 256 sampled elements against float64 dot products (a full float64 reference
/// of 4096³ would take minutes), for the report and the BenchmarkDotNet suite alike: nothing is timed unchecked.</summary>
internal static class GemmSampleCheck
{
    /// <summary>Stored rows and columns of A and B of a case (no padding).</summary>
    public static (int ARows, int ACols, int BRows, int BCols) Layout(Cases.GemmCase c) =>
        (c.TransA ? c.K : c.M, c.TransA ? c.M : c.K, c.TransB ? c.N : c.K, c.TransB ? c.K : c.N);

    /// <summary>A float32 dot product of length K errs by up to about K·u (u = 2⁻²⁴); twice that plus 1e-6, as the tests.</summary>
    public static double Tolerance(int k) => 2.0 * k * 6e-8 + 1e-6;

    /// <summary>‖got − ref‖ / ‖ref‖ over 256 elements of C drawn by <paramref name="rng"/> (NaN counts as infinite).</summary>
    public static double RelativeError(Cases.GemmCase c, float[] a, float[] b, float[] got, Random rng)
    {
        var (_, aCols, _, bCols) = Layout(c);
        double num = 0, den = 0;
        for (int s = 0; s < 256; s++)
        {
            int i = rng.Next(c.M), j = rng.Next(c.N);
            double r = 0;
            for (int p = 0; p < c.K; p++)
                r += (double)(c.TransA ? a[(long)p * aCols + i] : a[(long)i * aCols + p]) * (c.TransB ? b[(long)j * bCols + p] : b[(long)p * bCols + j]);
            double d = got[(long)i * c.N + j] - r;
            num += double.IsNaN(d) ? double.PositiveInfinity : d * d;
            den += r * r;
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }
}
