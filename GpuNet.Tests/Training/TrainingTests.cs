using System.Diagnostics;
using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using ILGPU.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.Training;

public class TrainingTests(ITestOutputHelper output)
{
    private static readonly float[] XorX = [0, 0, 0, 1, 1, 0, 1, 1];
    private static readonly float[] XorY = [0, 1, 1, 0];

    /// <summary>R restarts side by side give the same networks as the same R trained one at a time from the
    /// same seeds (restart k of seed s is initialised identically either way, and restarts never interact).</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void SideBySideEqualsOneAtATime(string device)
    {
        var d = TestDevices.Get(device);
        var spec = NetworkSpec.Dense([2, 5, 3, 1], Activation.Tanh, Activation.Logistic);
        var rng = new Random(17);
        var data = Dataset.Regression(TestData.Uniform(rng, 2 * 11), 2, TestData.Uniform(rng, 11, 0f, 1f), 1);
        var options = new TrainOptions
        {
            Epochs = 4, BatchSize = 3, LearningRate = 0.2f, ShuffleSeed = 99,
            Optimizer = OptimizerOptions.WithMomentum(0.8f, nesterov: true),
            Schedule = new InverseTimeRate(0.5),
        };
        const int k = 4;
        using var together = new GpuNet.Model.Network(d, spec, restarts: k, seed: 123);
        using (var t = new Trainer(together, options)) t.Fit(data);
        for (int c = 0; c < k; c++)
        {
            using var alone = new GpuNet.Model.Network(d, spec, restarts: 1, seed: 123, firstRestart: c);
            using (var t = new Trainer(alone, options)) t.Fit(data);
            Tolerances.AssertClose(together.GetParameters(c), Array.ConvertAll(alone.GetParameters(), v => (double)v),
                Tolerances.SameTraining, $"copy {c} side by side vs alone");
        }
    }

