using GpuNet.Cli;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

public class ProgressViewTests
{
    private static EpochReport Epoch(int e) =>
        new(e, 3, 0.01f, [0.5, 0.25], [0.8, 0.9], [0.6, 0.3], [0.7, 0.85], TimeSpan.FromSeconds(e), 1234);

    [Fact]
    public void InteractiveTerminalGetsABarRedrawnInPlaceThenALinePerEpoch()
    {
        var w = new StringWriter();
        var view = new ProgressView(w, interactive: true);
        view.Report(new TickReport(1, 3, 50, 100, 0.7, 0.6, 999));
        view.Report(new TickReport(1, 3, 100, 100, 0.6, 0.65, 999));
        view.Report(Epoch(1));
        view.Done();
        string text = w.ToString();
        Assert.StartsWith("\repoch 1/3 [############............] 999 samples/s  loss 0.7000  acc 60.0%", text);
        Assert.Contains("\repoch 1/3 [########################]", text);
        // the epoch line names the best copy's loss and accuracy, validation figures and throughput
        Assert.Contains("epoch 1/3  lr 0.01  loss 0.2500  acc 90.00%  val_loss 0.3000  val_acc 85.00%  1234 samples/s", text);
    }

    [Fact]
    public void RedirectedOutputGetsPlainLinesOnly()
    {
        var w = new StringWriter();
        var view = new ProgressView(w, interactive: false);
        view.Report(new TickReport(1, 3, 50, 100, 0.7, 0.6, 999));
        view.Report(Epoch(1));
        view.Report(Epoch(2));
        view.Done();
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain('\r', w.ToString());
        Assert.StartsWith("epoch 2/3", lines[1]);
    }
}
