using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>The generated restart shapes (GpuNet.Kernels/RestartNetworks.g.cs) are exactly what
/// <see cref="RestartNetworkSource"/> writes: the generator is the source, the file its output. With
/// GPUNET_REGENERATE=1 the test writes the file instead of comparing.</summary>
public class RestartNetworkSourceTests
{
    private const string File = "GpuNet.Kernels/RestartNetworks.g.cs";

    [Fact]
    public void TheGeneratedFileIsTheGeneratorsOutput()
    {
        string path = RepoFiles.Path(File), expected = RestartNetworkSource.Generate();
        if (Environment.GetEnvironmentVariable("GPUNET_REGENERATE") == "1") System.IO.File.WriteAllText(path, expected);
        Assert.True(System.IO.File.Exists(path), $"{File} is missing");
        string actual = System.IO.File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.True(actual == expected,
            $"{File} differs from what RestartNetworkSource writes: regenerate it with GPUNET_REGENERATE=1 dotnet test GpuNet.sln -c Release --filter RestartNetworkSourceTests");
    }

    [Fact]
    public void EveryShapeIsListedOnceAndHoldsTheIdeasNetworks()
    {
        var names = RestartNetworkSource.Shapes.Select(RestartNetworkSource.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains("Net1x2x2x1", names); // the running example
        Assert.Contains(RestartNetworkSource.Shapes, w => w.Length == 3 && w[0] >= 8 && w[1] >= 8); // 8-input boolean functions
    }
}
