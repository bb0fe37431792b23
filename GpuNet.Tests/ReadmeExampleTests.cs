using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The README's C# example, verbatim (bar the device and the assertions), so it stays true.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExampleTrainsDigits()
    {
        var device = TestDevices.Cpu; // README: using var device = Gpu.Open("auto");
        var (train, test) = BuiltIn.Digits();                            // 8×8 digits: 64 features, 10 classes
        var spec = NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity);
        using var net = new Network(device, spec, copies: 4, seed: 1);   // 4 restarts, side by side
        var options = new TrainOptions
        {
            Epochs = 20, BatchSize = 32, LearningRate = 1e-3f,
            Optimizer = OptimizerOptions.Adam(), Loss = LossFunction.CrossEntropy,
        };
        using var trainer = new Trainer(net, options);
        var result = trainer.Fit(train, progress: new Progress<EpochReport>(r => Console.WriteLine($"epoch {r.Epoch}: loss {r.BestTrainLoss:F4}")));
        var eval = trainer.Evaluate(test);
        Console.WriteLine($"best restart {result.BestCopy}: test accuracy {eval.Accuracy![result.BestCopy]:P2}");
        float[] probabilities = net.Predict(test.Features, test.Count, result.BestCopy, OutputFunction.Softmax);

        Assert.True(eval.Accuracy[result.BestCopy] > 0.95, $"test accuracy {eval.Accuracy[result.BestCopy]}");
        Assert.Equal(test.Count * 10, probabilities.Length);
        Assert.Equal(1.0, probabilities.Take(10).Sum(), 5);
        _ = Gpu.List();
    }
}
