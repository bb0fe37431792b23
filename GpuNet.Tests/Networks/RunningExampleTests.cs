using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Networks;

/// <summary>
/// The running example: input neuron 1 (with bias neuron 2), hidden neurons 3, 4 (bias 5), hidden neurons
/// 6, 7 (bias 8), output neuron 9; the edge 3 → 7 is missing, so the network has exactly 12 weights.
/// All functions are logistic; loss ℓ = (y − z9)².
/// </summary>
public class RunningExampleTests
{
    // w[i,j]: weight of the edge from neuron i to neuron j, values chosen by hand.
    private const double W13 = 0.1, W23 = -0.2, W14 = 0.3, W24 = 0.4;
    private const double W36 = 0.5, W46 = -0.6, W56 = 0.7, W47 = 0.8, W57 = -0.9;
    private const double W69 = 1.0, W79 = -1.1, W89 = 1.2;
    private const double X = 0.5, Y = 0.25;

    public static NetworkSpec Spec()
    {
        var mask = new bool[2, 2] { { true, true }, { false, true } }; // [to, from]: 3 → 7 missing
        return new NetworkSpec(1,
        [
            new LayerSpec(2, Activation.Logistic),
            new LayerSpec(2, Activation.Logistic, mask),
            new LayerSpec(1, Activation.Logistic),
        ]);
    }

    private static GpuNet.Model.Network Build(GpuNet.Devices.Device d)
    {
        var net = new GpuNet.Model.Network(d, Spec());
        net.SetWeights(1, new float[,] { { (float)W13 }, { (float)W14 } });
        net.SetBias(1, [(float)W23, (float)W24]);
        net.SetWeights(2, new float[,] { { (float)W36, (float)W46 }, { 0f, (float)W47 } });
        net.SetBias(2, [(float)W56, (float)W57]);
        net.SetWeights(3, new float[,] { { (float)W69, (float)W79 } });
        net.SetBias(3, [(float)W89]);
        return net;
    }

    private static double S(double a) => 1 / (1 + Math.Exp(-a));
    private static double Sd(double a) => S(a) * (1 - S(a));