    /// <summary>XOR with 2-4-1 (tanh hidden, logistic output, squared error, full batch), for each of 20 seeds
    /// with 4 restarts: the best restart of every seed reaches loss &lt; 1e-3. The 20 × 4 networks train side by
    /// side in one run; copy 4s + r is initialised exactly as restart r of seed s.</summary>
    [Fact]
    public void XorIsLearnedForEverySeedWithRestarts()
    {
        var d = TestDevices.Cpu;
        var spec = NetworkSpec.Dense([2, 4, 1], Activation.Tanh, Activation.Logistic);
        const int seeds = 20, restarts = 4;
        using var net = new GpuNet.Model.Network(d, spec, restarts: seeds * restarts);
        for (int s = 0; s < seeds; s++)
            for (int r = 0; r < restarts; r++)
                net.SetParameters(spec.InitialParameters((ulong)s, r), s * restarts + r);
        var options = new TrainOptions
        {
            Epochs = 1500, BatchSize = 4, Shuffle = false, LearningRate = 0.05f, Optimizer = OptimizerOptions.Adam(),
        };
        var clock = Stopwatch.StartNew();
        using var trainer = new Trainer(net, options);
        var result = trainer.Fit(Dataset.Regression(XorX, 2, XorY, 1));
        output.WriteLine($"XOR: {seeds}×{restarts} networks, {result.Steps} steps in {clock.Elapsed.TotalSeconds:F1} s");
        for (int s = 0; s < seeds; s++)
        {
            double best = Enumerable.Range(s * restarts, restarts).Min(c => result.FinalTrainLoss[c]);
            output.WriteLine($"seed {s}: best of {restarts} restarts, loss {best:E2}");
            Assert.True(best < 1e-3, $"seed {s}: best loss {best:E3} ≥ 1e-3");
        }
        // The trainer's own pick is the lowest final loss overall, and it is a real network that computes XOR.
        int bestCopy = result.BestRestart;
        Assert.Equal(result.FinalTrainLoss.Min(), result.FinalTrainLoss[bestCopy]);
        var outputs = net.Predict(XorX, 4, bestCopy);
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(outputs[i] - XorY[i]) < 0.05, $"XOR row {i}: {outputs[i]}");
    }

    /// <summary>All 256 boolean functions {0,1}³ → {0,1}, each learned to 100 % accuracy by one hidden layer of
    /// 8 tanh neurons (Adam, binary cross-entropy on the output logit, 500 full-batch epochs). Width 8 suffices:
    /// one hidden neuron per input row can fire for that row alone (a
    /// minterm), and the output neuron sums those of the rows where the function is 1 (the disjunctive normal
    /// form). The 256 networks, each with its own targets, train side by side in one run.</summary>
    [Fact]
    public void All256BooleanFunctionsOfThreeInputsAreLearned()
    {
        var d = TestDevices.Cpu;
        var x = new float[8 * 3];
        for (int r = 0; r < 8; r++) for (int b = 0; b < 3; b++) x[r * 3 + b] = (r >> b) & 1;
        var targets = new float[256][];
        for (int f = 0; f < 256; f++)
        {
            targets[f] = new float[8];
            for (int r = 0; r < 8; r++) targets[f][r] = (f >> r) & 1;
        }
        var spec = NetworkSpec.Dense([3, 8, 1], Activation.Tanh, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, restarts: 256, seed: 1);
        using var data = DeviceDataset.UploadPerRestartTargets(d, x, 3, targets, 1, classification: true);
        var options = new TrainOptions
        {
            Epochs = 500, BatchSize = 8, Shuffle = false, LearningRate = 0.05f,
            Optimizer = OptimizerOptions.Adam(), Loss = LossFunction.BinaryCrossEntropy,
        };
        using var trainer = new Trainer(net, options);
        using var forward = new GpuNet.Compute.ForwardPass(d, spec.Layout, 256, 8);
        // Accuracy as the device counts it agrees with the host reading the outputs (logit > 0 means 1), for every
        // function: one forward pass of the 256 copies, outputs [copy, row].
        void AssertAccuracyIsWhatTheOutputsSay(double[] acc, string when)
        {
            forward.Run(net.Parameters, data.Features, 0, 8);
            var outs = new float[256 * 8];
            forward.Output(8).CopyToCPU(outs);
            for (int f = 0; f < 256; f++)
            {
                int right = Enumerable.Range(0, 8).Count(r => (targets[f][r] == 1f) == (outs[f * 8 + r] > 0f));
                Assert.True(right / 8.0 == acc[f], $"{when}, function {f}: the device counted accuracy {acc[f]}, the outputs give {right}/8");
            }
        }
        // Untrained, the accuracies spread out, so the count is checked on more than "all right".
        var before = trainer.Evaluate(data).Accuracy!;
        Assert.True(before.Distinct().Count() >= 4, $"untrained accuracies: {string.Join(", ", before.Distinct())}");
        AssertAccuracyIsWhatTheOutputsSay(before, "untrained");

        var result = trainer.Fit(data);
        var acc = result.FinalTrain.Accuracy!;
        var failed = Enumerable.Range(0, 256).Where(f => acc[f] < 1.0).ToArray();
        Assert.True(failed.Length == 0, $"functions not learned: {string.Join(", ", failed)}");
        AssertAccuracyIsWhatTheOutputsSay(acc, "trained");
    }

    /// <summary>sin(x) on [−π, π] regressed by 1-16-1 (tanh, identity output) to mean squared error &lt; 1e-3
    /// on 100 random points it was not trained on.</summary>
    [Fact]
    public void SineIsRegressed()
    {
        var d = TestDevices.Cpu;
        const int n = 256;
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)(-Math.PI + 2 * Math.PI * i / (n - 1)); y[i] = MathF.Sin(x[i]); }
        var rng = new Random(8);
        var xt = TestData.Uniform(rng, 100, -MathF.PI, MathF.PI);
        var yt = Array.ConvertAll(xt, MathF.Sin);
        var spec = NetworkSpec.Dense([1, 16, 1], Activation.Tanh, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, restarts: 1, seed: 3);
        var options = new TrainOptions
        {
            Epochs = 300, BatchSize = 32, LearningRate = 0.02f, Optimizer = OptimizerOptions.Adam(),
            Schedule = new CosineRate(0.05), ShuffleSeed = 4,
        };
        var losses = new List<double>();
        using var trainer = new Trainer(net, options);
        var result = trainer.Fit(Dataset.Regression(x, 1, y, 1), Dataset.Regression(xt, 1, yt, 1),
            new SynchronousProgress<EpochReport>(r => losses.Add(r.TrainLoss[0])));
        Assert.Equal(300, losses.Count);
        double test = result.FinalValidation!.Loss[0];
        output.WriteLine($"sine: train {result.FinalTrainLoss[0]:E2}, test {test:E2}, epoch 1 {losses[0]:E2}");
        Assert.True(test < 1e-3, $"test mse {test:E3}");
        Assert.True(losses[^1] < losses[0] / 50, "the loss did not fall");
    }

    /// <summary>1000 restarts of the idea's 12-weight network (1-2-2-1, edge 3 → 7 missing) side by side on the
    /// one-dimensional XOR (x = 0, 1/3, 2/3, 1 → 0, 1, 1, 0): one run (the launches a step do not depend on K: LaunchAccountingTests).</summary>
    [Fact]
    public void AThousandRestartsOfTheSeedNetworkTrainInOneRun()
    {
        var d = TestDevices.Cpu;
        var spec = Networks.RunningExampleTests.Spec();
        using var net = new GpuNet.Model.Network(d, spec, restarts: 1000, seed: 2);
        var data = Dataset.Regression([0f, 1f / 3, 2f / 3, 1f], 1, [0f, 1f, 1f, 0f], 1);
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 600, BatchSize = 4, Shuffle = false, LearningRate = 0.1f, Optimizer = OptimizerOptions.Adam(),
        });
        var result = trainer.Fit(data);
        Assert.Equal(600, result.Steps);
        var losses = result.FinalTrainLoss;
        Assert.Equal(1000, losses.Length);
        Assert.Equal(losses.Min(), losses[result.BestRestart]);
        output.WriteLine($"1000 restarts: best {losses.Min():E2}, median {losses.Order().ElementAt(500):E2}, worst {losses.Max():E2}");
        Assert.True(losses.Min() < 1e-3, $"best of 1000 restarts: {losses.Min():E3}");
        // some restarts end in a poor local minimum (the reason for restarts), and the best is not one of them
        Assert.True(losses.Count(l => l > 0.05) > 0, "every restart ended alike: the copies did not start from different weights");
        // the missing edge stays missing in every copy
        Assert.All(Enumerable.Range(0, 1000), k => Assert.Equal(0f, net.GetWeights(2, k)[1, 0]));
    }

    /// <summary>Cancelled after epoch 3 of 1000: the run stops before the next step and keeps exactly the network of an
    /// uncancelled 3-epoch run from the same seed (constant step size, so the planned length changes nothing).</summary>
    [Fact]
    public void CancellationStopsBetweenStepsAndKeepsWhatWasDone()
    {
        var d = TestDevices.Cpu;
        var spec = NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity);
        var data = Dataset.Regression(XorX, 2, XorY, 1);
        using var net = new GpuNet.Model.Network(d, spec, seed: 6);
        using var cts = new CancellationTokenSource();
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 1000, BatchSize = 1 });
        var result = trainer.Fit(data, null, new SynchronousProgress<EpochReport>(r => { if (r.Epoch == 3) cts.Cancel(); }), cancellationToken: cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(3, result.EpochsCompleted);
        Assert.Equal(12, result.Steps);

        using var straight = new GpuNet.Model.Network(d, spec, seed: 6);
        using var straightTrainer = new Trainer(straight, new TrainOptions { Epochs = 3, BatchSize = 1 });
        var full = straightTrainer.Fit(data);
        Assert.Equal(straight.GetParameters(), net.GetParameters()); // bit for bit: the CPU accelerator is deterministic
        Assert.Equal(full.History.Select(r => r.TrainLoss[0]), result.History.Select(r => r.TrainLoss[0]));
    }

    /// <summary>64 rows of 2 features in 3 classes, for the tick tests.</summary>
    private static Dataset ThreeClasses()
    {
        var rng = new Random(21);
        var labels = Enumerable.Range(0, 64).Select(_ => rng.Next(3)).ToArray();
        return Dataset.Classification(TestData.Uniform(rng, 64 * 2), 2, labels, 3);
    }

    /// <summary>Ticks inside each epoch report the running means of the rows seen so far. With a step size far below one
    /// ulp of any weight (so the weights never move, which is checked), the running means after R rows are the loss and
    /// accuracy of the first R rows (no shuffle) under the initial weights, for the copy whose running loss is lowest.</summary>
    [Fact]
    public void TicksReportTheRunningMeansOfTheRowsSeenSoFar()
    {
        var d = TestDevices.Cpu;
        var data = ThreeClasses();
        var spec = NetworkSpec.Dense([2, 5, 3], Activation.Tanh, Activation.Identity);
        using var net = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 4);
        for (int k = 0; k < 2; k++) // biases start at 0, which any step would move; these are ulps away from a step
            for (int l = 1; l <= 2; l++) net.SetBias(l, Enumerable.Range(1, spec.Layers[l - 1].Size).Select(j => 0.1f * j * (k + 1)).ToArray(), k);
        var initial = new[] { net.GetParameters(0), net.GetParameters(1) };
        // 16 steps an epoch, a tick every 4 steps; none at the epoch's end, where the epoch report comes instead.
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 2, BatchSize = 4, LearningRate = 1e-30f, Shuffle = false, Loss = LossFunction.CrossEntropy, TicksPerEpoch = 4,
        });
        var ticks = new List<TickReport>();
        trainer.Fit(data, ticks: new SynchronousProgress<TickReport>(ticks.Add));
        Assert.Equal(initial[0], net.GetParameters(0));
        Assert.Equal(initial[1], net.GetParameters(1));

        // After the last epoch, the final evaluation announces itself with a tick of its own.
        Assert.Equal([(TickPhase.FinalEvaluation, "training data", 0, 64)],
            ticks.Where(t => t.Phase != TickPhase.Training).Select(t => (t.Phase, t.Data, t.RowsDone, t.Rows)));
        ticks = ticks.Where(t => t.Phase == TickPhase.Training).ToList();
        Assert.Equal([(1, 16), (1, 32), (1, 48), (2, 16), (2, 32), (2, 48)], ticks.Select(t => (t.Epoch, t.RowsDone)));
        Assert.Equal([4L, 8, 12, 4, 8, 12], ticks.Select(t => t.StepsDone));
        Assert.All(ticks, t => Assert.Equal(16, t.StepsInEpoch));
        foreach (var t in ticks)
        {
            Assert.Equal((2, 64), (t.Epochs, t.Rows));
            Assert.True(t.SamplesPerSecond > 0 && double.IsFinite(t.SamplesPerSecond), $"samples/s {t.SamplesPerSecond}");
            var seen = trainer.Evaluate(data.Subset(Enumerable.Range(0, t.RowsDone).ToArray()));
            int best = RestartRanking.Best(seen.Loss);
            Assert.True(Math.Abs(t.RunningLoss - seen.Loss[best]) <= 1e-6 * seen.Loss[best],
                $"epoch {t.Epoch}, {t.RowsDone} rows: running loss {t.RunningLoss}, the rows' loss {seen.Loss[best]}");
            Assert.Equal(seen.Accuracy![best], t.RunningAccuracy!.Value, 12);
        }
    }

    /// <summary>A tick reads the running sums (one synchronisation) and nothing else: the network trained with ticks is,
    /// bit for bit, the one trained without.</summary>
    [Fact]
    public void AskingForTicksDoesNotChangeTheTrainedWeights()
    {
        var d = TestDevices.Cpu;
        var data = ThreeClasses();
        var spec = NetworkSpec.Dense([2, 5, 3], Activation.Tanh, Activation.Identity);
        var options = new TrainOptions
        {
            Epochs = 3, BatchSize = 4, LearningRate = 0.05f, Optimizer = OptimizerOptions.Adam(), Loss = LossFunction.CrossEntropy, ShuffleSeed = 2,
        };
        using var plain = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 4);
        using (var t = new Trainer(plain, options)) t.Fit(data);
        using var ticked = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 4);
        int ticks = 0;
        using (var t = new Trainer(ticked, options with { TicksPerEpoch = 8 }))
            t.Fit(data, ticks: new SynchronousProgress<TickReport>(r => { if (r.Phase == TickPhase.Training) ticks++; }));
        Assert.Equal(3 * 7, ticks); // every 2 of the 16 steps, bar the last
        for (int k = 0; k < 2; k++) Assert.Equal(plain.GetParameters(k), ticked.GetParameters(k));
        using var untrained = new GpuNet.Model.Network(d, spec, restarts: 1, seed: 4);
        Assert.NotEqual(untrained.GetParameters(0), plain.GetParameters(0));
    }

    [Fact]
    public void OptionsOutOfRangeAreRejectedByName()
    {
        var d = TestDevices.Cpu;
        using var net = new GpuNet.Model.Network(d, NetworkSpec.Dense([2, 1], Activation.Tanh, Activation.Logistic));
        Assert.Contains("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, new TrainOptions { LearningRate = 0 })).Message);
        Assert.Contains("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, new TrainOptions { BatchSize = 0 })).Message);
        Assert.Contains("Epochs", Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, new TrainOptions { Epochs = 0 })).Message);
        Assert.Contains("identity", Assert.Throws<ArgumentException>(() => new Trainer(net, new TrainOptions { Loss = LossFunction.BinaryCrossEntropy })).Message);
        using var trainer = new Trainer(net, new TrainOptions());
        var ex = Assert.Throws<DataFormatException>(() => trainer.Fit(Dataset.Regression(new float[3], 3, new float[1], 1)));
        Assert.Contains("3 features", ex.Message);
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, which a test cannot wait on).</summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
