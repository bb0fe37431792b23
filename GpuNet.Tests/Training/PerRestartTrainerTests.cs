using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Training;

/// <summary>The trainer with the per-restart step: the same networks, histories, best restart, divergence handling
/// and resumed runs as with the layered step, and the rule by which <see cref="TrainingSteps.Choose"/> picks it.</summary>
public class PerRestartTrainerTests
{
    private static NetworkSpec Xor22(Activation act) => NetworkSpec.Dense([2, 2, 2, 1], act, Activation.Identity);

    private static (TrainResult Result, float[] Parameters, string Step) Fit(NetworkSpec spec, int restarts, Dataset data, TrainOptions options,
        TrainingState? resume = null)
    {
        using var net = new GpuNet.Model.Network(TestDevices.Cpu, spec, restarts, seed: 3);
        using var trainer = new Trainer(net, options);
        var result = trainer.Fit(data, null, null, null, resume);
        return (result, net.Parameters.ReadAll(), trainer.StepName!);
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Every schedule with per-example SGD (the idea's recipe: one example, then the next, the step size
    /// decreasing), and each again with another rule or batch size.</summary>
    public static TheoryData<string, int, OptimizerKind> Schedules() => new()
    {
        { "constant", 1, OptimizerKind.Sgd },
        { "inverse", 1, OptimizerKind.Sgd },
        { "step", 1, OptimizerKind.Sgd },
        { "cosine", 1, OptimizerKind.Sgd },
        { "constant", 2, OptimizerKind.Adam },
        { "inverse", 1, OptimizerKind.Momentum },
        { "cosine", 3, OptimizerKind.Adam },
        { "step", 4, OptimizerKind.Momentum },
    };

    private static LearningRateSchedule Schedule(string name) => name switch
    {
        "inverse" => new InverseTimeRate(),
        "cosine" => new CosineRate(),
        "step" => new StepDecayRate(3, 0.1),
        _ => LearningRateSchedule.Constant,
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void TheTrainerTrainsTheSameNetworksEitherWay(string schedule, int batch, OptimizerKind optimizer)
    {
        var options = new TrainOptions
        {
            Epochs = 12, BatchSize = batch, LearningRate = 0.1f, Schedule = Schedule(schedule), Optimizer = new OptimizerOptions { Kind = optimizer },
            ShuffleSeed = 9,
        };
        var layered = Fit(Xor22(Activation.Tanh), 50, BuiltIn.Xor(), options with { Step = StepKind.Layered });
        var fused = Fit(Xor22(Activation.Tanh), 50, BuiltIn.Xor(), options with { Step = StepKind.PerRestart });
        Assert.Equal("layered", layered.Step);
        Assert.Equal("per-restart", fused.Step);
        Assert.Equal(layered.Parameters, fused.Parameters);
        Assert.Equal(layered.Result.Steps, fused.Result.Steps);
        Assert.Equal(layered.Result.BestRestart, fused.Result.BestRestart);
        Assert.Equal(layered.Result.FinalTrainLoss, fused.Result.FinalTrainLoss);
        Assert.Equal(layered.Result.History.Select(h => h.TrainLoss), fused.Result.History.Select(h => h.TrainLoss));
        Assert.Equal(layered.Result.History.Select(h => h.LearningRate), fused.Result.History.Select(h => h.LearningRate));
    }

    [Fact]
    public void ClassificationHitsAndValidationAreTheLayeredOnes()
    {
        var options = new TrainOptions { Epochs = 6, BatchSize = 5, ValidationFraction = 0.25, ShuffleSeed = 2 };
        var rng = new Random(4);
        int rows = 60;
        var x = TestData.Uniform(rng, rows * 3);
        var labels = Enumerable.Range(0, rows).Select(r => x[3 * r] + x[3 * r + 1] > 0 ? 1 : 0).ToArray();
        var data = Dataset.Classification(x, 3, labels, 2);
        var spec = NetworkSpec.Dense([3, 4, 2], Activation.Relu, Activation.Identity);
        var layered = Fit(spec, 8, data, options with { Step = StepKind.Layered });
        var fused = Fit(spec, 8, data, options with { Step = StepKind.PerRestart });
        Assert.Equal(layered.Parameters, fused.Parameters);
        Assert.Equal(layered.Result.History.Select(h => h.TrainAccuracy), fused.Result.History.Select(h => h.TrainAccuracy));
        Assert.Equal(layered.Result.History.Select(h => h.ValidationLoss), fused.Result.History.Select(h => h.ValidationLoss));
        Assert.Contains(fused.Result.History[^1].TrainAccuracy!, a => a > 0.5);
    }

    [Fact]
    public void DivergenceStopsTheRunAtTheSameStepWithTheSameWeights()
    {
        var options = new TrainOptions { Epochs = 30, BatchSize = 1, LearningRate = 50f, Optimizer = OptimizerOptions.Sgd() };
        TrainingDivergedException Diverge(StepKind kind, out float[] weights)
        {
            using var net = new GpuNet.Model.Network(TestDevices.Cpu, Xor22(Activation.Identity), 4, seed: 3);
            using var trainer = new Trainer(net, options with { Step = kind });
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(BuiltIn.Xor()));
            weights = net.Parameters.ReadAll();
            return e;
        }
        var layered = Diverge(StepKind.Layered, out var layeredWeights);
        var fused = Diverge(StepKind.PerRestart, out var fusedWeights);
        Assert.Equal((layered.Epoch, layered.Step, layered.StepInEpoch, layered.GoodEpochs, layered.BestRestart),
            (fused.Epoch, fused.Step, fused.StepInEpoch, fused.GoodEpochs, fused.BestRestart));
        Assert.Equal(layeredWeights, fusedWeights); // rolled back to the same last good weights
        Assert.All(fusedWeights, w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void ACancelledRunResumedFromItsStateEndsAsARunNeverInterrupted()
    {
        // 40 rows in batches of 3: 14 steps an epoch; with 3 progress ticks an epoch the step runs in launches of 4 steps,
        // and the run is cancelled at a tick inside epoch 3, so the state holds a position and partial sums inside it.
        var rng = new Random(8);
        var x = TestData.Uniform(rng, 40 * 2);
        var data = Dataset.Regression(x, 2, x.Where((_, i) => i % 2 == 0).Select(v => v * v).ToArray(), 1);
        var options = new TrainOptions { Epochs = 8, BatchSize = 3, Step = StepKind.PerRestart, LearningRate = 0.02f, ShuffleSeed = 4, TicksPerEpoch = 3 };
        var spec = NetworkSpec.Dense([2, 4, 1], Activation.Tanh, Activation.Identity);
        var straight = Fit(spec, 6, data, options);
        TrainingState saved;
        using (var net = new GpuNet.Model.Network(TestDevices.Cpu, spec, 6, seed: 3))
        using (var trainer = new Trainer(net, options))
        {
            using var stop = new CancellationTokenSource();
            int ticks = 0;
            var cut = trainer.Fit(data, null, null, new Inline<TickReport>(t => { if (t.Epoch == 3 && ++ticks == 2) stop.Cancel(); }), null, stop.Token);
            Assert.True(cut.Cancelled);
            saved = trainer.CaptureState();
        }
        Assert.Equal(2, saved.EpochsCompleted);
        Assert.True(saved.RowsDone > 0 && saved.RowsDone < 40, $"stopped at row {saved.RowsDone}");
        var resumed = Fit(spec, 6, data, options, resume: saved);
        Assert.Equal(straight.Parameters, resumed.Parameters);
        Assert.Equal(straight.Result.FinalTrainLoss, resumed.Result.FinalTrainLoss);
        Assert.Equal(straight.Result.History[^1].TrainLoss, resumed.Result.History[^1].TrainLoss);
    }

    [Fact]
    public void AutoTakesThePerRestartStepWhenTheNetworkFitsAndThereAreRestartsEnough()
    {
        var seed = Networks.RunningExampleTests.Spec();
        var (kind, why) = TrainingSteps.Choose(StepKind.Auto, seed, 1000, 4, optimizer: OptimizerKind.Adam);
        Assert.Equal(StepKind.PerRestart, kind);
        Assert.Contains("restart shape 1-2-2-1", why);
        var (one, oneWhy) = TrainingSteps.Choose(StepKind.Auto, seed, TrainingSteps.PerRestartFrom - 1, 4);
        Assert.Equal(StepKind.Fused, one);
        Assert.DoesNotContain("per-restart", oneWhy); // one restart: nothing to say of it
        var digits = NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity);
        var (big, bigWhy) = TrainingSteps.Choose(StepKind.Auto, digits, 1000, 32);
        Assert.Equal(StepKind.Fused, big);
        Assert.Contains("no restart shape holds a 64-64-10 network", bigWhy);
        var forced = Assert.Throws<ArgumentException>(() => TrainingSteps.Choose(StepKind.PerRestart, digits, 1000, 32));
        Assert.Contains("the per-restart step cannot run this network", forced.Message);
        Assert.Equal(StepKind.Layered, TrainingSteps.Choose(StepKind.Layered, seed, 1000, 4).Kind);
        Assert.Equal(StepKind.Fused, TrainingSteps.Choose(StepKind.Fused, seed, 1000, 4).Kind);
        Assert.Equal("per-restart", StepKind.PerRestart.Name());
    }

    [Fact]
    public void TheMemoryPlanCountsTheStepThatRuns()
    {
        var seed = Networks.RunningExampleTests.Spec();
        var fused = MemoryPlan.For(seed, 100_000, new TrainOptions { BatchSize = 4, Step = StepKind.PerRestart }, 4);
        var layered = MemoryPlan.For(seed, 100_000, new TrainOptions { BatchSize = 4, Step = StepKind.Layered }, 4);
        var general = MemoryPlan.For(seed, 100_000, new TrainOptions { BatchSize = 4, Step = StepKind.Fused }, 4);
        long Step(MemoryPlan p) => p.Items.Single(i => i.What == "training step").Bytes;
        Assert.Equal(PerRestartStep.Bytes(100_000, 4), Step(fused));
        Assert.True(Step(fused) < Step(layered) / 4, $"{Step(fused)} bytes vs {Step(layered)}");
        Assert.Equal(FusedStep.Bytes(seed.Layout, 100_000, 4, 4), Step(general));
    }
}
