using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Training;

public class FailureTests
{
    /// <summary>Sine, 1-8-1 ReLU, plain SGD, batch 16, no shuffling. At step size 2 the loss first turns non-finite in
    /// the middle of epoch 1 (step 14): back to the epoch's start. At 3, epoch 1 ends with finite but huge weights and the
    /// very first loss of epoch 2 overflows: the start of epoch 2 is then no good either, and the weights go back to the
    /// start of epoch 1.</summary>
    [Theory]
    [InlineData(2f, false)]
    [InlineData(3f, true)]
    public void DivergenceStopsNamingEpochAndStepAndRollsBackToTheLastGoodWeights(float rate, bool firstLossOfEpochBad)
    {
        var d = TestDevices.Cpu;
        var (train, _) = BuiltIn.Sine();
        using var net = new GpuNet.Model.Network(d, NetworkSpec.Dense([1, 8, 1], Activation.Relu, Activation.Identity), seed: 1);
        var atEpochEnd = new List<float[]> { net.GetParameters() };
        TrainOptions Options(int epochs) => new() { Epochs = epochs, BatchSize = 16, LearningRate = rate, Shuffle = false, Optimizer = OptimizerOptions.Sgd() };
        using var trainer = new Trainer(net, Options(20));
        var ex = Assert.Throws<TrainingDivergedException>(() =>
            trainer.Fit(train, progress: new SynchronousProgress<EpochReport>(_ => atEpochEnd.Add(net.GetParameters()))));
        Assert.Contains($"epoch {ex.Epoch}, step {ex.StepInEpoch}", ex.Message);
        Assert.Contains("smaller step size", ex.Message);
        Assert.Equal(ex.Epoch, atEpochEnd.Count); // no epoch was reported after the divergence
        Assert.Equal(firstLossOfEpochBad, ex.StepInEpoch == 1);
        Assert.Equal(firstLossOfEpochBad ? ex.Epoch - 2 : ex.Epoch - 1, ex.GoodEpochs);
        Assert.Equal(atEpochEnd[ex.GoodEpochs], net.GetParameters());
        Assert.Contains($"rolled back to the start of epoch {ex.GoodEpochs + 1}", ex.Message);
        // the last good weights are good: finite, and so is their loss on the whole training set
        Assert.All(net.GetParameters(), v => Assert.True(float.IsFinite(v)));
        using (var check = new Trainer(net, new TrainOptions()))
            Assert.True(double.IsFinite(check.Evaluate(train).Loss[0]), "the rolled-back weights give a non-finite loss");
        if (firstLossOfEpochBad) return;

        // From those weights (the diverging epoch's start), the steps before the one named all have a finite loss (the
        // epoch is reported with one; at most the final pass, which is the named step's loss, overflows), and one more
        // batch brings the bad loss back: that step is the first bad one.
        var rolledBack = net.GetParameters();
        int goodRows = (int)(ex.StepInEpoch - 1) * 16;
        Assert.True(goodRows > 0);
        var epochLoss = new List<double>();
        using (var before = new Trainer(net, Options(1)))
        {
            try { before.Fit(train.Subset(Enumerable.Range(0, goodRows).ToArray()), progress: new SynchronousProgress<EpochReport>(r => epochLoss.Add(r.BestTrainLoss))); }
            catch (TrainingDivergedException late) { Assert.Equal(ex.StepInEpoch - 1, late.Step); }
        }
        Assert.True(double.IsFinite(Assert.Single(epochLoss)));
        net.SetParameters(rolledBack);
        using var through = new Trainer(net, Options(1));
        var again = Assert.Throws<TrainingDivergedException>(() => through.Fit(train.Subset(Enumerable.Range(0, goodRows + 16).ToArray())));
        Assert.Equal(ex.StepInEpoch, again.StepInEpoch);
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
        using var net = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 1);
        var blowUp = net.GetParameters(1);
        blowUp[0] = float.NaN; // copy 1 is broken from the start
        net.SetParameters(blowUp, 1);
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.01f, Optimizer = OptimizerOptions.Adam() });
        var result = trainer.Fit(train);
        Assert.Equal(0, result.BestRestart);
        Assert.True(double.IsFinite(result.FinalTrainLoss[0]));
        Assert.False(double.IsFinite(result.FinalTrainLoss[1]));
    }

    /// <summary>Early stopping and the choice of the best copy look at the finite losses only: one diverged restart
    /// (NaN from the start) neither stops the run early nor hides the others' progress.</summary>
    [Fact]
    public void ADivergedRestartDoesNotTriggerEarlyStopping()
    {
        var d = TestDevices.Cpu;
        var (train, _) = BuiltIn.Sine();
        var (fit, val) = Split.TrainValidation(train, 0.2, 1);
        var spec = NetworkSpec.Dense([1, 8, 1], Activation.Tanh, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 1);
        var broken = net.GetParameters(0);
        broken[0] = float.NaN; // copy 0, the first one, is broken
        net.SetParameters(broken, 0);
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 6, BatchSize = 32, LearningRate = 0.01f, Optimizer = OptimizerOptions.Adam(), EarlyStopPatience = 2,
        });
        var reports = new List<EpochReport>();
        var result = trainer.Fit(fit, val, new SynchronousProgress<EpochReport>(reports.Add));
        Assert.False(result.StoppedEarly);
        Assert.Equal(6, result.EpochsCompleted);
        Assert.Equal(1, result.BestRestart);
        Assert.All(reports, r => Assert.Equal(1, r.BestRestart));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.BestTrainLoss)));
        Assert.True(reports[^1].BestTrainLoss < reports[0].BestTrainLoss);
    }

    [Fact]
    public void CopyRankingIgnoresDivergedCopies()
    {
        Assert.Equal(2, RestartRanking.Best([double.NaN, double.PositiveInfinity, 3, 1.5 + 2, double.NegativeInfinity]));
        Assert.Equal(3.0, RestartRanking.BestLoss([double.NaN, 3, 4]));
        Assert.Equal(0, RestartRanking.Best([double.NaN, double.NaN]));
        Assert.True(double.IsNaN(RestartRanking.BestLoss([double.NaN, double.PositiveInfinity])));
        Assert.Equal(1, RestartRanking.Best([2, 1, 1])); // ties: the first
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
        Assert.Contains("Use a smaller batch, fewer restarts or a smaller network", ex.Message);
        Assert.Contains("Use a smaller --batch, fewer --restarts", ex.MessageNaming("--batch", "--restarts"));
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
        long needed = MemoryPlan.For(spec, copies, options, trainRows: 4).Bytes;
        // the weights, their epoch-start copy and Adam's two moments: four times the weights at least
        Assert.True(needed >= 4 * 4L * spec.ParameterCount * copies, $"{needed:N0} bytes");
        var ex = Assert.Throws<GpuNet.Devices.DeviceMemoryException>(() => MemoryPlan.For(spec, copies, options, 4).Check(d, spec, copies));
        Assert.Equal(needed, ex.Bytes);
        Assert.Contains($"training {copies:N0} restarts of {spec.ParameterCount:N0} parameters at batch 4 needs {needed:N0} bytes", ex.Message);
        Assert.Contains("fewer restarts", ex.Message);
        Assert.Contains("fewer --restarts", ex.MessageNaming("--batch", "--restarts"));
        // and a small run passes
        MemoryPlan.For(spec, 3, options, 4).Check(d, spec, 3);

        // The command checks before it builds the network: 1000 restarts of 2-H-1, H sized so the weights alone take 2/3.
        long hidden = d.Info.MemoryBytes * 2 / 3 / (4L * 1000 * 4);
        using var cli = new Cli.CliRunner();
        var (code, _, err) = cli.Run("train", "--data", "xor", "--hidden", hidden.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--batch", "4", "--device", "cpu", "--restarts", "1000", "--model", cli.File("m.safetensors"));
        Assert.True(code == 1, err);
        Assert.Contains("training 1,000 restarts", err);
        Assert.Contains("Use a smaller --batch, fewer --restarts or a smaller network", err);
        Assert.False(File.Exists(cli.File("m.safetensors")));
    }

    /// <summary>After a divergence, the restart kept is the best of the last good epoch among those whose rolled-back
    /// weights are finite: a restart's losses can stay finite through an epoch whose last update broke its weights.</summary>
    [Fact]
    public void TheRestartKeptAfterADivergenceHasFiniteWeights()
    {
        float[] weights = [float.NaN, 2, 3, 4, 5, 6, 7, float.PositiveInfinity]; // restarts 0 and 3 broken
        Assert.Equal(2, Trainer.BestWithFiniteWeights([0.1, 0.5, 0.2, 0.05], weights, 2)); // 0 and 3 are best by loss
        Assert.Equal(1, Trainer.BestWithFiniteWeights([0.1, 0.15, 0.2, 0.05], weights, 2));
        Assert.Equal(0, Trainer.BestWithFiniteWeights([0.1, 0.5], [float.NaN, 1, 1, float.NaN], 2)); // none: 0, which the command does not save
    }
}
