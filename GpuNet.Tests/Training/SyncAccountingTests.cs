using System.Text.RegularExpressions;
using Xunit;

namespace GpuNet.Tests.Training;

/// <summary>
/// <see cref="GpuNet.Devices.KernelCounters.Syncs"/> is what shows that a training step never waits for the device
/// (<see cref="LaunchAccountingTests"/>), but it is kept by hand: a read-back added without its count would go unseen.
/// So the library's source is read: every call that reads device data back or waits for the device must sit in one of
/// the methods listed here, and each of them must count it.
/// </summary>
public class SyncAccountingTests
{
    private static readonly string[] Reads = ["GetAsArray1D", "CopyToCPU", ".Synchronize()"];

    /// <summary>Where reads happen, by file (under GpuNet.Core) and method.</summary>
    private static readonly (string File, string Method)[] Allowed =
    [
        ("Devices/Device.cs", "Synchronize"),
        ("Devices/GemmScratch.cs", "ReadC"),
        ("Devices/GemmTimer.cs", "SecondsPerLaunch"),
        ("Devices/Launchers/GemmLargeLauncher.cs", "Workspace"),
        ("Compute/DeviceParameters.cs", "Read"),
        ("Compute/DeviceParameters.cs", "ReadAll"),
        ("Compute/BackwardPass.cs", "ReadGradients"),
        ("Compute/LossSums.cs", "Read"),
        ("Compute/LossSums.cs", "ReadFirstBadSteps"),
        ("Compute/LossSums.cs", "ReadEpoch"),
        ("Compute/Optimizers/Moments.cs", "Read"),
        ("Data/DeviceDataset.cs", "CopyTo"),
        ("Model/Evaluator.cs", "RunCore"),
        ("Model/Network.cs", "PredictCore"),
        ("Training/DivergenceGuard.cs", "RollBack"),
        ("Training/Steps/GradientExchange.cs", "AllReduce"),
    ];

    // A method of a class: four spaces in (the files use file-scoped namespaces), an access modifier, a return type
    // (perhaps a tuple), the name, "(".
    private static readonly Regex Member = new(@"^    (?:public|private|internal|protected)\b(?:[^=;{(]|\([^)]*\))*?\b(\w+)\s*(?:<[^>(]*>)?\(");

    /// <summary>Each member of a source file with the code lines up to the next member (comments left out).</summary>
    private static IEnumerable<(string Name, List<string> Code)> Members(string file)
    {
        (string Name, List<string> Code)? current = null;
        foreach (var line in File.ReadLines(file))
        {
            var m = Member.Match(line);
            if (m.Success)
            {
                if (current != null) yield return current.Value;
                current = (m.Groups[1].Value, []);
            }
            if (current != null && !line.TrimStart().StartsWith("//", StringComparison.Ordinal)) current.Value.Code.Add(line);
        }
        if (current != null) yield return current.Value;
    }

    [Fact]
    public void EveryReadBackAndWaitInTheLibraryIsInAMethodThatCountsIt()
    {
        string core = RepoFiles.Path("GpuNet.Core");
        var reading = new List<(string File, string Method)>();
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(core, file).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal)) continue;
            foreach (var (name, code) in Members(file))
            {
                if (!code.Any(line => Reads.Any(line.Contains))) continue;
                reading.Add((relative, name));
                Assert.True(Allowed.Contains((relative, name)),
                    $"{relative}: {name} reads from or waits for the device but is not one of the methods that count it; " +
                    "move the read into one of them, or count it (Counters.Synced) and list the method here");
                Assert.True(code.Any(line => line.Contains("Counters.Synced()") || line.Contains("Device.Synchronize()")),
                    $"{relative}: {name} reads from or waits for the device without counting it (Counters.Synced)");
            }
        }
        // Stale entries would let the list drift from the code.
        Assert.Equal(Allowed.Order(), reading.Order());
    }
}
