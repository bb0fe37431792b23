using GpuNet.IO;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>
/// Loss and accuracy curves per epoch as a PNG: one panel for the loss, one for the accuracy (in %) when the task is
/// classification; training in blue, validation in orange (and in the legend) only when there is validation data.
/// Epochs are ticked at round numbers, values at round steps; every point is marked while there are few (so a
/// single epoch shows as a point). Drawn here, with the PNG written by <see cref="Raster"/>, so that the tool needs
/// no plotting package and no native library.
/// </summary>
internal static class Plot
{
    private const int PanelWidth = 520, Height = 400, Top = 70, Bottom = 64, Right = 28, Scale = 2, Pad = 10, MaxMarkers = 25;
    private static readonly Rgb TrainColour = new(31, 119, 180), ValidationColour = new(255, 127, 14), Ink = new(40, 40, 40),
        GridColour = new(228, 228, 228);

    /// <summary>Refuses a plot file name that does not end in .png: the plot is a PNG, and PNG bytes under another
    /// extension (x.jpg) would mislead every program that opens it.</summary>
    public static void CheckPath(string option, string path)
    {
        if (!Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"{option} {path}: plots are written as PNG images; give a file name ending in .png");
    }

    /// <summary>Writes the curves of restart <paramref name="restart"/> atomically to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<EpochReport> history, int restart, string lossName) =>
        AtomicFile.Write(path, Draw(history, restart, lossName).WritePng);

    /// <summary>The image <see cref="Write"/> writes.</summary>
    internal static Raster Draw(IReadOnlyList<EpochReport> history, int restart, string lossName)
    {
        if (history.Count == 0) throw new ArgumentException("there are no epochs to plot");
        bool accuracy = history[0].TrainAccuracy != null, validation = history[0].ValidationLoss != null;
        var img = new Raster(PanelWidth * (accuracy ? 2 : 1), Height);
        var epochs = PlotAxis.Epochs(history[0].Epoch, history[^1].Epoch);
        var xs = history.Select(h => (double)h.Epoch).ToArray();
        Panel(img, 0, $"loss ({lossName})", epochs, xs, history.Select(h => h.TrainLoss[restart]).ToArray(),
            validation ? history.Select(h => h.ValidationLoss![restart]).ToArray() : null, percent: false);
        if (accuracy)
            Panel(img, PanelWidth, "accuracy", epochs, xs, history.Select(h => h.TrainAccuracy![restart] * 100).ToArray(),
                history[0].ValidationAccuracy != null ? history.Select(h => h.ValidationAccuracy![restart] * 100).ToArray() : null,
                percent: true);
        Legend(img, validation);
        return img;
    }

    private static void Panel(Raster img, int x0, string title, PlotAxis x, double[] xs, double[] train, double[]? validation, bool percent)
    {
        var finite = train.Concat(validation ?? []).Where(double.IsFinite).ToArray();
        var y = PlotAxis.Values(finite.DefaultIfEmpty(double.NaN).Min(), finite.DefaultIfEmpty(double.NaN).Max(), percent);
        int labelWidth = y.Labels.Max(l => PixelFont.Measure(l, Scale));
        var area = new Area(x0 + labelWidth + 20, Top, x0 + PanelWidth - Right, Height - Bottom, x, y);
        for (int i = 0; i < y.Ticks.Length; i++)
        {
            int py = area.Y(y.Ticks[i]);
            img.Line(area.Left, py, area.Right, py, GridColour);
            img.Line(area.Left - 6, py, area.Left, py, Ink);
            img.Text(area.Left - 10 - PixelFont.Measure(y.Labels[i], Scale), py - PixelFont.Height * Scale / 2, y.Labels[i], Ink, Scale);
        }
        for (int i = 0; i < x.Ticks.Length; i++)
        {
            int px = area.X(x.Ticks[i]), w = PixelFont.Measure(x.Labels[i], Scale);
            img.Line(px, area.Top, px, area.Bottom, GridColour);
            img.Line(px, area.Bottom, px, area.Bottom + 6, Ink);
            img.Text(Math.Clamp(px - w / 2, x0 + 2, x0 + PanelWidth - w - 2), area.Bottom + 12, x.Labels[i], Ink, Scale);
        }
        img.Line(area.Left, area.Top, area.Left, area.Bottom, Ink);
        img.Line(area.Left, area.Bottom, area.Right, area.Bottom, Ink);
        img.Text(area.Left, Top - 14 - PixelFont.Height * Scale, title, Ink, Scale);
        string label = "epoch";
        img.Text((area.Left + area.Right - PixelFont.Measure(label, Scale)) / 2, Height - 10 - PixelFont.Height * Scale, label, Ink, Scale);
        Series(img, area, xs, train, TrainColour);
        if (validation != null) Series(img, area, xs, validation, ValidationColour);
    }

    /// <summary>A polyline through the finite points, broken at non-finite ones (a diverged epoch), with a marker on
    /// every point while there are few and on every point that has no finite neighbour.</summary>
    private static void Series(Raster img, Area area, double[] xs, double[] ys, Rgb colour)
    {
        bool markAll = ys.Length <= MaxMarkers;
        for (int i = 0; i < ys.Length; i++)
        {
            if (!double.IsFinite(ys[i])) continue;
            int px = area.X(xs[i]), py = area.Y(ys[i]);
            bool next = i + 1 < ys.Length && double.IsFinite(ys[i + 1]), previous = i > 0 && double.IsFinite(ys[i - 1]);
            if (next) img.Line(px, py, area.X(xs[i + 1]), area.Y(ys[i + 1]), colour, thickness: 2);
            if (markAll || !(next || previous)) img.Disc(px, py, 3, colour);
        }
    }

    /// <summary>The legend, right-aligned in the top row: training, and validation when there is validation data.</summary>
    private static void Legend(Raster img, bool validation)
    {
        var entries = validation ? new[] { ("train", TrainColour), ("validation", ValidationColour) } : [("train", TrainColour)];
        int x = img.Width - Right;
        int y = 12, textHeight = PixelFont.Height * Scale;
        foreach (var (name, colour) in entries.Reverse())
        {
            x -= PixelFont.Measure(name, Scale);
            img.Text(x, y, name, Ink, Scale);
            x -= 34;
            img.Line(x, y + textHeight / 2, x + 24, y + textHeight / 2, colour, thickness: 2);
            img.Disc(x + 12, y + textHeight / 2, 3, colour);
            x -= 24;
        }
    }

    /// <summary>The plotting area of a panel in pixels and the axes it maps; points stay <see cref="Pad"/> pixels
    /// inside its edges, so that none is hidden by an axis line.</summary>
    private sealed record Area(int Left, int Top, int Right, int Bottom, PlotAxis XAxis, PlotAxis YAxis)
    {
        public int X(double v) => Left + Pad + (int)Math.Round((Right - Left - 2 * Pad) * (v - XAxis.Lo) / (XAxis.Hi - XAxis.Lo));
        public int Y(double v) => Bottom - Pad - (int)Math.Round((Bottom - Top - 2 * Pad) * (Math.Clamp(v, YAxis.Lo, YAxis.Hi) - YAxis.Lo) / (YAxis.Hi - YAxis.Lo));
    }
}
