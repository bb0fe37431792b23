using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void LoadsTheInstalledFilesOrExplainsWhereItLooked()
    {
        var places = Idx.FashionMnistSearchPaths(null);
        Assert.Contains(Idx.FashionMnistSystemDirectory, places);
        string? found = null;
        try
        {
            found = Idx.FindFashionMnist(null);
        }
        catch (DatasetNotFoundException e)
        {
            // Not installed here: the error must still name every place and the ways to get the files.
            Assert.Equal(places, e.SearchedPaths);
            foreach (var p in places) Assert.Contains(p, e.Message);
            Assert.Contains("dataset-fashion-mnist", e.Message);
            Assert.Contains("download", e.Message);
            Assert.Throws<DatasetNotFoundException>(() => DataSpec.Load("fashion-mnist", null));
            return;
        }

        var (train, test) = Idx.LoadDirectory(found, Idx.FashionMnistClassNames);
        Assert.Equal((60000, 784, 10), (train.Count, train.FeatureCount, train.TargetCount));
        Assert.Equal((10000, 784, 10), (test.Count, test.FeatureCount, test.TargetCount));
        Assert.Equal("Ankle boot", train.ClassNames![9]);
        Assert.Equal(10, train.Labels!.Distinct().Count());
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in test.Features)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        Assert.Equal((0f, 1f), (min, max));
    }

    [Fact]
    public void NotFoundListsEveryPlaceAndHowToInstall()
    {
        using var dir = new TempDir();
        var dataDir = dir.File("data");
        var env = dir.File("env");
        var system = dir.File("system");
        Directory.CreateDirectory(env);
        Idx.WriteLabels(Path.Combine(env, Idx.TrainLabelsName + ".gz"), [1], gzip: true);

        var e = Assert.Throws<DatasetNotFoundException>(() => Idx.FindFashionMnist(dataDir, env, system));
        Assert.IsAssignableFrom<GpuNetException>(e);
        string[] expected = [dataDir, Path.Combine(dataDir, "fashion-mnist"), env, Path.Combine(env, "fashion-mnist"), system];
        Assert.Equal(expected, e.SearchedPaths);
        foreach (var p in expected) Assert.Contains(p, e.Message);
        Assert.Contains($"{env} (lacks {Idx.TrainImagesName}, {Idx.TestImagesName}, {Idx.TestLabelsName})", e.Message);
        Assert.Contains($"{system} (does not exist)", e.Message);
        Assert.Contains("Debian package dataset-fashion-mnist", e.Message);
        Assert.Contains("download the four official gzip IDX files", e.Message);

        var noEnv = Assert.Throws<DatasetNotFoundException>(() => Idx.FindFashionMnist(null, null, system));
        Assert.Contains("GPUNET_DATA is not set", noEnv.Message);
        Assert.Equal([system], noEnv.SearchedPaths);
    }

    [Fact]
    public void SearchOrderIsDataDirThenEnvironmentThenSystem()
    {
        using var dir = new TempDir();
        var env = dir.File("env");
        var envSub = Path.Combine(env, "fashion-mnist");
        var system = dir.File("system");
        foreach (var d in new[] { envSub, system })
        {
            Directory.CreateDirectory(d);
            foreach (var name in Idx.StandardFileNames) File.WriteAllBytes(Path.Combine(d, name + ".gz"), []);
        }
        Assert.Equal(envSub, Idx.FindFashionMnist(dir.File("missing"), env, system));
        Assert.Equal(system, Idx.FindFashionMnist(null, dir.File("missing-env"), system));
        Assert.Equal(system, Idx.FindFashionMnist(system, env, dir.File("x")));
    }
}
