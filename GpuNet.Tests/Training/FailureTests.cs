using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Training;

public class FailureTests
{
    [Fact]
    public void DivergenceStopsNamingEpochAndStepAndRollsBackToTheLastGoodWeights()
    {
        var d = TestDevices.Cpu;
        var (train, _) = BuiltIn.Sine();
        using var net = new GpuNet.Model.Network(d, NetworkSpec.Dense([1, 8, 1], Activation.Relu, Activation.Identity), seed: 1);
        var atEpochEnd = new List<float[]> { net.GetParameters() };
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 20, BatchSize = 16, LearningRate = 3f, Shuffle = false });
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            trainer.Fit(train, progress: new SynchronousProgress<EpochReport>(_ => atEpochEnd.Add(net.GetParameters()))));
        Assert.InRange(ex.StepInEpoch, 1, 16);
        Assert.Contains($"epoch {ex.Epoch}, step {ex.StepInEpoch}", ex.Message);
        Assert.Contains("smaller step size", ex.Message);
        Assert.Equal(ex.Epoch, atEpochEnd.Count); // no epoch was reported after the divergence
        Assert.Equal(atEpochEnd[ex.Epoch - 1], net.GetParameters()); // rolled back to the start of the diverging epoch
        Assert.All(net.GetParameters(), v => Assert.True(float.IsFinite(v)));

        // Training from those weights on only the rows before the step named stays finite: that step is the first bad one.
        using var t2 = new Trainer(net, new TrainOptions { Epochs = 1, BatchSize = 16, LearningRate = 3f, Shuffle = false });
        int goodRows = (int)(ex.StepInEpoch - 1) * 16;
        if (goodRows > 0) t2.Fit(train.Subset(Enumerable.Range(0, goodRows).ToArray()));
    }

    /// <summary>A step's loss is taken before its update, so an update that breaks the weights in an epoch's last step
    /// shows in no loss of that epoch: the weight check at the epoch's end catches it (here the single step of the
    /// epoch makes a weight infinite).</summary>
    [Fact]
    public void AnUpdateThatBreaksTheWeightsInTheEpochsLastStepIsCaughtAtThatEpoch()
    {
        var d = TestDevices.Cpu;
        using var net = new GpuNet.Model.Network(d, NetworkSpec.Dense([1, 1], Activation.Identity, Activation.Identity), seed: 3);
        var start = net.GetParameters();
        var data = Dataset.Regression([0.5f, 1f], 1, [1e4f, 2e4f], 1); // large errors, large gradients
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 3, BatchSize = 2, Shuffle = false, LearningRate = 3e38f, Optimizer = OptimizerOptions.Sgd(),
        });
        var reported = new List<int>();
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            trainer.Fit(data, progress: new SynchronousProgress<EpochReport>(r => reported.Add(r.Epoch))));
        Assert.Equal(1, ex.Epoch);
        Assert.Equal(1, ex.StepInEpoch);
        Assert.Empty(reported); // the broken epoch was never reported (nor checkpointed)
        Assert.Equal(start, net.GetParameters()); // back to the weights the epoch started from
        Assert.Contains("the loss or the weights became NaN or infinite at epoch 1, step 1", ex.Message);
    }

    /// <summary>Weights can stay finite while the loss they give overflows float32; after the last epoch only the final
    /// pass over the data sees that, and it is a divergence too, not a model with an infinite loss.</summary>
    [Fact]
    public void AFinalLossThatOverflowsIsADivergenceNotAResult()
    {
        var d = TestDevices.Cpu;
        using var net = new GpuNet.Model.Network(d, NetworkSpec.Dense([1, 1], Activation.Identity, Activation.Identity), seed: 3);
        var start = net.GetParameters();
        var data = Dataset.Regression([0.5f, 1f], 1, [1f, 2f], 1);
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 1, BatchSize = 2, Shuffle = false, LearningRate = 1e36f, Optimizer = OptimizerOptions.Sgd(),
        });
        var ex = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(data));
        Assert.Equal(1, ex.Epoch);
        Assert.Equal(1, ex.StepInEpoch);
        Assert.Equal(start, net.GetParameters());
    }

    [Fact]
    public void OneDivergingRestartDoesNotStopTheOthers()
    {
        var d = TestDevices.Cpu;
        var (train, _) = BuiltIn.Sine();
        var spec = NetworkSpec.Dense([1, 8, 1], Activation.Tanh, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, copies: 2, seed: 1);
        var blowUp = net.GetParameters(1);
        blowUp[0] = float.NaN; // copy 1 is broken from the start
        net.SetParameters(blowUp, 1);
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.01f, Optimizer = OptimizerOptions.Adam() });
        var result = trainer.Fit(train);
        Assert.Equal(0, result.BestCopy);
        Assert.True(double.IsFinite(result.FinalTrainLoss[0]));
        Assert.False(double.IsFinite(result.FinalTrainLoss[1]));
    }

    [Fact]
    public void NonFiniteDataIsRefusedNamingRowAndColumn()
    {
        var d = TestDevices.Cpu;
        var x = new float[] { 0, 1, 2, 3, 4, float.NaN };
        var ex = Assert.Throws<DataFormatException>(() => DeviceDataset.Upload(d, Dataset.Regression(x, 2, [1, 2, 3], 1)));
        Assert.Contains("feature 1 of row 2 is NaN", ex.Message);
        ex = Assert.Throws<DataFormatException>(() => DeviceDataset.Upload(d, Dataset.Regression([0, 1, 2], 1, [1, float.PositiveInfinity, 3], 1)));
        Assert.Contains("target 0 of row 1", ex.Message);
    }

    [Fact]
    public void TooLargeForTheDeviceNamesTheBytesAndTheWayOut()
    {
        var d = TestDevices.Cpu;
        // One buffer larger than the whole device, whatever the machine: refused before any allocation.
        var spec = NetworkSpec.Dense([4096, 4096, 10], Activation.Relu, Activation.Identity);
        int copies = checked((int)(d.Info.MemoryBytes / (4L * spec.ParameterCount) + 1));
        var ex = Assert.Throws<GpuNet.Devices.DeviceMemoryException>(() => new GpuNet.Model.Network(d, spec, copies));
        Assert.Equal(4L * spec.ParameterCount * copies, ex.Bytes);
        Assert.Contains($"{ex.Bytes:N0} bytes", ex.Message);
        Assert.Contains($"{d.Info.MemoryBytes:N0} bytes", ex.Message);
        Assert.Contains("available", ex.Message);
        Assert.Contains("--batch", ex.Message);
    }

    /// <summary>Each buffer of a run may fit while all of them together do not (many restarts): the run is refused as a
    /// whole, before the weights are even made, instead of failing halfway or being killed by the operating system.</summary>
    [Fact]
    public void ARunWhoseBuffersTogetherDoNotFitIsRefusedBeforeAnythingIsAllocated()
    {
        var d = TestDevices.Cpu;
        var spec = NetworkSpec.Dense([2, 4096, 1], Activation.Relu, Activation.Identity);
        var options = new TrainOptions { BatchSize = 4, Optimizer = OptimizerOptions.Adam() };
        int copies = checked((int)(d.Info.MemoryBytes / (4L * spec.ParameterCount) * 2 / 3)); // the weights alone: 2/3 of the device
        long needed = Trainer.DeviceBytesNeeded(spec, copies, options, trainRows: 4);
        // the weights, their epoch-start copy and Adam's two moments: four times the weights at least
        Assert.True(needed >= 4 * 4L * spec.ParameterCount * copies, $"{needed:N0} bytes");
        var ex = Assert.Throws<GpuNet.Devices.DeviceMemoryException>(() => Trainer.CheckDeviceMemory(d, spec, copies, options, 4));
        Assert.Equal(needed, ex.Bytes);
        Assert.Contains($"training {copies:N0} restarts of {spec.ParameterCount:N0} parameters at batch 4 needs {needed:N0} bytes", ex.Message);
        Assert.Contains("fewer --restarts", ex.Message);
        // and a small run passes
        Trainer.CheckDeviceMemory(d, spec, 3, options, 4);

        // The command checks before it builds the network: 1000 restarts of 2-H-1, H sized so the weights alone take 2/3.
        long hidden = d.Info.MemoryBytes * 2 / 3 / (4L * 1000 * 4);
        using var cli = new Cli.CliRunner();
        var (code, _, err) = cli.Run("train", "--data", "xor", "--hidden", hidden.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--batch", "4", "--device", "cpu", "--restarts", "1000", "--model", cli.File("m.safetensors"));
        Assert.True(code == 1, err);
        Assert.Contains("training 1,000 restarts", err);
        Assert.False(File.Exists(cli.File("m.safetensors")));
    }
}
