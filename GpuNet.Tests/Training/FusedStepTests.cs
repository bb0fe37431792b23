using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Training;

/// <summary>The fused step against the layer-by-layer reference on the CPU accelerator: the same operations in the same
/// order, so the same bits after 1 step and after 100, for every activation, loss, optimizer and mask, shuffled or not,
/// with restarts and per-restart targets. The tolerance is therefore none: any difference is a mistake.</summary>
public class FusedStepTests
{
    private static readonly OptimizerOptions[] Optimizers =
        [OptimizerOptions.Sgd(), OptimizerOptions.WithMomentum(0.9f, nesterov: true) with { WeightDecay = 1e-3f }, OptimizerOptions.Adam() with { WeightDecay = 1e-2f }];

    public static TheoryData<Activation, LossFunction, int> Cases()
    {
        var data = new TheoryData<Activation, LossFunction, int>();
        int i = 0;
        foreach (var act in Enum.GetValues<Activation>())
            foreach (var loss in Enum.GetValues<LossFunction>())
                data.Add(act, loss, i++ % Optimizers.Length);
        return data;
    }

    /// <summary>25 rows of 3 features; targets for the loss (classes of 3, two 0/1 labels for bce, or two values).</summary>
    private static Dataset Data(LossFunction loss, int seed)
    {
        var rng = new Random(seed);
        var x = TestData.Uniform(rng, 25 * 3, -2, 2);
        return loss switch
        {
            LossFunction.CrossEntropy => Dataset.Classification(x, 3, Enumerable.Range(0, 25).Select(_ => rng.Next(3)).ToArray(), 3),
            LossFunction.BinaryCrossEntropy => Dataset.Regression(x, 3, Enumerable.Range(0, 50).Select(_ => (float)rng.Next(2)).ToArray(), 2),
            _ => Dataset.Regression(x, 3, TestData.Uniform(rng, 25 * 2, -1, 1), 2),
        };
    }

    /// <summary>A CPU accelerator whose GEMMs run on the large-tile kernel's 16×16 test tile: its fused step takes the
    /// large-tile fused kernels a GPU takes (with the GPU's tiles).</summary>
    private static readonly Lazy<GpuNet.Devices.Device> LargeTile = new(() => TestDevices.PinnedCpu(GpuNet.Devices.GemmVariant.Large16));

    /// <summary>The same tile with every GEMM deep enough split in k.</summary>
    private static readonly Lazy<GpuNet.Devices.Device> SplitTile = new(() => TestDevices.PinnedCpu(GpuNet.Devices.GemmVariant.SplitK16));

