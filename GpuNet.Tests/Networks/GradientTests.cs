using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Networks;

/// <summary>Whole-network gradients, checked twice: the device backward pass against the float64
/// reference backward pass, and the reference against central finite differences in float64.</summary>
public class GradientTests
{
    public static TheoryData<string, Activation, LossFunction> Cases()
    {
        var data = new TheoryData<string, Activation, LossFunction>();
        foreach (var d in TestDevices.Devices)
        {
            foreach (var act in Enum.GetValues<Activation>())
                data.Add(TestDevices.Name(d), act, LossFunction.MeanSquaredError);
            data.Add(TestDevices.Name(d), Activation.Tanh, LossFunction.MeanAbsoluteError);
            data.Add(TestDevices.Name(d), Activation.Logistic, LossFunction.CrossEntropy);
            data.Add(TestDevices.Name(d), Activation.Relu, LossFunction.BinaryCrossEntropy);
        }
        return data;
    }

    /// <summary>3 → 5 → 4 → out, every hidden layer with <paramref name="act"/>; the output function is the same
    /// activation for mse/mae and identity (logits) for the losses that take logits; one masked layer.</summary>
    private static NetworkSpec SpecFor(Activation act, LossFunction loss, int outputs)
    {
        var rng = new Random(7);
        var mask = new bool[4, 5];
        for (int j = 0; j < 4; j++) for (int i = 0; i < 5; i++) mask[j, i] = rng.Next(4) != 0;
        var output = loss.TakesLogits() ? Activation.Identity : act;
        return new NetworkSpec(3, [new LayerSpec(5, act), new LayerSpec(4, act, mask), new LayerSpec(outputs, output)]);
    }

    private static (float[] X, float[] Y) Batch(Random rng, int rows, int outputs, LossFunction loss)
    {
        var x = TestData.Uniform(rng, rows * 3, -2f, 2f);
        var y = new float[rows * outputs];
        for (int r = 0; r < rows; r++)
        {
            if (loss == LossFunction.CrossEntropy) y[r * outputs + rng.Next(outputs)] = 1f;
            else for (int o = 0; o < outputs; o++) y[r * outputs + o] = loss == LossFunction.BinaryCrossEntropy ? rng.Next(2) : (float)rng.NextDouble();
        }
        return (x, y);
    }

    private static double[][] Rows(float[] a, int width) =>
        Enumerable.Range(0, a.Length / width).Select(r => a.Skip(r * width).Take(width).Select(v => (double)v).ToArray()).ToArray();

    [Theory]
    [MemberData(nameof(Cases))]
    public void DeviceBackwardMatchesFloat64Reference(string device, Activation act, LossFunction loss)
    {
        var d = TestDevices.Get(device);
        int outputs = 3, rows = 7;
        var spec = SpecFor(act, loss, outputs);
        var rng = new Random(11);
        var (x, y) = Batch(rng, rows, outputs, loss);
        using var net = new GpuNet.Model.Network(d, spec, restarts: 2, seed: 5);
        using var trainer = new Trainer(net, new TrainOptions { Loss = loss });
        using var data = DeviceDataset.Upload(d, Dataset.Regression(x, 3, y, outputs));
        var (deviceLoss, grads) = trainer.Gradients(data);
        for (int k = 0; k < 2; k++)
        {
            var reference = new ReferenceNet(spec, Array.ConvertAll(net.GetParameters(k), v => (double)v));
            var (refLoss, refGrad) = reference.LossAndGradient(Rows(x, 3), Rows(y, outputs), loss);
            Assert.True(Math.Abs(deviceLoss[k] - refLoss) <= Tolerances.Loss * Math.Abs(refLoss) + 1e-7, $"copy {k} loss {deviceLoss[k]} vs {refLoss}");
            Tolerances.AssertClose(grads[k], refGrad, Tolerances.NetworkGradient, $"{act} {loss} copy {k} gradient");
        }
    }

