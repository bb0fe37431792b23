using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;
using Xunit.Abstractions;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Tests.Training;

/// <summary>
/// The fused per-restart step against the layered step it replaces, after 1 and after 100 steps, from the same initial
/// weights and in the same epoch orders: parameters, the optimizer's moments and step count, the loss and hit sums and
/// the divergence flags. The thread form agrees bit for bit on the CPU accelerator (see <see cref="Tolerances.PerRestartWarp"/>
/// for why, and why the warp form does not).
/// </summary>
public class PerRestartStepTests(ITestOutputHelper output)
{
    private static readonly OptimizerOptions[] Optimizers =
    [
        OptimizerOptions.Sgd() with { WeightDecay = 1e-3f },
        OptimizerOptions.WithMomentum(0.9f),
        OptimizerOptions.WithMomentum(0.8f, nesterov: true) with { WeightDecay = 1e-3f },
        OptimizerOptions.Adam(),
        OptimizerOptions.Adam() with { WeightDecay = 1e-2f },
    ];

    /// <summary>Every activation with every loss (the last layer takes the activation for mse and mae, identity for the
    /// losses on logits), each case with another optimizer and, every other case, a masked layer.</summary>
    public static TheoryData<Activation, LossFunction, int, bool> Matrix()
    {
        var data = new TheoryData<Activation, LossFunction, int, bool>();
        int i = 0;
        foreach (var act in Enum.GetValues<Activation>())
            foreach (var loss in Enum.GetValues<LossFunction>())
            {
                data.Add(act, loss, i % Optimizers.Length, i % 2 == 0);
                i++;
            }
        return data;
    }

