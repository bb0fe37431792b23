namespace GpuNet.Model;

/// <summary>
/// A small seeded generator (xoshiro256** seeded through SplitMix64) used for every random choice
/// GpuNet makes: initial weights, shuffles, splits. Its sequence is fixed by this code, not by the .NET
/// version, so a seed means the same run everywhere.
/// </summary>
public sealed class Rng
{
    private ulong s0, s1, s2, s3;

    /// <summary>A generator for <paramref name="seed"/>; <paramref name="stream"/> picks an independent
    /// sequence for the same seed (e.g. restart k).</summary>
    public Rng(ulong seed, ulong stream = 0)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        s0 = SplitMix(ref x); s1 = SplitMix(ref x); s2 = SplitMix(ref x); s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n) without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % (ulong)n);
    }

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(int[] a)
    {
        for (int i = a.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }
}