    [Theory]
    [InlineData(Activation.Identity, LossFunction.MeanSquaredError)]
    [InlineData(Activation.Logistic, LossFunction.MeanSquaredError)]
    [InlineData(Activation.Tanh, LossFunction.MeanSquaredError)]
    [InlineData(Activation.Relu, LossFunction.MeanSquaredError)]
    [InlineData(Activation.Tanh, LossFunction.CrossEntropy)]
    [InlineData(Activation.Logistic, LossFunction.BinaryCrossEntropy)]
    [InlineData(Activation.Identity, LossFunction.MeanAbsoluteError)]
    [InlineData(Activation.Logistic, LossFunction.MeanAbsoluteError)]
    [InlineData(Activation.Tanh, LossFunction.MeanAbsoluteError)]
    [InlineData(Activation.Relu, LossFunction.MeanAbsoluteError)]
    public void ReferenceBackwardMatchesCentralFiniteDifferences(Activation act, LossFunction loss)
    {
        int outputs = 3;
        var spec = SpecFor(act, loss, outputs);
        var rng = new Random(3);
        var (x, y) = Batch(rng, 5, outputs, loss);
        var xs = Rows(x, 3);
        var ys = Rows(y, outputs);
        // Away from ReLU's kink: weights drawn until no pre-activation lies within 1e-3 of 0.
        double[] p;
        ReferenceNet net;
        ulong seed = 21;
        do
        {
            p = Array.ConvertAll(spec.InitialParameters(seed++, 0), v => (double)v);
            net = new ReferenceNet(spec, p);
        } while (act == Activation.Relu && xs.Any(row => net.Forward(row).A.Skip(1).Any(a => a.Any(v => Math.Abs(v) < 1e-3))));
        if (loss == LossFunction.MeanAbsoluteError)
        {
            // |z − y| has a kink at z = y: targets are drawn again until every output is more than 1e-3 from its
            // target, while the ±h steps move an output by ~1e-6, so no difference quotient straddles the kink.
            foreach (var (row, target) in xs.Zip(ys))
            {
                var z = net.Forward(row).Z[^1];
                for (int o = 0; o < outputs; o++)
                    while (Math.Abs(z[o] - target[o]) <= 1e-3) target[o] = (float)rng.NextDouble(); // float: the check reads float32 targets
            }
        }
        var (refLoss, grad) = net.LossAndGradient(xs, ys, loss);
        // The library's check, the one `gpunet gradcheck` runs, with the float64 reference backward pass as the
        // gradient under test: it must agree with central differences to float64 accuracy.
        var targets = ys.SelectMany(row => row.Select(v => (float)v)).ToArray();
        var report = GradientCheck.Compare(spec, Array.ConvertAll(p, v => (float)v), loss, x, targets, 5, grad, refLoss,
            new GradientCheckOptions { Tolerance = Tolerances.FiniteDifference });
        Assert.Equal(refLoss, report.Float64Loss, 12);
        Assert.All(report.Tensors, t => Assert.Equal(0, t.Skipped)); // the weights and targets were drawn away from kinks
        Assert.Equal(spec.TrainableParameterCount, report.Tensors.Sum(t => t.Checked)); // every edge, no missing one
        Assert.True(report.Passed, $"{act} {loss}: reference gradient vs finite differences: " +
            string.Join(", ", report.Tensors.Select(t => $"{t.Name} {t.RelativeError:E3}")));
    }

    /// <summary>Batch 1 vs batch N: the gradient of a batch of N rows is the mean of the N one-row gradients,
    /// and the outputs of a batch are those of its rows one at a time.</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void BatchOfNIsTheMeanOfNBatchesOfOne(string device)
    {
        var d = TestDevices.Get(device);
        var spec = SpecFor(Activation.Tanh, LossFunction.MeanSquaredError, 2);
        var rng = new Random(5);
        int n = 6;
        var (x, y) = Batch(rng, n, 2, LossFunction.MeanSquaredError);
        using var net = new GpuNet.Model.Network(d, spec, seed: 9);
        using var trainer = new Trainer(net, new TrainOptions());
        using var all = DeviceDataset.Upload(d, Dataset.Regression(x, 3, y, 2));
        var (lossN, gradN) = trainer.Gradients(all);
        var mean = new double[spec.ParameterCount];
        double meanLoss = 0;
        var outputsN = net.Predict(x, n);
        for (int r = 0; r < n; r++)
        {
            using var one = DeviceDataset.Upload(d, Dataset.Regression(x[(r * 3)..(r * 3 + 3)], 3, y[(r * 2)..(r * 2 + 2)], 2));
            var (loss1, grad1) = trainer.Gradients(one);
            meanLoss += loss1[0] / n;
            for (int i = 0; i < mean.Length; i++) mean[i] += grad1[0][i] / (double)n;
            var out1 = net.Predict(x[(r * 3)..(r * 3 + 3)], 1);
            Assert.Equal(out1[0], outputsN[r * 2], 6);
            Assert.Equal(out1[1], outputsN[r * 2 + 1], 6);
        }
        Assert.True(Math.Abs(lossN[0] - meanLoss) <= 1e-6 * meanLoss, $"batch loss {lossN[0]} vs mean of rows {meanLoss}");
        Tolerances.AssertClose(gradN[0], mean, Tolerances.NetworkGradient, "batch-N gradient vs mean of batch-1 gradients");
    }
}
