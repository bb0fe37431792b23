using System.Globalization;
using System.Text.RegularExpressions;

namespace GpuNet.Devices;

/// <summary>What ptxas reports for one compiled kernel (<c>ptxas -v</c>): registers a thread, the per-thread stack
/// frame, spill traffic (bytes stored to and loaded from local memory when registers run out) and static shared
/// memory a block.</summary>
internal sealed partial record KernelResources(int Registers, int StackBytes, int SpillStoreBytes, int SpillLoadBytes, int SharedBytes)
{
    /// <summary>Bytes spilled, stores and loads together.</summary>
    public int SpillBytes => SpillStoreBytes + SpillLoadBytes;

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FramePattern();

    [GeneratedRegex(@"Used (\d+) registers(?:, (\d+) bytes smem)?")]
    private static partial Regex UsedPattern();

    /// <summary>Reads the report of a module holding one entry function. Throws <see cref="FormatException"/>
    /// naming the missing line when the text is not such a report.</summary>
    public static KernelResources Parse(string ptxasOutput)
    {
        var frame = FramePattern().Match(ptxasOutput);
        var used = UsedPattern().Match(ptxasOutput);
        if (!used.Success)
            throw new FormatException($"no 'Used N registers' line in the ptxas report: {ptxasOutput.Trim()}");
        if (FramePattern().Matches(ptxasOutput).Count > 1 || UsedPattern().Matches(ptxasOutput).Count > 1)
            throw new FormatException("the ptxas report covers more than one function; compile one kernel a module");
        static int Int(Group g) => g.Success ? int.Parse(g.Value, CultureInfo.InvariantCulture) : 0;
        return new KernelResources(
            Int(used.Groups[1]),
            frame.Success ? Int(frame.Groups[1]) : 0,
            frame.Success ? Int(frame.Groups[2]) : 0,
            frame.Success ? Int(frame.Groups[3]) : 0,
            Int(used.Groups[2]));
    }
}