    /// <summary>Forward value and all 12 derivatives, by the chain rule as the text writes it, and what ∂ℓ/∂w3,7 would be
    /// if the missing edge 3 → 7 existed (∂ℓ/∂a7 · z3).</summary>
    private static (double F, Dictionary<string, double> D, double MissingEdge) ByHand()
    {
        // float32 weights as the device holds them
        double w13 = (float)W13, w23 = (float)W23, w14 = (float)W14, w24 = (float)W24, w36 = (float)W36, w46 = (float)W46,
            w56 = (float)W56, w47 = (float)W47, w57 = (float)W57, w69 = (float)W69, w79 = (float)W79, w89 = (float)W89;
        double a3 = w13 * X + w23, z3 = S(a3);
        double a4 = w14 * X + w24, z4 = S(a4);
        double a6 = w36 * z3 + w46 * z4 + w56, z6 = S(a6);
        double a7 = w47 * z4 + w57, z7 = S(a7);
        double a9 = w69 * z6 + w79 * z7 + w89, z9 = S(a9);
        double dz9 = -2 * (Y - z9);                       // ∂ℓ/∂z9
        double da9 = dz9 * Sd(a9);                        // ∂ℓ/∂a9
        double da6 = da9 * w69 * Sd(a6);                  // ∂ℓ/∂a6
        double da7 = da9 * w79 * Sd(a7);                  // ∂ℓ/∂a7
        double da3 = da6 * w36 * Sd(a3);                  // neuron 3 feeds only neuron 6
        double da4 = (da6 * w46 + da7 * w47) * Sd(a4);    // ∂ℓ/∂a4 = (∂ℓ/∂a6 · w4,6 + ∂ℓ/∂a7 · w4,7) · σ4′(a4)
        var d = new Dictionary<string, double>
        {
            ["w1,3"] = da3 * X, ["w2,3"] = da3, ["w1,4"] = da4 * X, ["w2,4"] = da4,
            ["w3,6"] = da6 * z3, ["w4,6"] = da6 * z4, ["w5,6"] = da6, ["w4,7"] = da7 * z4, ["w5,7"] = da7,
            ["w6,9"] = da9 * z6, ["w7,9"] = da9 * z7, ["w8,9"] = da9,
        };
        return (z9, d, da7 * z3);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void ForwardValueAndAllTwelveDerivativesMatchTheChainRule(string device)
    {
        var d = TestDevices.Get(device);
        var spec = Spec();
        Assert.Equal(12, spec.TrainableParameterCount);
        Assert.Equal(13, spec.ParameterCount); // the flat layout keeps a slot for the missing edge: index 6 below
        using var net = Build(d);
        var (f, byHand, missingEdge) = ByHand();

        float got = net.Predict(new float[,] { { (float)X } })[0, 0];
        Assert.True(Math.Abs(got - f) <= 1e-6 * Math.Abs(f), $"f(x) = {got}, chain rule {f}");

        using var trainer = new Trainer(net, new TrainOptions { Loss = LossFunction.MeanSquaredError });
        using var data = DeviceDataset.Upload(d, Dataset.Regression(new float[,] { { (float)X } }, new float[,] { { (float)Y } }));
        var (loss, grads) = trainer.Gradients(data);
        Assert.True(Math.Abs(loss[0] - (Y - f) * (Y - f)) < 1e-7, $"loss {loss[0]} vs {(Y - f) * (Y - f)}");

        var g = grads[0];
        // Flat layout: W1 [2,1], b1 [2], W2 [2,2], b2 [2], W3 [1,2], b3 [1]
        var device12 = new Dictionary<string, double>
        {
            ["w1,3"] = g[0], ["w1,4"] = g[1], ["w2,3"] = g[2], ["w2,4"] = g[3],
            ["w3,6"] = g[4], ["w4,6"] = g[5], ["w4,7"] = g[7], ["w5,6"] = g[8], ["w5,7"] = g[9],
            ["w6,9"] = g[10], ["w7,9"] = g[11], ["w8,9"] = g[12],
        };
        // The missing edge 3 → 7 has no gradient. The backward GEMM computes one for its slot like for any other (what
        // the edge's gradient would be, clearly not 0 here); Gradients clears it on the device.
        Assert.True(Math.Abs(missingEdge) > 1e-3, $"∂ℓ/∂a7 · z3 = {missingEdge}: too small for the check below to mean anything");
        Assert.Equal(0f, g[6]);
        foreach (var (name, expected) in byHand)
            Assert.True(Math.Abs(device12[name] - expected) <= 1e-6 * Math.Abs(expected) + 1e-9,
                $"∂ℓ/∂{name}: device {device12[name]:E6}, chain rule {expected:E6}");
    }

    [Theory]
    [MemberData(nameof(TestDevices.Names), MemberType = typeof(TestDevices))]
    public void TheMissingEdgeStaysExactlyZeroThroughTraining(string device)
    {
        var d = TestDevices.Get(device);
        using var net = Build(d);
        var before = net.GetWeights(2);
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 3, BatchSize = 1, LearningRate = 0.5f, Optimizer = OptimizerOptions.Adam() });
        trainer.Fit(Dataset.Regression(new float[,] { { 0.5f }, { -1f } }, new float[,] { { 0.25f }, { 0.75f } }));
        var after = net.GetWeights(2);
        Assert.Equal(0f, after[1, 0]);
        Assert.NotEqual(before[1, 1], after[1, 1]); // the others did train
        Assert.Equal(after[1, 1], net.GetWeight(2, from: 1, to: 1)); // edge from neuron 4 to neuron 7
        Assert.Throws<ArgumentException>(() => net.SetWeight(2, from: 0, to: 1, value: 0.3f));
    }
}
