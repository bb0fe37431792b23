using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Tests.Networks;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Scale;

/// <summary>
/// The replicated step on two or three CPU accelerators of one process: its slices' gradients add up to the batch's
/// (float64 reference, and the fused and layered steps of one device), training matches one device's default step
/// (fused) within <see cref="Tolerances.Replicated"/>,
/// reruns give the same bits, replicas stay identical (and the step notices when one does not), and resuming and
/// divergence behave as on one device.
/// </summary>
public class ReplicatedStepTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly NetworkSpec Spec = new(3, [new LayerSpec(5, Activation.Tanh), new LayerSpec(4, Activation.Relu, Mask()), new LayerSpec(3, Activation.Identity)]);

    private static bool[,] Mask()
    {
        var rng = new Random(7);
        var mask = new bool[4, 5];
        for (int j = 0; j < 4; j++) for (int i = 0; i < 5; i++) mask[j, i] = rng.Next(4) != 0;
        return mask;
    }

    private static Dataset Classes(int rows, int seed)
    {
        var rng = new Random(seed);
        return Dataset.Classification(TestData.Uniform(rng, rows * 3, -2f, 2f), 3, Enumerable.Range(0, rows).Select(_ => rng.Next(3)).ToArray(), 3);
    }

    private static double[][] Rows(float[] a, int width, IEnumerable<int> which) =>
        which.Select(r => a.Skip(r * width).Take(width).Select(v => (double)v).ToArray()).ToArray();

    /// <summary>One step of plain SGD with step size 1 on the first <paramref name="batch"/> rows of a shuffled order:
    /// w₀ − w₁ is the gradient the replicas summed, which must be the float64 gradient of those rows (each replica
    /// took its slice, scaled by 1/B) and one device's within the reordered sum's rounding, for the fused step (what one
    /// device runs by default, and each replica too) and the layered one; and every replica holds the same weights after
    /// it, bit for bit.</summary>
    [Theory]
    [InlineData(7, 2)]
    [InlineData(5, 3)]
    [InlineData(11, 3)]
    public void TheSlicesGradientsAddUpToTheBatchGradient(int batch, int replicas)
    {
        var devices = ScaleDevices.Take(replicas);
        var host = Classes(13, 3);
        var order = Enumerable.Range(0, host.Count).Reverse().ToArray();
        new Rng(4, 4).Shuffle(order);
        var fused = OneSgdStep(devices.Take(1).ToArray(), host, order, batch, StepKind.Fused, out _);
        var layered = OneSgdStep(devices.Take(1).ToArray(), host, order, batch, StepKind.Layered, out _);
        var summed = OneSgdStep(devices, host, order, batch, StepKind.Replicated, out var weights);
        var reference = new ReferenceNet(Spec, Array.ConvertAll(weights.Before, v => (double)v));
        var (_, refGrad) = reference.LossAndGradient(Rows(host.Features, 3, order.Take(batch)), Rows(host.Targets, 3, order.Take(batch)), LossFunction.CrossEntropy);
        Tolerances.AssertClose(summed, refGrad, Tolerances.NetworkGradient, $"{replicas} replicas' gradient vs float64");
        Tolerances.AssertClose(summed, Array.ConvertAll(fused, v => (double)v), Tolerances.Gemm(batch), 1e-7, "replicated vs fused gradient");
        Tolerances.AssertClose(summed, Array.ConvertAll(layered, v => (double)v), Tolerances.Gemm(batch), 1e-7, "replicated vs layered gradient");
        foreach (var replica in weights.Replicas) Assert.Equal(weights.After, replica);
    }

    private static float[] OneSgdStep(IReadOnlyList<GpuNet.Devices.Device> devices, Dataset host, int[] order, int batch, StepKind kind,
        out (float[] Before, float[] After, List<float[]> Replicas) weights)
    {
        using var net = new Network(devices[0], Spec, restarts: 1, seed: 5);
        using var data = DeviceDataset.Upload(devices[0], host);
        using var sgd = OptimizerOptions.Sgd().Create(devices[0], net.Parameters.Length);
        using var step = TrainingSteps.Create(net, data, LossFunction.CrossEntropy, sgd, batch, kind, new Placement(devices), OptimizerOptions.Sgd());
        var before = net.GetParameters();
        step.BeginEpoch(order);
        step.Run(0, 1, [1f], 0);
        var after = net.GetParameters();
        var replicas = step is ReplicatedStep r ? Enumerable.Range(1, devices.Count - 1).Select(d => r.ReplicaNetwork(d).GetParameters()).ToList() : [];
        weights = (before, after, replicas);
        return before.Zip(after, (b, a) => (float)((double)b - a)).ToArray();
    }

    private static TrainOptions Options(int batch) => new()
    {
        Epochs = 3, BatchSize = batch, LearningRate = 0.01f, ShuffleSeed = 8, Step = StepKind.Replicated,
    };

    /// <summary>Trains on <paramref name="devices"/>; on one device with the step it runs by default (fused), which is
    /// what several devices are to match.</summary>
    private static (float[] Weights, TrainResult Result) Train(IReadOnlyList<GpuNet.Devices.Device> devices, Dataset data, TrainOptions options,
        int restarts = 1)
    {
        using var net = new Network(devices[0], Spec, restarts, seed: 11);
        using var trainer = new Trainer(net, options with { Step = devices.Count == 1 ? StepKind.Auto : options.Step }, new Placement(devices));
        var result = trainer.Fit(data);
        Assert.Equal(devices.Count == 1 ? "fused" : "replicated", trainer.StepName);
        return (net.Parameters.ReadAll(), result);
    }

    /// <summary>Training with Adam (2 replicas) and momentum (3; Adam would not see gradients of the wrong scale) over 3 epochs (74 rows in batches of 8: the last batch of each
    /// epoch has 2 rows, which leaves one of 3 replicas nothing): the same model as one device within the tolerance of
    /// a reordered sum.</summary>
    [Theory]
    [InlineData(2, OptimizerKind.Adam)]
    [InlineData(3, OptimizerKind.Momentum)]
    public void TrainingMatchesOneDeviceWithinTheReorderedSumsTolerance(int replicas, OptimizerKind optimizer)
    {
        var data = Classes(74, 9);
        var options = Options(8) with { Optimizer = new OptimizerOptions { Kind = optimizer } };
        var (one, oneResult) = Train(ScaleDevices.Take(1), data, options);
        var (many, manyResult) = Train(ScaleDevices.Take(replicas), data, options);
        double error = Tolerances.RelativeError(many, Array.ConvertAll(one, v => (double)v));
        output.WriteLine($"{replicas} replicas, {optimizer}: weights differ from one device's by {error:E2} relative");
        Assert.True(error <= Tolerances.Replicated, $"{replicas} replicas vs one device, weights: relative error {error:E3} > {Tolerances.Replicated:E1}");
        double l1 = oneResult.FinalTrain.Loss[0], lm = manyResult.FinalTrain.Loss[0];
        Assert.True(Math.Abs(lm - l1) <= Tolerances.Replicated * l1, $"final loss {lm} on {replicas} replicas vs {l1} on one");
        Assert.Equal(oneResult.Steps, manyResult.Steps);
    }

    /// <summary>Each replica runs the fused step by default; on the CPU accelerator the fused and layered steps compute
    /// in the same order, so replicas running either give the same bits (on a GPU they may differ in the last places, as
    /// on one device).</summary>
    [Fact]
    public void ReplicasRunningFusedOrLayeredStepsGiveTheSameBits()
    {
        var devices = ScaleDevices.Take(2);
        var host = Classes(19, 6);
        float[] Run(StepKind each)
        {
            using var net = new Network(devices[0], Spec, restarts: 2, seed: 5);
            using var data = DeviceDataset.Upload(devices[0], host);
            using var adam = OptimizerOptions.Adam().Create(devices[0], net.Parameters.Length);
            using var step = new ReplicatedStep(net, data, LossFunction.CrossEntropy, adam, 5, new Placement(devices), OptimizerOptions.Adam(), each);
            Assert.Equal(each, step.EachDevice);
            step.BeginEpoch(Enumerable.Range(0, host.Count).Reverse().ToArray());
            step.Run(0, 4, [1e-2f, 1e-2f, 1e-2f, 1e-2f], 0);
            return net.GetParameters();
        }
        Assert.Equal(Run(StepKind.Layered), Run(StepKind.Fused));
    }

    [Fact]
    public void TwoRunsGiveTheSameBits()
    {
        var data = Classes(40, 2);
        var (first, _) = Train(ScaleDevices.Take(2), data, Options(6));
        var (second, _) = Train(ScaleDevices.Take(2), data, Options(6));
        Assert.Equal(first, second);
    }

    /// <summary>The step checks once an epoch that every replica holds the primary's weights: a replica changed behind
    /// its back is reported when the epoch's sums are read.</summary>
    [Fact]
    public void AReplicaThatDriftedIsReportedAtTheEpochsEnd()
    {
        var devices = ScaleDevices.Take(2);
        using var net = new Network(devices[0], Spec, restarts: 1, seed: 5);
        using var data = DeviceDataset.Upload(devices[0], Classes(12, 1));
        using var adam = OptimizerOptions.Adam().Create(devices[0], net.Parameters.Length);
        using var step = new ReplicatedStep(net, data, LossFunction.CrossEntropy, adam, 4, new Placement(devices), OptimizerOptions.Adam());
        step.BeginEpoch(null);
        step.Run(0, 1, [1e-3f], 0);
        step.Sums.ReadEpoch(net.Parameters); // in step: no complaint
        var replica = step.ReplicaNetwork(1);
        var w = replica.GetParameters();
        w[0] += 1e-3f;
        replica.SetParameters(w);
        var e = Assert.Throws<GpuNetException>(() => step.Sums.ReadEpoch(net.Parameters));
        Assert.Contains("replica on device 1", e.Message);
        Assert.Contains("no longer holds the primary's weights", e.Message);
    }

    /// <summary>Cancelled after epoch 2 and resumed from the captured state by a new trainer on the same two devices:
    /// the same bits as a run never interrupted (the state, written by the primary alone, holds everything; the replicas
    /// take it at the next epoch's start).</summary>
    [Fact]
    public void ResumedRunEndsAsTheUninterruptedOne()
    {
        var devices = ScaleDevices.Take(2);
        var data = Classes(30, 5);
        var options = Options(4) with { Epochs = 4, Optimizer = OptimizerOptions.WithMomentum(0.9f) };
        var (straight, _) = Train(devices, data, options);
        TrainingState state;
        using (var net = new Network(devices[0], Spec, 1, seed: 11))
        using (var trainer = new Trainer(net, options, new Placement(devices)))
        {
            using var cancel = new CancellationTokenSource();
            var result = trainer.Fit(data, progress: new GpuNet.Tests.Training.SynchronousProgress<EpochReport>(r => { if (r.Epoch == 2) cancel.Cancel(); }), cancellationToken: cancel.Token);
            Assert.True(result.Cancelled);
            state = trainer.CaptureState();
        }
        Assert.Equal(2, state.EpochsCompleted);
        using var resumed = new Network(devices[0], Spec, 1, seed: 999); // other weights: the state must replace them
        using (var trainer = new Trainer(resumed, options, new Placement(devices))) trainer.Fit(data, resume: state);
        Assert.Equal(straight, resumed.Parameters.ReadAll());
        // The state is the network's, not the devices': it resumes on three as well, the sums reordered from there on.
        using var onThree = new Network(devices[0], Spec, 1, seed: 999);
        using (var trainer = new Trainer(onThree, options, new Placement(ScaleDevices.Take(3)))) trainer.Fit(data, resume: state);
        double error = Tolerances.RelativeError(onThree.Parameters.ReadAll(), Array.ConvertAll(straight, v => (double)v));
        Assert.True(error <= Tolerances.Replicated, $"resumed on 3 devices: relative error {error:E3}");
    }

    /// <summary>A step size that blows up every restart on two replicas: the divergence is found and reported as on one
    /// device, with the network rolled back to finite weights.</summary>
    [Fact]
    public void DivergenceIsReportedAndRolledBack()
    {
        var devices = ScaleDevices.Take(2);
        using var net = new Network(devices[0], Spec, 1, seed: 11);
        using var trainer = new Trainer(net, Options(4) with { LearningRate = 1e30f, Optimizer = OptimizerOptions.Sgd() }, new Placement(devices));
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Classes(20, 4)));
        Assert.Equal(1, e.Epoch);
        Assert.All(net.GetParameters(), v => Assert.True(float.IsFinite(v)));
    }
}
