using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.Training;

/// <summary>
/// Counts what a training step costs the host (kernel launches and synchronisations) and checks that a
/// device fault names the kernel launched last. Both are per device, so these tests own a device that no other test class touches (xunit runs test classes in
/// parallel; the tests of one class run one after another).
/// </summary>
public sealed class LaunchAccountingTests(ITestOutputHelper output) : IDisposable
{
    private readonly Device device = Gpu.OpenCpu(2, 2, 2);

    public void Dispose() => device.Dispose();

    private (long Launches, long Syncs, long Steps) Train(NetworkSpec spec, int restarts, int rows, int batch, int epochs, TrainOptions? template = null)
    {
        var rng = new Random(rows);
        var x = new float[rows * spec.InputSize];
        var y = new float[rows * spec.OutputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        for (int i = 0; i < y.Length; i++) y[i] = (float)rng.NextDouble();
        using var net = new GpuNet.Model.Network(device, spec, restarts, seed: 1);
        var options = (template ?? new TrainOptions()) with { Epochs = epochs, BatchSize = batch };
        using var trainer = new Trainer(net, options);
        var data = Dataset.Regression(x, spec.InputSize, y, spec.OutputSize);
        long l0 = device.Counters.Launches, s0 = device.Counters.Syncs;
        var result = trainer.Fit(data);
        return (device.Counters.Launches - l0, device.Counters.Syncs - s0, result.Steps);
    }

    private static readonly TrainOptions Layered = new() { Step = StepKind.Layered };

    [Fact]
    public void AStepHasNoSynchronisationAndTheSameLaunchesWhateverTheRestartCount()
    {
        var spec = Networks.RunningExampleTests.Spec();
        // The layer-by-layer step. 4 steps an epoch against 12: the difference is 8 epochs' worth of steps and nothing else.
        var shortEpochs = Train(spec, restarts: 1, rows: 16, batch: 4, epochs: 3, Layered);
        var longEpochs = Train(spec, restarts: 1, rows: 48, batch: 4, epochs: 3, Layered);
        Assert.Equal(12, shortEpochs.Steps);
        Assert.Equal(36, longEpochs.Steps);
        Assert.Equal(shortEpochs.Syncs, longEpochs.Syncs); // synchronisations are per epoch, none per step
        long extra = longEpochs.Launches - shortEpochs.Launches;
        Assert.Equal(0, extra % 24);
        long perStep = extra / 24;
        // forward (3 GEMMs, 3 bias+activation), loss, backward (3 weight GEMMs, 3 bias sums, 2 δ GEMMs,
        // 2 derivatives), update, divergence flag: at least 15, and a step of a 3-layer net has no reason for 40
        output.WriteLine($"{perStep} launches a step; {shortEpochs.Syncs} synchronisations for 3 epochs");
        Assert.InRange(perStep, 15, 40);

        // 1000 restarts side by side: the same launches a step as one network, and still no sync per step.
        var thousand = Train(spec, restarts: 1000, rows: 16, batch: 4, epochs: 3, Layered);
        var thousandLong = Train(spec, restarts: 1000, rows: 48, batch: 4, epochs: 3, Layered);
        Assert.Equal(shortEpochs.Launches, thousand.Launches);
        Assert.Equal(thousand.Syncs, thousandLong.Syncs);
        Assert.Equal(extra, thousandLong.Launches - thousand.Launches);
    }

    /// <summary>The fused step: 2·L + 2 launches for L layers (L forward GEMMs with their epilogues, the loss, L − 1
    /// backward launches of dW and δ together, the first layer's dW, the optimizer), whatever the restarts, and no
    /// synchronisation; at most 9 for a 3-layer network.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void AFusedStepTakesTwoLaunchesALayerAndTwoMore(int layers)
    {
        var sizes = new[] { 3, 4, 5, 3, 4, 2 }.Take(layers + 1).ToArray();
        var spec = NetworkSpec.Dense(sizes, Activation.Tanh, Activation.Identity);
        foreach (int restarts in new[] { 1, 1000 })
        {
            var shortEpochs = Train(spec, restarts, rows: 16, batch: 4, epochs: 2);
            var longEpochs = Train(spec, restarts, rows: 48, batch: 4, epochs: 2);
            Assert.Equal(shortEpochs.Syncs, longEpochs.Syncs);
            long perStep = (longEpochs.Launches - shortEpochs.Launches) / (longEpochs.Steps - shortEpochs.Steps);
            Assert.Equal(0, (longEpochs.Launches - shortEpochs.Launches) % (longEpochs.Steps - shortEpochs.Steps));
            Assert.Equal(2 * layers + 2, perStep);
            Assert.Equal(FusedStep.LaunchesPerStep(layers), perStep);
            output.WriteLine($"{layers} layers, {restarts} restarts: {perStep} launches a step");
        }
    }

    [Fact]
    public void SynchronisationsGrowWithEpochsNotWithSteps()
    {
        var spec = NetworkSpec.Dense([3, 5, 2], Activation.Tanh, Activation.Identity);
        var two = Train(spec, restarts: 2, rows: 40, batch: 1, epochs: 2);
        var four = Train(spec, restarts: 2, rows: 40, batch: 1, epochs: 4);
        Assert.Equal(80, two.Steps);
        long perEpoch = four.Syncs - two.Syncs;
        Assert.Equal(0, perEpoch % 2);
        perEpoch /= 2;
        output.WriteLine($"{perEpoch} synchronisations an epoch; {two.Syncs} for 2 epochs of 40 steps");
        Assert.InRange(perEpoch, 1, 3); // the loss sums and the divergence flags, read once an epoch
        Assert.True(two.Syncs <= 2 * perEpoch + 4, $"{two.Syncs} synchronisations for 2 epochs of 40 steps");
    }

    [Fact]
    public void ADeviceErrorNamesTheKernelLaunchedLast()
    {
        using var a = device.Allocate(4);
        device.Reductions.ColumnSum(a.View, a.View, 0, 2, 1, 2, 2);
        var ex = Assert.Throws<KernelFailedException>(() =>
            device.Guard<int>(() => throw new ILGPU.InternalCompilerException("simulated compiler failure")));
        // The registry's name of the kernel the launcher picked: the direct sum on the CPU accelerator, a tree on GPUs.
        Assert.StartsWith("Reductions.ColumnSum", ex.Kernel);
        Assert.Contains($"kernel {ex.Kernel} failed on", ex.Message);
        Assert.Contains("simulated compiler failure", ex.Message);
        // GpuNet's own argument checks are not dressed up as device faults
        Assert.Throws<ArgumentException>(() => device.Guard<int>(() => throw new ArgumentException("mine")));
    }
}
