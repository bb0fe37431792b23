using GpuNet.Fuzz;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>The fuzzing harness (GpuNet.Fuzz, run under AFL++ by GpuNet.Fuzz/fuzz.sh): its seed corpus passes its
/// checks, and the checks do catch what they promise to (an over-allocation, a leaked .NET type name, an unexpected
/// exception).</summary>
public class FuzzHarnessTests
{
    public static TheoryData<string> Targets => new(FuzzTarget.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void TheSeedCorpusPassesTheHarness(string name)
    {
        var target = FuzzTarget.Find(name);
        var seeds = Directory.GetFiles(RepoFiles.Path(Path.Combine("GpuNet.Fuzz", "corpus", name)));
        Assert.NotEmpty(seeds);
        using var dir = new TempDir();
        foreach (var seed in seeds) target.Run(File.ReadAllBytes(seed), dir.File("input"));
    }

    [Fact]
    public void TheHarnessFlagsWhatItPromises()
    {
        using var dir = new TempDir();
        var greedy = new FuzzTarget("greedy", _ => GC.KeepAlive(new byte[FuzzTarget.AllocationBudget(new byte[10]) + 1]));
        Assert.Contains("more than its budget", Assert.Throws<FuzzFinding>(() => greedy.Run(new byte[10], dir.File("a"))).Message);
        var leaky = new FuzzTarget("leaky", p => Expect(() => throw new GpuNetException("The JSON value could not be converted to System.String.")));
        Assert.Contains("leaks .NET internals", Assert.Throws<FuzzFinding>(() => leaky.Run([1], dir.File("b"))).Message);
        var twoLines = new FuzzTarget("two lines", p => Expect(() => throw new DataFormatException($"{p}: line 2: \"x\ny\" is not a number")));
        Assert.Contains("holds a control character", Assert.Throws<FuzzFinding>(() => twoLines.Run([1], dir.File("e"))).Message);
        var crashing = new FuzzTarget("crashing", _ => throw new IndexOutOfRangeException());
        Assert.Throws<IndexOutOfRangeException>(() => crashing.Run([1], dir.File("c")));
        var fine = new FuzzTarget("fine", p => Expect(() => throw new DataFormatException($"{p}: line 1: bad")));
        fine.Run([1], dir.File("d"));
    }

    private static void Expect(Action read) => FuzzTarget.Expect(() => { read(); return null; });
}
