using GpuNet.Compute;
using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU.Runtime;
using Xunit;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Tests.Kernels;

/// <summary>The fused step's loss kernel against the layer-by-layer loss and sums (bit for bit on the CPU accelerator,
/// where both add rows in order) and against the float64 reference (the grouped GPU kernel, whose tree order differs).</summary>
public class StepLossTests
{
    public static TheoryData<LossFunction, Activation> Losses()
    {
        var data = new TheoryData<LossFunction, Activation>();
        foreach (var a in Enum.GetValues<Activation>())
        {
            data.Add(LossFunction.MeanSquaredError, a);
            data.Add(LossFunction.MeanAbsoluteError, a);
        }
        data.Add(LossFunction.CrossEntropy, Activation.Identity);
        data.Add(LossFunction.BinaryCrossEntropy, Activation.Identity);
        return data;
    }

    /// <summary>One batch's inputs: outputs z [R, B, O] of the last layer, targets of 11 data rows (per restart or
    /// shared), an order over them, and sums that already hold earlier batches.</summary>
    private sealed record Case(int R, int B, int O, bool PerRestartTargets, bool Gathered, int FirstRow)
    {
        public const int DataRows = 11;

        public (float[] Z, float[] Y, int[] Order, double[] Loss, double[] Hits) Make(LossFunction loss, Activation act, int seed)
        {
            var rng = new Random(seed);
            var a = TestData.Uniform(rng, R * B * O, -3, 3);
            var z = Array.ConvertAll(a, v => (float)Reference.Activate(act, v));
            int sets = PerRestartTargets ? R : 1;
            var y = new float[sets * DataRows * O];
            for (int r = 0; r < sets * DataRows; r++)
                if (loss == LossFunction.CrossEntropy) y[r * O + rng.Next(O)] = 1f;
                else for (int j = 0; j < O; j++) y[r * O + j] = loss == LossFunction.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble();
            var order = Enumerable.Range(0, DataRows).OrderBy(_ => rng.Next()).ToArray();
            return (z, y, order, Enumerable.Range(0, R).Select(_ => rng.NextDouble()).ToArray(), Enumerable.Range(0, R).Select(_ => (double)rng.Next(5)).ToArray());
        }
    }

    private static readonly Case[] Cases =
    [
        new(1, 1, 1, false, false, 0), new(3, 7, 2, true, true, 4), new(2, 5, 3, false, true, 6), new(4, 3, 1, true, false, 8),
    ];

    private static (float[] Delta, double[] Loss, double[] Hits, long[] FirstBad) RunFused(Device d, LossFunction loss, Activation act,
        Case c, int seed, StepLossVariant variant)
    {
        var (z, y, order, loss0, hits0) = c.Make(loss, act, seed);
        using var dz = TestData.Upload(d, z);
        using var dy = TestData.Upload(d, y);
        using var delta = TestData.Poisoned(d, z.Length);
        using var dorder = d.Accelerator.Allocate1D(order);
        using var ls = d.Accelerator.Allocate1D(loss0);
        using var hs = d.Accelerator.Allocate1D(hits0);
        using var bad = d.Accelerator.Allocate1D(Enumerable.Repeat(-1L, c.R).ToArray());
        d.StepLoss.Run(loss, act, new StepLossArgs
        {
            Output = dz.View, Delta = delta.View, Targets = dy.View, Order = dorder.View, LossSum = ls.View, HitSum = hs.View,
            FirstBad = bad.View, Step = 17, TargetStride = c.PerRestartTargets ? (long)Case.DataRows * c.O : 0,
            Restarts = c.R, Rows = c.B, Width = c.O, FirstRow = c.FirstRow, Gathered = c.Gathered ? 1 : 0, CountHits = 1,
            GradScale = 1f / c.B, Threshold = loss.AccuracyThreshold(),
        }, variant);
        return (TestData.Download(delta, z.Length), ls.GetAsArray1D(), hs.GetAsArray1D(), bad.GetAsArray1D());
    }

