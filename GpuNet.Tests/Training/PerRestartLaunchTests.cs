using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.Training;

/// <summary>What the per-restart step costs the host: one launch for all of an epoch's steps (up to the step's
/// <see cref="ITrainingStep.MaxStepsPerRun"/>), whatever the restarts, and no synchronisation inside the epoch. The counters
/// are per device, so this class owns one that no other test class touches.</summary>
public sealed class PerRestartLaunchTests(ITestOutputHelper output) : IDisposable
{
    private readonly Device device = Gpu.OpenCpu(2, 2, 2);

    public void Dispose() => device.Dispose();

    private (long Launches, long Syncs, long Steps, string Step) Train(int restarts, int rows, int batch, int epochs)
    {
        var spec = Networks.RunningExampleTests.Spec();
        var x = Enumerable.Range(0, rows).Select(i => (i % 4) / 3f).ToArray();
        var y = Enumerable.Range(0, rows).Select(i => (i % 4) is 1 or 2 ? 1f : 0f).ToArray();
        using var net = new GpuNet.Model.Network(device, spec, restarts, seed: 1);
        using var trainer = new Trainer(net, new TrainOptions { Epochs = epochs, BatchSize = batch, Step = StepKind.PerRestart });
        var data = Dataset.Regression(x, 1, y, 1);
        long l0 = device.Counters.Launches, s0 = device.Counters.Syncs;
        var result = trainer.Fit(data);
        return (device.Counters.Launches - l0, device.Counters.Syncs - s0, result.Steps, trainer.StepName!);
    }

    [Fact]
    public void AnEpochIsOneLaunchWhateverItsStepsAndTheRestarts()
    {
        var shortEpochs = Train(restarts: 1, rows: 16, batch: 4, epochs: 3);   // 4 steps an epoch
        var longEpochs = Train(restarts: 1, rows: 192, batch: 4, epochs: 3);   // 48 steps an epoch
        var thousand = Train(restarts: 1000, rows: 192, batch: 4, epochs: 3);
        Assert.Equal("per-restart", shortEpochs.Step);
        Assert.Equal((12, 144, 144), (shortEpochs.Steps, longEpochs.Steps, thousand.Steps));
        output.WriteLine($"{shortEpochs.Launches} launches and {shortEpochs.Syncs} synchronisations for 3 epochs of 4 steps; " +
            $"{longEpochs.Launches} and {longEpochs.Syncs} for 3 epochs of 48");
        Assert.Equal(shortEpochs.Launches, longEpochs.Launches); // 12 times the steps, not one launch more
        Assert.Equal(shortEpochs.Syncs, longEpochs.Syncs);
        Assert.Equal(longEpochs.Launches, thousand.Launches);
        Assert.Equal(longEpochs.Syncs, thousand.Syncs);
    }

    [Fact]
    public void TheFusedLaunchIsTheOnlyLaunchOfAStep()
    {
        // Through the step itself: 48 steps in runs of at most 48, one launch each, no synchronisation.
        var spec = Networks.RunningExampleTests.Spec();
        using var net = new GpuNet.Model.Network(device, spec, 1000, seed: 1);
        using var data = DeviceDataset.Upload(device, Dataset.Regression(Enumerable.Range(0, 192).Select(i => (i % 4) / 3f).ToArray(), 1,
            Enumerable.Range(0, 192).Select(i => (i % 4) is 1 or 2 ? 1f : 0f).ToArray(), 1));
        using var adam = OptimizerOptions.Adam().Create(device, net.Parameters.Length);
        using var step = TrainingSteps.Create(net, data, LossFunction.MeanSquaredError, adam, 4, StepKind.PerRestart);
        step.BeginEpoch(Enumerable.Range(0, 192).Reverse().ToArray());
        var rates = Enumerable.Repeat(0.01f, 48).ToArray();
        long l0 = device.Counters.Launches, s0 = device.Counters.Syncs;
        step.Run(0, Math.Min(48, step.MaxStepsPerRun), rates, 0);
        Assert.Equal(1, device.Counters.Launches - l0);
        Assert.Equal(0, device.Counters.Syncs - s0);
        Assert.StartsWith("Restarts.ThreadPerRestart<Net1x2x2x1,AdamRule>", device.Counters.LastKernel);
        Assert.Equal(Math.Min(48, step.MaxStepsPerRun), step.Optimizer.Steps);
    }
}
