using GpuNet.Cli;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

public class ProgressViewTests
{
    private static EpochReport Epoch(int e) =>
        new(e, 3, 0.01f, [0.5, 0.25], [0.8, 0.9], [0.6, 0.3], [0.7, 0.85], TimeSpan.FromSeconds(e), 1234);

    private static TickReport Tick(int rowsDone, long stepsDone) =>
        new(1, 3, rowsDone, 100, 0.7, 0.6, 10) { StepsDone = stepsDone, StepsInEpoch = 10 };

    [Fact]
    public void InteractiveTerminalGetsStepsABarAndTheTimeLeftRedrawnInPlaceThenALinePerEpoch()
    {
        var w = new StringWriter();
        var view = new ProgressView(w, interactive: true);
        view.Report(Tick(50, 5));
        view.Report(Tick(100, 10));
        view.Report(Epoch(1));
        view.Done();
        string text = w.ToString();
        // 50 of 100 rows at 10 rows a second: 5 s left in the epoch
        Assert.StartsWith("\repoch 1/3  5/10 ━━━━━━━━━━━━────────────  ETA 5s  10 rows/s  loss 0.7000  acc 60.0%", text);
        Assert.Contains("\repoch 1/3  10/10 ━━━━━━━━━━━━━━━━━━━━━━━━  ETA 0s", text);
        // the epoch line replaces the progress line and names the best restart's loss and accuracy, validation, throughput
        Assert.Contains("\r" + new string(' ', 20), text);
        Assert.Contains("epoch 1/3  lr 0.01  loss 0.2500  acc 90.00%  val_loss 0.3000  val_acc 85.00%  1234 samples/s", text);
    }

    [Fact]
    public void ALogGetsPlainLinesAtASteadyIntervalAndNoBars()
    {
        var w = new StringWriter();
        var now = TimeSpan.Zero;
        var view = new ProgressView(w, interactive: false, TimeSpan.FromSeconds(10), () => now);
        view.Report(Tick(10, 1)); // too soon after the start: nothing
        now = TimeSpan.FromSeconds(11);
        view.Report(Tick(50, 5)); // a line
        now = TimeSpan.FromSeconds(15);
        view.Report(Tick(60, 6)); // 4 s after the last line: nothing
        view.Report(Epoch(1));
        now = TimeSpan.FromSeconds(24);
        view.Report(Tick(20, 2)); // 9 s after the epoch line: nothing
        view.Report(Epoch(2));
        view.Done();
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["epoch 1/3  5/10  ETA 5s  10 rows/s  loss 0.7000  acc 60.0%", "epoch 1/3", "epoch 2/3"],
            lines.Select(l => l.StartsWith("epoch 1/3  lr", StringComparison.Ordinal) ? "epoch 1/3" : l.StartsWith("epoch 2/3", StringComparison.Ordinal) ? "epoch 2/3" : l));
        Assert.DoesNotContain('\r', w.ToString());
        Assert.DoesNotContain('━', w.ToString());
    }

    [Fact]
    public void TheFinalEvaluationIsAnnouncedOncePerDataAndShowsItsRows()
    {
        var w = new StringWriter();
        var now = TimeSpan.Zero;
        var view = new ProgressView(w, interactive: false, TimeSpan.FromSeconds(10), () => now);
        TickReport Eval(string data, int done) =>
            new(3, 3, done, 60000, double.NaN, null, 3000) { Phase = TickPhase.FinalEvaluation, Data = data };
        view.Report(Eval("training data", 0));
        now = TimeSpan.FromSeconds(12);
        view.Report(Eval("training data", 30000));
        view.Report(Eval("validation data", 0));
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([
            "final evaluation: training data, 60000 rows",
            "final evaluation: training data  30000/60000 rows  ETA 10s  3000 rows/s",
            "final evaluation: validation data, 60000 rows"], lines);
    }

    [Theory]
    [InlineData(0.2, "1s")]
    [InlineData(59.5, "60s")]
    [InlineData(185, "3:05")]
    [InlineData(3725, "1:02:05")]
    public void TimeLeftReadsLikeAClock(double seconds, string expected) =>
        Assert.Equal(expected, ProgressView.Eta(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void TimeLeftIsUnknownBeforeTheRateIs() =>
        Assert.Equal("?", ProgressView.Eta(new TickReport(1, 1, 0, 10, 0, null, 0).Remaining));
}
