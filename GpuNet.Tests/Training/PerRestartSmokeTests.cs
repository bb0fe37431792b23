using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.Training;

public class PerRestartSmokeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 100)]
    [InlineData(4, 100)]
    public void SeedNetworkAgrees(int batch, int steps)
    {
        var d = TestDevices.Cpu;
        var x = new float[] { 0f, 1f / 3, 2f / 3, 1f };
        var y = new float[] { 0f, 1f, 1f, 0f };
        var c = new StepHarness.Case(Networks.RunningExampleTests.Spec(), 5, Dataset.Regression(x, 1, y, 1), LossFunction.MeanSquaredError,
            OptimizerOptions.Adam(), batch, Rate: 0.05f);
        var a = StepHarness.Layered(d, c, steps);
        var b = StepHarness.PerRestart(d, c, steps);
        double err = Tolerances.RelativeError(b.Parameters, TestData.ToDouble(a.Parameters));
        output.WriteLine($"params rel err {err:E3}; loss {a.Loss[0]} vs {b.Loss[0]}; steps {a.State.Steps} {b.State.Steps}");
        Assert.Equal(a.Parameters, b.Parameters);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.State.First, b.State.First);
        Assert.Equal(a.State.Second, b.State.Second);
        Assert.Equal(a.State.Steps, b.State.Steps);
    }
}
