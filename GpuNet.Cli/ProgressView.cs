using System.Diagnostics;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>
/// Training progress. On an interactive terminal a line redrawn in place, as Keras draws it: the epoch, steps done of
/// the epoch, a bar, the time left in the epoch, rows a second and the running loss (and accuracy); then one line per
/// epoch. Elsewhere (a log file, CI) the epoch lines, and a plain progress line whenever <c>interval</c> has passed
/// since the last line, so a log shows life during a long epoch. The final evaluation is announced and shown the
/// same way.
/// </summary>
internal sealed class ProgressView : IProgress<EpochReport>, IProgress<TickReport>
{
    private const int Width = 24;
    private readonly TextWriter writer;
    private readonly bool interactive;
    private readonly TimeSpan interval;
    private readonly Func<TimeSpan> clock;
    private TimeSpan lastLine;
    private int shownLength;
    private string? announced;

    /// <param name="writer">Where progress goes.</param>
    /// <param name="interactive">A terminal: redraw one line in place.</param>
    /// <param name="interval">Elsewhere: the least time between two progress lines (default 10 s).</param>
    /// <param name="clock">Elapsed time (tests pass their own).</param>
    public ProgressView(TextWriter writer, bool interactive, TimeSpan? interval = null, Func<TimeSpan>? clock = null)
    {
        this.writer = writer;
        this.interactive = interactive;
        this.interval = interval ?? TimeSpan.FromSeconds(10);
        var watch = Stopwatch.StartNew();
        this.clock = clock ?? (() => watch.Elapsed);
    }

    public void Report(TickReport t)
    {
        if (t.Phase == TickPhase.FinalEvaluation && announced != t.Data)
        {
            announced = t.Data;
            Line($"final evaluation: {t.Data}, {t.Rows} rows");
        }
        string text = t.Phase == TickPhase.Training
            ? $"epoch {t.Epoch}/{t.Epochs}  {t.StepsDone}/{t.StepsInEpoch}{Bar(t)}  ETA {Eta(t.Remaining)}  {t.SamplesPerSecond:F0} rows/s  " +
              $"loss {t.RunningLoss:F4}" + (t.RunningAccuracy == null ? "" : $"  acc {t.RunningAccuracy.Value * 100:F1}%")
            : $"final evaluation: {t.Data}  {t.RowsDone}/{t.Rows} rows{Bar(t)}  ETA {Eta(t.Remaining)}  {t.SamplesPerSecond:F0} rows/s";
        if (interactive)
        {
            writer.Write("\r" + text.PadRight(shownLength));
            shownLength = text.Length;
        }
        else if (clock() - lastLine >= interval) Line(text);
    }

    public void Report(EpochReport r)
    {
        int best = r.BestRestart;
        Line($"epoch {r.Epoch}/{r.Epochs}  lr {r.LearningRate:G3}  loss {r.TrainLoss[best]:F4}" +
            (r.TrainAccuracy == null ? "" : $"  acc {r.TrainAccuracy[best] * 100:F2}%") +
            (r.ValidationLoss == null ? "" : $"  val_loss {RestartRanking.BestLoss(r.ValidationLoss):F4}") +
            (r.ValidationAccuracy == null ? "" : $"  val_acc {r.ValidationAccuracy.Max() * 100:F2}%") +
            $"  {r.SamplesPerSecond:F0} samples/s  {r.Elapsed.TotalSeconds:F1}s");
    }

    /// <summary>Clears a progress line still shown in place.</summary>
    public void Done() => Clear();

    private void Line(string text)
    {
        Clear();
        writer.WriteLine(text);
        lastLine = clock();
    }

    private void Clear()
    {
        if (!interactive || shownLength == 0) return;
        writer.Write("\r" + new string(' ', shownLength) + "\r");
        shownLength = 0;
    }

    /// <summary>" ━━━━━━────" on a terminal; nothing in a log, where it would be read as noise.</summary>
    private string Bar(TickReport t)
    {
        if (!interactive) return "";
        int filled = (int)((long)Width * t.RowsDone / Math.Max(1, t.Rows));
        return " " + new string('━', filled) + new string('─', Width - filled);
    }

    /// <summary>"12s", "3:05", "1:02:05"; "?" before the rate is known.</summary>
    internal static string Eta(TimeSpan? left)
    {
        if (left is not { } t) return "?";
        if (t.TotalSeconds < 60) return $"{Math.Ceiling(t.TotalSeconds):F0}s";
        return t.TotalHours < 1 ? $"{(int)t.TotalMinutes}:{t.Seconds:D2}" : $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}";
    }
}
