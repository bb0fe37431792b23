using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class BuiltInTests
{
    [Fact]
    public void DigitsHaveTheDocumentedShapeAndFixedSplit()
    {
        var all = BuiltIn.DigitsAll();
        Assert.Equal((1797, 64, 10), (all.Count, all.FeatureCount, all.TargetCount));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), all.ClassNames!);
        Assert.All(all.Features, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1f, all.Features.Max());
        // First row of the file: "0,0,5,13,9,1,0,0,..." with label 0.
        Assert.Equal([0f, 0f, 5 / 16f, 13 / 16f, 9 / 16f, 1 / 16f], all.Features[..6]);
        Assert.Equal(0, all.Labels![0]);
        Assert.Equal(10, all.Labels.Distinct().Count());

        var (train, test) = BuiltIn.Digits();
        Assert.Equal((1347, 450), (train.Count, test.Count));
        var (train2, test2) = BuiltIn.Digits();
        Assert.Equal(train.Features, train2.Features);
        Assert.Equal(test.Labels!, test2.Labels!);
        Assert.Equal(train.ClassNames, test.ClassNames);
        // Pinned so that a change to the shuffle or the data cannot go unnoticed.
        Assert.Equal([1, 2, 3, 7, 9, 0, 5, 7, 2, 5, 8, 5, 8, 4, 2, 7], test.Labels![..16]);
        Assert.Equal([48, 49, 39, 40, 56, 52, 36, 39, 43, 48], Enumerable.Range(0, 10).Select(c => test.Labels.Count(l => l == c)));
        Assert.Equal(new SplitMix64(BuiltIn.DigitsSeed).Permutation(1797)[..450].Order().Select(i => all.Labels[i]), test.Labels!);
    }

    [Fact]
    public void XorAndParity()
    {
        var xor = BuiltIn.Xor();
        Assert.Equal(TaskKind.Regression, xor.Task);
        Assert.Equal([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], xor.Features);
        Assert.Equal([0f, 1f, 1f, 0f], xor.Targets);

        var p = BuiltIn.Parity(5);
        Assert.Equal((32, 5, 1), (p.Count, p.FeatureCount, p.TargetCount));
        for (int i = 0; i < 32; i++)
        {
            int ones = 0;
            for (int j = 0; j < 5; j++) ones += (int)p.Features[i * 5 + j];
            Assert.Equal(ones % 2, (int)p.Targets[i]);
        }
        Assert.Equal([0f, 0f, 1f, 1f, 0f], p.Features.AsSpan(6 * 5, 5).ToArray());
        Assert.Equal(1, BuiltIn.Parity(1).FeatureCount);
        Assert.Contains("1 to 20 bits, got 0", Assert.Throws<GpuNetException>(() => BuiltIn.Parity(0)).Message);
        Assert.Contains("got 21", Assert.Throws<GpuNetException>(() => BuiltIn.Parity(21)).Message);
    }

    [Fact]
    public void Sine()
    {
        var (train, test) = BuiltIn.Sine();
        Assert.Equal((256, 1, 1), (train.Count, train.FeatureCount, train.TargetCount));
        Assert.Equal((100, 1, 1), (test.Count, test.FeatureCount, test.TargetCount));
        Assert.Equal((float)-Math.PI, train.Features[0]);
        Assert.Equal((float)Math.PI, train.Features[^1]);
        for (int i = 0; i < train.Count; i++) Assert.Equal((float)Math.Sin(train.Features[i]), train.Targets[i]);
        Assert.All(test.Features, x => Assert.InRange(x, (float)-Math.PI, (float)Math.PI));
        Assert.Equal(test.Features, BuiltIn.Sine().Test.Features);
        Assert.True(test.Features.Distinct().Count() > 95);
    }
}
