using System.Runtime.InteropServices;

namespace GpuNet.Distributed;

/// <summary>A 64-bit fingerprint of values, for processes to check that they hold the same data or weights without
/// sending them: equal values give equal fingerprints; different values give different ones except with probability
/// about 2⁻⁶⁴ (a multiply-xorshift mix of every 8 bytes, seeded by the length). Not a cryptographic hash.</summary>
public static class Fingerprint
{
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;

    /// <summary>The fingerprint of <paramref name="values"/>' bits, continuing from <paramref name="seed"/> (to chain
    /// several arrays).</summary>
    public static ulong Of<T>(ReadOnlySpan<T> values, ulong seed = 0) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        ulong h = Mix(seed ^ ((ulong)bytes.Length * Multiplier));
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong w in words) h = Mix(h ^ w);
        ulong tail = 0;
        for (int i = words.Length * 8; i < bytes.Length; i++) tail = (tail << 8) | bytes[i];
        return Mix(h ^ tail);
    }

    // The finaliser of SplitMix64: every input bit reaches every output bit.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (z ^ (z >> 31)) + Multiplier;
    }
}