    /// <summary>3 → 4 (act) → 2, the first layer masked when asked; with its data: values for mse and mae, one-hot
    /// classes for cross-entropy, 0/1 for bce.</summary>
    internal static StepHarness.Case CaseFor(Activation act, LossFunction loss, OptimizerOptions optimizer, bool masked, int restarts = 3,
        int batch = 5, int rows = 23)
    {
        var rng = new Random(17);
        bool[,]? mask = null;
        if (masked)
        {
            mask = new bool[4, 3];
            for (int j = 0; j < 4; j++) for (int i = 0; i < 3; i++) mask[j, i] = (i + 2 * j) % 3 != 0;
        }
        var spec = new NetworkSpec(3, [new LayerSpec(4, act, mask), new LayerSpec(2, loss.TakesLogits() ? Activation.Identity : act)]);
        var x = TestData.Uniform(rng, rows * 3, -2f, 2f);
        Dataset data;
        if (loss == LossFunction.CrossEntropy) data = Dataset.Classification(x, 3, Enumerable.Range(0, rows).Select(_ => rng.Next(2)).ToArray(), 2);
        else
        {
            var y = Enumerable.Range(0, rows * 2).Select(_ => loss == LossFunction.BinaryCrossEntropy ? (float)rng.Next(2) : (float)rng.NextDouble()).ToArray();
            data = Dataset.Regression(x, 3, y, 2);
        }
        return new StepHarness.Case(spec, restarts, data, loss, optimizer, batch, Rate: 0.05f);
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void TheThreadFormAgreesBitForBitWithTheLayeredStep(Activation act, LossFunction loss, int optimizer, bool masked)
    {
        var c = CaseFor(act, loss, Optimizers[optimizer], masked);
        foreach (int steps in new[] { 1, 100 })
        {
            var layered = StepHarness.Layered(TestDevices.Cpu, c, steps);
            var fused = StepHarness.PerRestart(TestDevices.Cpu, c, steps, RestartForm.ThreadPerRestart);
            AssertSame(layered, fused, $"{act} {loss} {Optimizers[optimizer].Kind} masked {masked}, {steps} steps");
        }
    }

    [Theory]
    [InlineData(Activation.Tanh, LossFunction.MeanSquaredError, 3, true)]
    [InlineData(Activation.Relu, LossFunction.CrossEntropy, 1, false)]
    [InlineData(Activation.Logistic, LossFunction.BinaryCrossEntropy, 2, true)]
    [InlineData(Activation.Identity, LossFunction.MeanAbsoluteError, 4, false)]
    public void TheWarpFormAgreesWithTheLayeredStep(Activation act, LossFunction loss, int optimizer, bool masked)
    {
        // Warps of 2 lanes (the test device), 5 rows a step: lanes take 3 and 2 rows.
        var c = CaseFor(act, loss, Optimizers[optimizer], masked);
        foreach (int steps in new[] { 1, 100 })
        {
            var layered = StepHarness.Layered(TestDevices.Cpu, c, steps);
            var fused = StepHarness.PerRestart(TestDevices.Cpu, c, steps, RestartForm.WarpPerRestart);
            AssertClose(layered, fused, Tolerances.PerRestartWarp, $"{act} {loss} {Optimizers[optimizer].Kind}, {steps} steps");
        }
    }

    [Fact]
    public void TheWarpFormAgreesOnAGpuShapedWarp()
    {
        // Warps of 32 lanes, 37 rows a step: 5 lanes take two rows, the rest one. Each lane sum waits for 32 OS threads
        // on the CPU accelerator, so this runs few steps.
        var c = CaseFor(Activation.Tanh, LossFunction.CrossEntropy, OptimizerOptions.Adam(), true, restarts: 2, batch: 37, rows: 74);
        foreach (int steps in new[] { 1, 6 })
        {
            var layered = StepHarness.Layered(TestDevices.GpuShaped, c, steps);
            var fused = StepHarness.PerRestart(TestDevices.GpuShaped, c, steps, RestartForm.WarpPerRestart);
            AssertClose(layered, fused, Tolerances.PerRestartWarp, $"warp of 32, {steps} steps");
        }
    }

    /// <summary>The idea's running example with 1, 3, 1000 and 1031 restarts (more than a launch's threads on the test
    /// device, and not a multiple of them), per-example and with batches of 4 (the one-input XOR).</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(1000, 4)]
    [InlineData(1031, 1)]
    public void AwkwardRestartCountsAgree(int restarts, int batch)
    {
        var c = SeedCase(restarts, batch, OptimizerOptions.Adam());
        foreach (int steps in new[] { 1, 100 })
            AssertSame(StepHarness.Layered(TestDevices.Cpu, c, steps), StepHarness.PerRestart(TestDevices.Cpu, c, steps), $"{restarts} restarts, {steps} steps");
    }

    internal static StepHarness.Case SeedCase(int restarts, int batch, OptimizerOptions optimizer, bool shuffle = true)
    {
        var x = new float[] { 0f, 1f / 3, 2f / 3, 1f };
        var y = new float[] { 0f, 1f, 1f, 0f };
        return new StepHarness.Case(Networks.RunningExampleTests.Spec(), restarts, Dataset.Regression(x, 1, y, 1), LossFunction.MeanSquaredError,
            optimizer, batch, Rate: 0.5f, Shuffle: shuffle);
    }

    [Fact]
    public void TheMissingEdgeStaysExactlyZeroAndEveryOtherWeightTrains()
    {
        foreach (var form in new[] { RestartForm.ThreadPerRestart, RestartForm.WarpPerRestart })
        {
            var c = SeedCase(7, 1, OptimizerOptions.Adam());
            float[] before;
            using (var start = new GpuNet.Model.Network(TestDevices.Cpu, c.Spec, c.Restarts, c.Seed)) before = start.Parameters.ReadAll();
            var after = StepHarness.PerRestart(TestDevices.Cpu, c, 50, form);
            var mask = c.Spec.FlatMask();
            for (int i = 0; i < after.Parameters.Length; i++)
            {
                if (mask[i % mask.Length] == 0f) Assert.Equal(0f, after.Parameters[i]);
                else Assert.NotEqual(before[i], after.Parameters[i]);
            }
            // The missing edge's moments were never touched.
            for (int i = 0; i < after.Parameters.Length; i++)
                if (mask[i % mask.Length] == 0f) Assert.Equal(0f, after.State.Second![i]);
        }
    }

    [Fact]
    public void PerRestartTargetsAgree()
    {
        // Every restart learns its own boolean function of 2 inputs (UploadPerRestartTargets), in one launch.
        var d = TestDevices.Cpu;
        var x = new float[] { 0, 0, 0, 1, 1, 0, 1, 1 };
        var targets = Enumerable.Range(0, 16).Select(f => Enumerable.Range(0, 4).Select(r => (float)((f >> r) & 1)).ToArray()).ToList();
        var spec = NetworkSpec.Dense([2, 2, 1], Activation.Tanh, Activation.Logistic);
        StepHarness.Outcome Run(bool fused)
        {
            using var net = new GpuNet.Model.Network(d, spec, targets.Count, 3);
            using var data = DeviceDataset.UploadPerRestartTargets(d, x, 2, targets, 1, classification: true);
            using var opt = OptimizerOptions.Sgd().Create(d, net.Parameters.Length);
            var loss = GpuNet.Compute.Loss.Create(d, LossFunction.MeanSquaredError, Activation.Logistic);
            using ITrainingStep step = fused ? new PerRestartStep(net, data, loss, opt, 1) : new LayeredStep(net, data, loss, opt, 1);
            step.Sums.Reset();
            step.BeginEpoch([2, 0, 3, 1]);
            var rates = new[] { 0.5f, 0.4f, 0.3f, 0.2f };
            if (fused) step.Run(0, 4, rates, 0);
            else for (int s = 0; s < 4; s++) step.Run(s, 1, rates.AsSpan(s, 1), s);
            var (l, h) = step.Sums.Read();
            return new StepHarness.Outcome(net.Parameters.ReadAll(), step.Optimizer.ReadState(), l, h, step.Sums.ReadFirstBadSteps());
        }
        var layered = Run(false);
        var fusedRun = Run(true);
        AssertSame(layered, fusedRun, "16 boolean functions, one a restart");
        Assert.Contains(layered.Hits, h => h > 0); // hits are counted, per restart
    }

    [Fact]
    public void TheSameRunTwiceGivesTheSameBits()
    {
        foreach (var form in new[] { RestartForm.ThreadPerRestart, RestartForm.WarpPerRestart })
        {
            var c = CaseFor(Activation.Tanh, LossFunction.CrossEntropy, OptimizerOptions.Adam(), true, restarts: 5);
            var a = StepHarness.PerRestart(TestDevices.Cpu, c, 40, form);
            var b = StepHarness.PerRestart(TestDevices.Cpu, c, 40, form);
            AssertSame(a, b, $"{form} twice");
        }
    }

    [Fact]
    public void DivergenceIsFlaggedAtTheSameStepPerRestart()
    {
        // A step size that blows some restarts up: the first non-finite step of each is the layered step's.
        var c = CaseFor(Activation.Identity, LossFunction.MeanSquaredError, OptimizerOptions.Sgd(), false, restarts: 6) with { Rate = 3f };
        var layered = StepHarness.Layered(TestDevices.Cpu, c, 60);
        var fused = StepHarness.PerRestart(TestDevices.Cpu, c, 60);
        Assert.Contains(layered.FirstBad, b => b >= 0);
        Assert.Equal(layered.FirstBad, fused.FirstBad);
        var warp = StepHarness.PerRestart(TestDevices.Cpu, c, 60, RestartForm.WarpPerRestart);
        Assert.Equal(layered.FirstBad, warp.FirstBad);
    }

    internal static void AssertSame(StepHarness.Outcome expected, StepHarness.Outcome actual, string what)
    {
        Assert.True(expected.Parameters.SequenceEqual(actual.Parameters),
            $"{what}: parameters differ (relative error {Tolerances.RelativeError(actual.Parameters, TestData.ToDouble(expected.Parameters)):E2})");
        Assert.Equal(expected.State.Steps, actual.State.Steps);
        Assert.Equal(expected.State.First, actual.State.First);
        Assert.Equal(expected.State.Second, actual.State.Second);
        Assert.Equal(expected.Loss, actual.Loss);
        Assert.Equal(expected.Hits, actual.Hits);
        Assert.Equal(expected.FirstBad, actual.FirstBad);
    }

    private void AssertClose(StepHarness.Outcome expected, StepHarness.Outcome actual, double tolerance, string what)
    {
        double p = Tolerances.RelativeError(actual.Parameters, TestData.ToDouble(expected.Parameters));
        output.WriteLine($"{what}: parameters {p:E2}");
        Assert.True(p <= tolerance, $"{what}: parameters differ by {p:E2} > {tolerance:E2}");
        if (expected.State.First is { } m1) Tolerances.AssertClose(actual.State.First, TestData.ToDouble(m1), tolerance, 1e-12, $"{what}: first moments");
        if (expected.State.Second is { } m2) Tolerances.AssertClose(actual.State.Second, TestData.ToDouble(m2), tolerance, 1e-12, $"{what}: second moments");
        Assert.Equal(expected.State.Steps, actual.State.Steps);
        for (int r = 0; r < expected.Loss.Length; r++)
            Assert.True(Math.Abs(expected.Loss[r] - actual.Loss[r]) <= tolerance * Math.Abs(expected.Loss[r]), $"{what}: loss sum of restart {r}");
        Assert.Equal(expected.Hits, actual.Hits);
        Assert.Equal(expected.FirstBad, actual.FirstBad);
    }
}
