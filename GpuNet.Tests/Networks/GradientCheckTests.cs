using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Networks;

/// <summary><see cref="GradientCheck"/>, the check behind <c>gpunet gradcheck</c>: the device's gradients pass it for
/// every activation and loss, a wrong entry fails it and is named, kinks are left out and counted.</summary>
public class GradientCheckTests
{
    public static TheoryData<string, Activation, LossFunction> Cases() => GradientTests.Cases();

    /// <summary>3 → 5 → 4 (masked) → 3, hidden layers with <paramref name="act"/>; logits out for the losses that take them.</summary>
    private static NetworkSpec Spec(Activation act, LossFunction loss)
    {
        var rng = new Random(13);
        var mask = new bool[4, 5];
        for (int j = 0; j < 4; j++) for (int i = 0; i < 5; i++) mask[j, i] = rng.Next(3) != 0;
        return new NetworkSpec(3, [new LayerSpec(5, act), new LayerSpec(4, act, mask),
            new LayerSpec(3, loss.TakesLogits() ? Activation.Identity : act)]);
    }

    private static Dataset Data(LossFunction loss, int rows, int seed)
    {
        var rng = new Random(seed);
        var x = TestData.Uniform(rng, rows * 3, -2f, 2f);
        if (loss == LossFunction.CrossEntropy)
            return Dataset.Classification(x, 3, Enumerable.Range(0, rows).Select(_ => rng.Next(3)).ToArray(), 3);
        var y = Enumerable.Range(0, rows * 3)
            .Select(_ => loss == LossFunction.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble()).ToArray();
        return Dataset.Regression(x, 3, y, 3);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeviceGradientsPassForEveryActivationAndLoss(string device, Activation act, LossFunction loss)
    {
        var spec = Spec(act, loss);
        using var net = new Network(TestDevices.Get(device), spec, restarts: 2, seed: 3);
        var data = Data(loss, 7, 17);
        for (int restart = 0; restart < 2; restart++)
        {
            var report = GradientCheck.Run(net, data, loss, restart: restart);
            Assert.True(report.Passed, $"{act} {loss} restart {restart}: " + string.Join(", ", report.Tensors.Select(t => $"{t.Name} {t.RelativeError:E2}")));
            Assert.Equal(6, report.Tensors.Count);
            // Missing edges are not compared; every other entry is, unless it lies at a kink.
            Assert.Equal(spec.TrainableParameterCount, report.Tensors.Sum(t => t.Checked + t.Skipped));
            Assert.True(report.Tensors.Sum(t => t.Checked) > spec.TrainableParameterCount / 2, "most entries must be compared");
            Assert.True(Math.Abs(report.Loss - report.Float64Loss) <= Tolerances.Loss * Math.Abs(report.Float64Loss) + 1e-7,
                $"device loss {report.Loss} vs float64 {report.Float64Loss}");
        }
    }

    [Fact]
    public void AWrongEntryFailsItsTensorAndIsNamed()
    {
        var d = TestDevices.Cpu;
        var spec = Spec(Activation.Tanh, LossFunction.MeanSquaredError);
        using var net = new Network(d, spec, seed: 5);
        var data = Data(LossFunction.MeanSquaredError, 6, 2);
        using var trainer = new Trainer(net, new TrainOptions());
        using var device = DeviceDataset.Upload(d, data);
        var (loss, grads) = trainer.Gradients(device);
        var g = Array.ConvertAll(grads[0], v => (double)v);
        var parameters = net.GetParameters();
        var good = GradientCheck.Compare(spec, parameters, LossFunction.MeanSquaredError, data.Features, data.Targets, 6, g, loss[0]);
        Assert.True(good.Passed);

        // layers.2.weight [3, 4], entry [1, 2]: off by 1 % of the tensor's largest entry.
        long at = spec.WeightOffset(3) + 1 * 4 + 2;
        double largest = Enumerable.Range(0, 12).Max(i => Math.Abs(g[spec.WeightOffset(3) + i]));
        g[at] += 0.01 * largest;
        var bad = GradientCheck.Compare(spec, parameters, LossFunction.MeanSquaredError, data.Features, data.Targets, 6, g, loss[0]);
        Assert.False(bad.Passed);
        var failed = bad.Tensors.Where(t => t.RelativeError > bad.Tolerance).ToArray();
        Assert.Equal("layers.2.weight", Assert.Single(failed).Name);
        Assert.Equal("[1, 2]", failed[0].WorstEntry);
        Assert.Equal(g[at], failed[0].WorstGradient);
    }

    [Fact]
    public void AStepAcrossAReluKinkIsSkippedAndCounted()
    {
        // 1 → 1 (relu) → 1: weight 1, bias 0, input 0, so the pre-activation is exactly 0. Moving the bias by ±h
        // crosses the kink; moving the weight does not (it multiplies the input 0); the output layer is smooth.
        var spec = new NetworkSpec(1, [new LayerSpec(1, Activation.Relu), new LayerSpec(1, Activation.Identity)]);
        float[] p = [1f, 0f, 2f, 0.5f];
        var data = Dataset.Regression([0f], 1, [1f], 1);
        double[] gradient = [0, 0, 0, 2 * (0.5 - 1)]; // the ReLU is off: only the output bias has a gradient
        var report = GradientCheck.Compare(spec, p, LossFunction.MeanSquaredError, data.Features, data.Targets, 1, gradient);
        var bias0 = report.Tensors.Single(t => t.Name == "layers.0.bias");
        Assert.Equal((0, 1), (bias0.Checked, bias0.Skipped));
        Assert.Equal((1, 0), (report.Tensors[0].Checked, report.Tensors[0].Skipped));
        Assert.True(report.Passed);
    }

    [Fact]
    public void EntriesPerTensorSamplesEvenly()
    {
        var spec = NetworkSpec.Dense([6, 7, 2], Activation.Tanh, Activation.Identity);
        using var net = new Network(TestDevices.Cpu, spec, seed: 1);
        var rng = new Random(4);
        var data = Dataset.Regression(TestData.Uniform(rng, 4 * 6, -1f, 1f), 6, TestData.Uniform(rng, 4 * 2, 0f, 1f), 2);
        var report = GradientCheck.Run(net, data, LossFunction.MeanSquaredError, new GradientCheckOptions { EntriesPerTensor = 5 });
        Assert.Equal([5, 5, 5, 2], report.Tensors.Select(t => t.Checked));
        Assert.True(report.Passed);
    }

    [Fact]
    public void BadOptionsAndShapesAreRefused()
    {
        var spec = NetworkSpec.Dense([2, 1], Activation.Identity, Activation.Identity);
        float[] p = [1, 2, 3];
        Assert.Throws<ArgumentException>(() => GradientCheck.Compare(spec, p, LossFunction.MeanSquaredError, [1, 2], [1], 1, new double[2]));
        Assert.Throws<ArgumentException>(() => GradientCheck.Compare(spec, p, LossFunction.MeanSquaredError, [1, 2, 3], [1], 1, new double[3]));
        Assert.Throws<ArgumentException>(() => GradientCheck.Compare(spec, p, LossFunction.MeanSquaredError, [1, 2], [1], 1, new double[3],
            options: new GradientCheckOptions { Step = 0 }));
    }
}
