using System.Globalization;
using System.Security.Cryptography;

namespace GpuNet.Fuzz;

/// <summary>
/// Counts the distinct inputs one fuzzing process has run (by their MD5, 16 bytes each), and every 100 new ones writes
/// the count to <c>DIR/TARGET-distinct-PID</c>, so that fuzz.sh can report how many different inputs a reader saw
/// (afl-fuzz counts executions, which repeat some inputs). A process that afl-fuzz restarts starts its count anew, so
/// the largest count is a lower bound.
/// </summary>
internal sealed class DistinctInputs(string? folder, string target)
{
    /// <summary>Environment variable naming the folder the counts go to; unset, nothing is counted.</summary>
    public const string Variable = "GPUNET_FUZZ_DISTINCT";

    private readonly HashSet<(ulong, ulong)> _seen = [];

    /// <summary>Counts <paramref name="input"/> if it was not seen before.</summary>
    public void Add(byte[] input)
    {
        if (folder == null) return;
        Span<byte> h = stackalloc byte[16];
        MD5.HashData(input, h);
        if (!_seen.Add((BitConverter.ToUInt64(h), BitConverter.ToUInt64(h[8..]))) || _seen.Count % 100 != 0) return;
        File.WriteAllText(Path.Combine(folder, $"{target}-distinct-{Environment.ProcessId}"), _seen.Count.ToString(CultureInfo.InvariantCulture));
    }
}