    private static float[][] Train(NetworkSpec spec, int restarts, Dataset data, TrainOptions options, StepKind step, GpuNet.Devices.Device? device = null)
    {
        using var net = new Network(device ?? TestDevices.Cpu, spec, restarts, seed: 3);
        using var trainer = new Trainer(net, options with { Step = step });
        trainer.Fit(data);
        Assert.Equal(step.Name(), trainer.StepName);
        return Enumerable.Range(0, restarts).Select(net.GetParameters).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedStepsGiveTheLayeredStepsBitsForEveryActivationLossAndOptimizer(Activation act, LossFunction loss, int optimizer)
    {
        var data = Data(loss, (int)act * 10 + (int)loss);
        var last = loss.TakesLogits() ? Activation.Identity : act;
        var spec = NetworkSpec.Dense([3, 4, 5, data.TargetCount], act, last);
        foreach (var (epochs, batch, shuffle) in new[] { (1, 25, true), (20, 5, true), (4, 7, false) }) // 1 step; 100 steps; unshuffled, a short last batch
        {
            var options = new TrainOptions
            {
                Epochs = epochs, BatchSize = batch, Shuffle = shuffle, ShuffleSeed = 4, Loss = loss, LearningRate = 0.05f, Optimizer = Optimizers[optimizer],
            };
            var layered = Train(spec, 2, data, options, StepKind.Layered);
            var fused = Train(spec, 2, data, options, StepKind.Fused);
            for (int r = 0; r < 2; r++) Assert.Equal(layered[r], fused[r]);
            using (var untrained = new Network(TestDevices.Cpu, spec, 2, seed: 3)) Assert.NotEqual(untrained.GetParameters(0), fused[0]); // it trained
        }
    }

    /// <summary>The large-tile fused kernels sum in k order as the register-blocked ones do, so on the CPU accelerator
    /// (no fused multiply-add) the fused step on them gives the layer-by-layer step's bits too, for a deeper network
    /// with widths off the tile, 2 restarts, and batches that do not divide the data.</summary>
    [Theory]
    [InlineData(Activation.Relu, LossFunction.CrossEntropy, 2)]
    [InlineData(Activation.Tanh, LossFunction.MeanSquaredError, 1)]
    [InlineData(Activation.Logistic, LossFunction.BinaryCrossEntropy, 0)]
    public void FusedStepsOnTheLargeTileGiveTheLayeredStepsBits(Activation act, LossFunction loss, int optimizer)
    {
        var data = Data(loss, 40 + (int)act);
        var spec = NetworkSpec.Dense([3, 17, 5, 9, data.TargetCount], act, loss.TakesLogits() ? Activation.Identity : act);
        var options = new TrainOptions
        {
            Epochs = 6, BatchSize = 7, ShuffleSeed = 4, Loss = loss, LearningRate = 0.05f, Optimizer = Optimizers[optimizer],
        };
        var layered = Train(spec, 2, data, options, StepKind.Layered);
        var fused = Train(spec, 2, data, options, StepKind.Fused, LargeTile.Value);
        for (int r = 0; r < 2; r++) Assert.Equal(layered[r], fused[r]);
        Assert.Contains(LargeTile.Value.Loaded, k => k.Name.StartsWith("GemmLarge.FusedBackwardPair<GemmTile16"));
        Assert.DoesNotContain(LargeTile.Value.Loaded, k => k.Name.StartsWith("GemmFused."));
    }

    /// <summary>With k split, the fused step's first forward GEMM sums the same slices in the same order as the layered
    /// step's split GEMM, then adds the bias and applies σ as the layered step's element-wise kernel does: the same bits
    /// again, on a device where every GEMM deep enough is split (the fused step splits its first layer's alone).</summary>
    [Fact]
    public void FusedStepsWithSplitForwardProductsGiveTheLayeredStepsBits()
    {
        var split = SplitTile.Value;
        var data = Data(LossFunction.CrossEntropy, 77);
        // The first layer (K = 100 inputs, one 16×16 tile per restart) is split in two; the second (K = 5) never is.
        var wide = Dataset.Classification(TestData.Uniform(new Random(5), 25 * 100), 100, data.Labels!, 3);
        var spec = NetworkSpec.Dense([100, 5, 3], Activation.Relu, Activation.Identity);
        var options = new TrainOptions { Epochs = 3, BatchSize = 9, ShuffleSeed = 2, LearningRate = 0.01f };
        var layered = Train(spec, 2, wide, options, StepKind.Layered, split);
        var fused = Train(spec, 2, wide, options, StepKind.Fused, split);
        for (int r = 0; r < 2; r++) Assert.Equal(layered[r], fused[r]);
        Assert.Contains(split.Loaded, k => k.Name.StartsWith("GemmSplitK.ReduceFused<Relu>"));
        Assert.DoesNotContain(split.Loaded, k => k.Name.StartsWith("GemmSplitK.ReduceFused<Identity>")); // only the first layer splits
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void TheRunningExamplesMissingEdgeStaysZeroAndRestartsWithTheirOwnTargetsMatch(int optimizer)
    {
        var spec = Networks.RunningExampleTests.Spec();
        var x = Enumerable.Range(0, 12).Select(i => i / 11f).ToArray();
        var targets = Enumerable.Range(0, 3).Select(k => x.Select(v => (float)Math.Sin(3 * v + k) * 0.4f + 0.5f).ToArray()).ToArray();
        float[][] Run(StepKind step, int epochs, int batch)
        {
            using var net = new Network(TestDevices.Cpu, spec, restarts: 3, seed: 8);
            using var data = DeviceDataset.UploadPerRestartTargets(TestDevices.Cpu, x, 1, targets, 1);
            using var trainer = new Trainer(net, new TrainOptions
            {
                Epochs = epochs, BatchSize = batch, LearningRate = 0.1f, Optimizer = Optimizers[optimizer], Loss = LossFunction.MeanSquaredError, Step = step,
            });
            trainer.Fit(data);
            return Enumerable.Range(0, 3).Select(net.GetParameters).ToArray();
        }
        long missing = spec.WeightOffset(2) + 1 * 2 + 0; // layer 2, to neuron 1 from neuron 0
        foreach (var (epochs, batch) in new[] { (1, 12), (25, 3) }) // 1 step; 100 steps
        {
            var layered = Run(StepKind.Layered, epochs, batch);
            var fused = Run(StepKind.Fused, epochs, batch);
            for (int r = 0; r < 3; r++)
            {
                Assert.Equal(layered[r], fused[r]);
                Assert.Equal(0f, fused[r][missing]);
                Assert.Equal(0f, layered[r][missing]);
            }
        }
    }

    /// <summary>The same seed, device and GEMM variant give the same model bit for bit, run after run: the fused step's
    /// sums (the loss kernel's block partials, the bias gradients, split-k slices) are combined in an order fixed by the
    /// shapes, never by which thread finishes first.</summary>
    [Theory]
    [InlineData("blocked")]
    [InlineData("large")]
    [InlineData("split")]
    public void TheSameFusedRunTwiceGivesTheSameBits(string variant)
    {
        var device = variant switch { "large" => LargeTile.Value, "split" => SplitTile.Value, _ => TestDevices.Cpu };
        var data = Dataset.Classification(TestData.Uniform(new Random(9), 25 * 100, -2, 2), 100,
            Enumerable.Range(0, 25).Select(i => i % 3).ToArray(), 3);
        var spec = NetworkSpec.Dense([100, 17, 5, 3], Activation.Tanh, Activation.Identity);
        var options = new TrainOptions { Epochs = 4, BatchSize = 7, ShuffleSeed = 6, LearningRate = 0.01f };
        var first = Train(spec, 2, data, options, StepKind.Fused, device);
        var second = Train(spec, 2, data, options, StepKind.Fused, device);
        for (int r = 0; r < 2; r++) Assert.Equal(first[r], second[r]);
        using (var untrained = new Network(device, spec, 2, seed: 3)) Assert.NotEqual(untrained.GetParameters(0), first[0]); // it trained
        if (variant == "split") Assert.Contains(device.Loaded, k => k.Name.StartsWith("GemmSplitK.ReduceFused<Tanh>")); // K = 100 is split
    }

    [Fact]
    public void TheCommandUsesTheFusedStepByDefaultAndTheLayeredOneWhenAsked()
    {
        using var cli = new Cli.CliRunner();
        var fused = cli.Json("train", "--data", "xor", "--hidden", "3", "--epochs", "2", "--device", "cpu", "--model", cli.File("f.safetensors"));
        var layered = cli.Json("train", "--data", "xor", "--hidden", "3", "--epochs", "2", "--device", "cpu", "--step", "layered",
            "--model", cli.File("l.safetensors"));
        Assert.Equal("fused", fused.GetProperty("step").GetString());
        Assert.Equal("layered", layered.GetProperty("step").GetString());
        Assert.Equal(File.ReadAllBytes(cli.File("l.safetensors")), File.ReadAllBytes(cli.File("f.safetensors")));
    }
}
