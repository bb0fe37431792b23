using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class SplitTests
{
    private static Dataset Rows(int n) =>
        Dataset.Regression(Enumerable.Range(0, n).Select(i => (float)i).ToArray(), 1, new float[n], 1);

    [Fact]
    public void SplitMix64MatchesTheReferenceSequence()
    {
        var r = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, r.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, r.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, r.NextUInt64());
        var p = new SplitMix64(42).Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000), p.Order());
        Assert.Equal(p, new SplitMix64(42).Permutation(1000));
        Assert.NotEqual(p, new SplitMix64(43).Permutation(1000));
        var rng = new SplitMix64(7);
        for (int i = 0; i < 1000; i++) Assert.InRange(rng.NextInt(3), 0, 2);
        Assert.InRange(rng.NextDouble(), 0.0, 1.0);
    }

    [Fact]
    public void TrainValidationIsDisjointCompleteAndSeeded()
    {
        var d = Rows(100);
        var (train, validation) = Split.TrainValidation(d, 0.1, 5);
        Assert.Equal((90, 10), (train.Count, validation.Count));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), train.Features.Concat(validation.Features).Order());
        Assert.Equal(train.Features.Order(), train.Features);
        var again = Split.TrainValidation(d, 0.1, 5);
        Assert.Equal(validation.Features, again.Validation.Features);
        Assert.NotEqual(validation.Features, Split.TrainValidation(d, 0.1, 6).Validation.Features);

        Assert.Equal(0, Split.TrainValidation(d, 0, 1).Validation.Count);
        Assert.Equal(1, Split.TrainValidation(Rows(3), 0.01, 1).Validation.Count);
        Assert.Equal(3, Split.TrainValidation(Rows(30), 0.1, 1).Validation.Count);
    }

    [Fact]
    public void ClassificationLabelsFollowTheirRows()
    {
        var d = Dataset.Classification([0f, 1f, 2f, 3f, 4f], 1, [0, 1, 0, 1, 0], 2, ["even", "odd"]);
        var (train, validation) = Split.TrainValidation(d, 0.4, 3);
        foreach (var part in new[] { train, validation })
            for (int i = 0; i < part.Count; i++)
                Assert.Equal((int)part.Features[i] % 2, part.Labels![i]);
        Assert.Equal(["even", "odd"], validation.ClassNames!);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(1.5)]
    public void BadFractionIsNamed(double fraction)
    {
        var e = Assert.Throws<GpuNetException>(() => Split.TrainValidation(Rows(10), fraction, 0));
        Assert.Contains($"validation fraction {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)} is outside [0, 1)", e.Message);
    }

    [Fact]
    public void SplitThatLeavesNoTrainingRowsFails()
    {
        var e = Assert.Throws<DataFormatException>(() => Split.TrainValidation(Rows(1), 0.5, 0));
        Assert.Contains("0.5 of 1 rows leaves no training rows", e.Message);
    }

    [Fact]
    public void StandardizerUsesTrainingStatistics()
    {
        // Feature 0: 1, 2, 3, 4 (mean 2.5, population std √1.25); feature 1 constant 7.
        var train = Dataset.Regression([1f, 7f, 2f, 7f, 3f, 7f, 4f, 7f], 2, new float[4], 1);
        var s = Standardizer.Fit(train);
        Assert.Equal([2.5f, 7f], s.Mean);
        Assert.Equal([(float)Math.Sqrt(1.25), 1f], s.Scale);
        var z = s.Apply(train);
        Assert.Equal(0.0, z.Features.Where((_, i) => i % 2 == 0).Sum(v => (double)v), 6);
        Assert.Equal(1.0, z.Features.Where((_, i) => i % 2 == 0).Sum(v => (double)v * v) / 4, 6);
        Assert.All(z.Features.Where((_, i) => i % 2 == 1), v => Assert.Equal(0f, v));
        Assert.Same(train.Targets, z.Targets);

        var other = s.Apply(Dataset.Regression([2.5f, 8f], 2, [0f], 1));
        Assert.Equal([0f, 1f], other.Features);

        var restored = new Standardizer(s.Mean, s.Scale);
        Assert.Equal(z.Features, restored.Apply(train).Features);
        var m = s.Mean;
        m[0] = 100;
        Assert.Equal(2.5f, s.Mean[0]);
    }

    [Fact]
    public void StandardizerConstantColumnOfAwkwardValueKeepsScaleOne()
    {
        var train = Dataset.Regression(Enumerable.Repeat(0.1f, 1001).ToArray(), 1, new float[1001], 1);
        var s = Standardizer.Fit(train);
        Assert.Equal(1f, s.Scale[0]);
        Assert.All(s.Apply(train).Features, v => Assert.True(Math.Abs(v) < 1e-6f));
    }

    [Fact]
    public void StandardizerErrors()
    {
        var s = Standardizer.Fit(Dataset.Regression([1f, 2f], 1, [0f, 0f], 1));
        var e = Assert.Throws<DataFormatException>(() => s.Apply(Dataset.Regression([1f, 2f], 2, [0f], 1)));
        Assert.Contains("2 features but the standardiser was fitted on 1", e.Message);
        Assert.Throws<DataFormatException>(() => new Standardizer([0f], [0f]));
        Assert.Throws<DataFormatException>(() => new Standardizer([float.NaN], [1f]));
        Assert.Throws<DataFormatException>(() => new Standardizer([0f, 1f], [1f]));
        Assert.Throws<DataFormatException>(() => Standardizer.Fit(Dataset.Regression([], 3, [], 1)));
    }
}