    /// <summary>The same batch the layer-by-layer way: the rows gathered on the host, the loss kernel, then the sums.</summary>
    private static (float[] Delta, double[] Loss, double[] Hits) RunLayered(Device d, LossFunction loss, Activation act, Case c, int seed)
    {
        var (z, y, order, loss0, hits0) = c.Make(loss, act, seed);
        int sets = c.PerRestartTargets ? c.R : 1;
        var batchY = new float[sets * c.B * c.O];
        for (int s = 0; s < sets; s++)
            for (int b = 0; b < c.B; b++)
            {
                int row = c.Gathered ? order[c.FirstRow + b] : c.FirstRow + b;
                Array.Copy(y, ((long)s * Case.DataRows + row) * c.O, batchY, ((long)s * c.B + b) * c.O, c.O);
            }
        using var dz = TestData.Upload(d, z);
        using var dy = TestData.Upload(d, batchY);
        using var delta = TestData.Poisoned(d, z.Length);
        using var sums = new LossSums(d, c.R, c.B);
        sums.Set(loss0, hits0);
        sums.Add(Loss.Create(d, loss, act), dz.View, dy.View, c.PerRestartTargets ? (long)c.B * c.O : 0, delta.View, c.B, c.O, true);
        var (l, h) = sums.Read();
        return (TestData.Download(delta, z.Length), l, h);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void OneThreadPerRestartGivesTheLayeredPathsBitsOnTheCpu(LossFunction loss, Activation act)
    {
        var d = TestDevices.Cpu;
        foreach (var c in Cases)
        {
            var fused = RunFused(d, loss, act, c, 7, StepLossVariant.PerRestart);
            var layered = RunLayered(d, loss, act, c, 7);
            Assert.Equal(layered.Delta, fused.Delta);
            Assert.Equal(layered.Loss, fused.Loss);
            Assert.Equal(layered.Hits, fused.Hits);
            Assert.All(fused.FirstBad, b => Assert.Equal(-1L, b));
        }
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void TheGroupedKernelMatchesTheFloat64Reference(LossFunction loss, Activation act)
    {
        var d = TestDevices.GpuShaped; // 256-thread groups: the 128-thread kernel runs as on a GPU
        foreach (var c in Cases)
        {
            var fused = RunFused(d, loss, act, c, 11, StepLossVariant.Grouped);
            var layered = RunLayered(TestDevices.Cpu, loss, act, c, 11);
            Tolerances.AssertClose(fused.Delta, Array.ConvertAll(layered.Delta, v => (double)v), Tolerances.Loss, $"{loss}/{act} {c}: delta");
            Tolerances.AssertClose(Array.ConvertAll(fused.Loss, v => (float)v), layered.Loss, Tolerances.Reduction, $"{loss}/{act} {c}: loss sums");
            Assert.Equal(layered.Hits, fused.Hits); // whole numbers: exact in any order
        }
    }

    [Fact]
    public void ANonFiniteLossIsFlaggedWithTheStepOnce()
    {
        var d = TestDevices.Cpu;
        var c = new Case(2, 3, 1, false, false, 0);
        using var dz = TestData.Upload(d, [1, 2, 3, float.NaN, 5, 6]);
        using var dy = TestData.Upload(d, new float[Case.DataRows]);
        using var delta = TestData.Poisoned(d, 6);
        using var dorder = d.Accelerator.Allocate1D(new int[Case.DataRows]);
        using var ls = d.Accelerator.Allocate1D(new double[2]);
        using var hs = d.Accelerator.Allocate1D(new double[2]);
        using var bad = d.Accelerator.Allocate1D(new long[] { -1, -1 });
        var args = new StepLossArgs
        {
            Output = dz.View, Delta = delta.View, Targets = dy.View, Order = dorder.View, LossSum = ls.View, HitSum = hs.View,
            FirstBad = bad.View, Step = 5, Restarts = 2, Rows = 3, Width = 1, GradScale = 1f / 3, Threshold = 0.5f,
        };
        d.StepLoss.Run(LossFunction.MeanSquaredError, Activation.Identity, args);
        args.Step = 6;
        d.StepLoss.Run(LossFunction.MeanSquaredError, Activation.Identity, args);
        Assert.Equal(new long[] { -1, 5 }, bad.GetAsArray1D());
        Assert.Equal(0.0, hs.GetAsArray1D()[0]); // hits not counted when not asked for
    }
}
