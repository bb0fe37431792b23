using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>Training progress: a bar redrawn in place on an interactive terminal, one plain line per epoch otherwise.</summary>
internal sealed class ProgressView(TextWriter writer, bool interactive) : IProgress<EpochReport>, IProgress<TickReport>
{
    private const int Width = 24;
    private bool barShown;

    public void Report(TickReport t)
    {
        if (!interactive) return;
        int filled = (int)((long)Width * t.RowsDone / Math.Max(1, t.Rows));
        string acc = t.RunningAccuracy == null ? "" : $"  acc {t.RunningAccuracy.Value * 100:F1}%";
        writer.Write($"\repoch {t.Epoch}/{t.Epochs} [{new string('#', filled)}{new string('.', Width - filled)}] " +
            $"{t.SamplesPerSecond:F0} samples/s  loss {t.RunningLoss:F4}{acc}   ");
        barShown = true;
    }

    public void Report(EpochReport r)
    {
        int best = r.BestRestart;
        string line = $"epoch {r.Epoch}/{r.Epochs}  lr {r.LearningRate:G3}  loss {r.TrainLoss[best]:F4}" +
            (r.TrainAccuracy == null ? "" : $"  acc {r.TrainAccuracy[best] * 100:F2}%") +
            (r.ValidationLoss == null ? "" : $"  val_loss {RestartRanking.BestLoss(r.ValidationLoss):F4}") +
            (r.ValidationAccuracy == null ? "" : $"  val_acc {r.ValidationAccuracy.Max() * 100:F2}%") +
            $"  {r.SamplesPerSecond:F0} samples/s  {r.Elapsed.TotalSeconds:F1}s";
        if (interactive && barShown) writer.Write("\r" + new string(' ', 100) + "\r");
        barShown = false;
        writer.WriteLine(line);
    }

    public void Done()
    {
        if (interactive && barShown) writer.WriteLine();
    }
}
