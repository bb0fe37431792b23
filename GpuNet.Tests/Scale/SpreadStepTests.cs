using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Tests.Training;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Scale;

/// <summary>
/// Restarts spread over CPU accelerators of one process: restarts never interact and the kernels treat each on its
/// own, so a spread run must give every restart exactly the bits it gets on one device, through validation, progress
/// ticks, per-restart targets, and an interruption in the middle of an epoch.
/// </summary>
public class SpreadStepTests
{
    private static readonly NetworkSpec Spec = NetworkSpec.Dense([2, 6, 1], Activation.Tanh, Activation.Logistic);

    private static Dataset Data(int rows)
    {
        var rng = new Random(21);
        return Dataset.Regression(TestData.Uniform(rng, 2 * rows), 2, TestData.Uniform(rng, rows, 0f, 1f), 1);
    }

    private static readonly TrainOptions Options = new()
    {
        Epochs = 3, BatchSize = 5, LearningRate = 0.1f, ShuffleSeed = 3, ValidationFraction = 0.2,
        Optimizer = OptimizerOptions.WithMomentum(0.8f), TicksPerEpoch = 3,
    };

    private static (float[] Weights, TrainResult Result, string Step, TrainingState? Interrupted) Train(int devices, int restarts, TrainingState? resume = null,
        Func<TickReport, bool>? cancelAt = null)
    {
        var on = ScaleDevices.Take(devices);
        using var net = new Network(on[0], Spec, restarts, seed: 4);
        // One device runs what each device of the spread runs (a small network with restarts would take the per-restart step).
        using var trainer = new Trainer(net, devices == 1 ? Options with { Step = StepKind.Fused } : Options, new Placement(on));
        using var cancel = new CancellationTokenSource();
        var ticks = new SynchronousProgress<TickReport>(t => { if (cancelAt?.Invoke(t) == true) cancel.Cancel(); });
        var result = trainer.Fit(Data(37), ticks: ticks, resume: resume, cancellationToken: cancel.Token);
        return (net.Parameters.ReadAll(), result, trainer.StepName!, result.Cancelled ? trainer.CaptureState() : null);
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(3, 3)]
    public void EveryRestartGetsTheBitsItGetsOnOneDevice(int devices, int restarts)
    {
        var (one, oneResult, oneStep, _) = Train(1, restarts);
        var (spread, spreadResult, spreadStep, _) = Train(devices, restarts);
        Assert.Equal(("fused", "spread"), (oneStep, spreadStep));
        Assert.Equal(one, spread);
        Assert.Equal(oneResult.History.Select(h => h.TrainLoss), spreadResult.History.Select(h => h.TrainLoss));
        Assert.Equal(oneResult.FinalValidation!.Loss, spreadResult.FinalValidation!.Loss);
        Assert.Equal(oneResult.BestRestart, spreadResult.BestRestart);
    }

    [Fact]
    public void InterruptedInsideAnEpochAndResumedEndsAsTheStraightRun()
    {
        var (straight, _, _, _) = Train(2, 4);
        var (_, cut, _, state) = Train(2, 4, cancelAt: t => t.Epoch == 2);
        Assert.True(cut.Cancelled);
        Assert.NotNull(state);
        Assert.True(state.RowsDone > 0, "the run was to stop inside an epoch");
        var (resumed, _, _, _) = Train(2, 4, resume: state);
        Assert.Equal(straight, resumed);
    }

    /// <summary>R problems of one shape, one target set per restart: each device takes the target sets of its own
    /// restarts.</summary>
    [Fact]
    public void PerRestartTargetsFollowTheirRestarts()
    {
        var rng = new Random(5);
        int rows = 16;
        var x = TestData.Uniform(rng, 2 * rows);
        var targets = Enumerable.Range(0, 3).Select(_ => TestData.Uniform(rng, rows, 0f, 1f)).ToList();
        float[] Run(int devices)
        {
            var on = ScaleDevices.Take(devices);
            using var data = DeviceDataset.UploadPerRestartTargets(on[0], x, 2, targets, 1);
            using var net = new Network(on[0], Spec, 3, seed: 8);
            using var trainer = new Trainer(net, Options with { ValidationFraction = 0, TicksPerEpoch = 0, Step = devices == 1 ? StepKind.Fused : StepKind.Auto },
                new Placement(on));
            trainer.Fit(data);
            return net.Parameters.ReadAll();
        }
        Assert.Equal(Run(1), Run(2));
    }
}
