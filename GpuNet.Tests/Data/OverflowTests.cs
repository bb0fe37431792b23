using GpuNet.Data;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>Data whose values overflow float32 arithmetic is named as such, column and all, before training starts.</summary>
public class OverflowTests
{
    [Fact]
    public void TheBoundIsWhereASquareOverflows()
    {
        float bound = FloatRange.OverflowBound;
        Assert.Equal(MathF.Pow(2, 64), bound);
        Assert.True(float.IsPositiveInfinity(bound * bound));
        float below = MathF.BitDecrement(bound);
        Assert.True(float.IsFinite(below * below));
        var values = new[] { 1f, below, -bound, 2f, 3e38f, -1f, 0f, -3.1e38f, 5f };
        var bad = FloatRange.OverflowingColumns(values, 3);
        Assert.Equal([new ColumnOverflow(1, -3.1e38f, 2), new ColumnOverflow(2, -bound, 0)], bad);
        Assert.Empty(FloatRange.OverflowingColumns([float.NaN, float.PositiveInfinity, below], 1)); // non-finite is another check
    }

    [Fact]
    public void UploadNamesTheOverflowingColumns()
    {
        using var dir = new TempDir();
        var r = Csv.Load(dir.WriteText("big.csv", "id,price,area,y\n1,3e38,2,0\n2,1e20,1,1\n3,5,-2e19,0\n"));
        var device = TestDevices.Cpu;
        var e = Assert.Throws<DataFormatException>(() => DeviceDataset.Upload(device, r.Dataset));
        Assert.StartsWith("the data overflows float32 arithmetic: feature 2 (\"price\") holds 3E+38 (row 1), feature 3 (\"area\") holds -2E+19 (row 3). " +
            "A value of magnitude 2^64 (1.8e19) or more overflows float32", e.Message);
        Assert.EndsWith("standardise the features (Standardizer) or rescale those columns", e.Message);
        Assert.Equal(["Standardizer"], e.Settings);
        var targets = Dataset.Regression([1f, 2f], 1, [1f, 4e19f], 1);
        Assert.Contains("target 1 holds 4E+19 (row 2)", Assert.Throws<DataFormatException>(() => DeviceDataset.Upload(device, targets)).Message);
        // standardised, the same data trains
        using var fine = DeviceDataset.Upload(device, Standardizer.Fit(r.Dataset).Apply(r.Dataset));
        Assert.Equal(3, fine.Count);
    }

    [Fact]
    public void TrainSaysTheDataOverflowsNotTheStepSize()
    {
        using var cli = new CliRunner();
        string csv = cli.Dir.WriteText("big.csv", "a,price,y\n1,3e38,0\n2,-2.9e38,1\n3,1e38,0\n4,2e38,1\n");
        var (code, _, err) = cli.Run("train", "--data", $"csv:{csv}", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.StartsWith($"gpunet: error: {csv}: the data overflows float32 arithmetic: feature 2 (\"price\") holds 3E+38 (row 1).", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(cli.File("m.safetensors")));
        // a test file is named as the test file, its rows as it holds them, even when a validation split is asked for
        string fine = cli.Dir.WriteText("fine.csv", "a,price,y\n1,3,0\n2,-2,1\n3,1,0\n4,2,1\n");
        (code, _, err) = cli.Run("train", "--data", $"csv:{fine},test={csv}", "--validation", "0.5", "--epochs", "1", "--device", "cpu",
            "--model", cli.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.StartsWith($"gpunet: error: {csv}: the data overflows float32 arithmetic: feature 2 (\"price\") holds 3E+38 (row 1).", err);
        Assert.Contains("standardise the features (--standardize) or rescale those columns", err);
        Assert.DoesNotContain("step size", err.Replace("whatever the step size", ""));
        cli.Ok("train", "--data", $"csv:{csv}", "--standardize", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"));
    }

    /// <summary>eval has no step size and no --standardize to suggest: it names the data and the columns, and says to
    /// give the data in the scale the model was trained on.</summary>
    [Fact]
    public void EvalSaysTheDataOverflowsAndSuggestsNoTrainingOption()
    {
        using var cli = new CliRunner();
        string fine = cli.Dir.WriteText("fine.csv", "a,price,y\n1,3,0\n2,-2,1\n3,1,0\n4,2,1\n");
        cli.Ok("train", "--data", $"csv:{fine}", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"));
        string big = cli.Dir.WriteText("big.csv", "a,price,y\n1,3e38,0\n2,1,1\n");
        var (code, _, err) = cli.Run("eval", "--model", cli.File("m.safetensors"), "--data", $"csv:{big}", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: csv:{big}: the data overflows float32 arithmetic: feature 2 (\"price\") holds 3E+38 (row 1). A value of " +
                     "magnitude 2^64 (1.8e19) or more overflows float32 (±3.4e38) when squared, as the loss and the optimizer do, so the model's " +
                     "loss would overflow; give the features in the scale the model was trained on", err.Trim());
    }
}
