using System.Globalization;

namespace GpuNet.Cli;

/// <summary>One axis of a plot: its range and ticks at round values (1, 2, 2.5 or 5 times a power of ten), with labels.</summary>
internal sealed record PlotAxis(double Lo, double Hi, double[] Ticks, string[] Labels)
{
    /// <summary>Epochs <paramref name="first"/>..<paramref name="last"/>: ticks at whole multiples of 1, 2, 5, 10, 20,
    /// 25, 50, … epochs, at most <paramref name="maxTicks"/>; a single epoch gets its own tick in the middle.</summary>
    public static PlotAxis Epochs(int first, int last, int maxTicks = 8)
    {
        if (last <= first) return new PlotAxis(first - 0.5, first + 0.5, [first], [Label(first, 0)]);
        double step = EpochSteps().First(s => Multiples(first, last, s).Length <= maxTicks);
        var ticks = Multiples(first, last, step);
        return new PlotAxis(first, last, ticks, ticks.Select(t => Label(t, 0)).ToArray());
    }

    /// <summary>Values from <paramref name="lo"/> to <paramref name="hi"/>: the range widened to round ticks, at most
    /// <paramref name="maxTicks"/> of them; for <paramref name="percent"/> values, within [0, 100] and labelled with %.</summary>
    public static PlotAxis Values(double lo, double hi, bool percent, int maxTicks = 6)
    {
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) (lo, hi) = percent ? (0.0, 100.0) : (0.0, 1.0);
        if (hi - lo <= 1e-9 * Math.Max(1, Math.Abs(hi)))
        {
            double pad = percent ? 1 : Math.Max(Math.Abs(hi) * 0.05, 1e-3);
            (lo, hi) = (lo - pad, hi + pad);
        }
        // The smallest round step whose widened range holds at most maxTicks ticks.
        double step = 0, a = 0, b = 0;
        double[] ticks = [];
        foreach (double candidate in Steps((hi - lo) / (maxTicks - 1)))
        {
            (step, a, b) = (candidate, Math.Floor(lo / candidate) * candidate, Math.Ceiling(hi / candidate) * candidate);
            if (percent) (a, b) = (Math.Max(0, a), Math.Min(100, b));
            ticks = Multiples(a, b, step);
            if (ticks.Length <= maxTicks) break;
        }
        int decimals = Decimals(step);
        bool exponent = step < 1e-4 || Math.Max(Math.Abs(a), Math.Abs(b)) >= 1e6;
        var labels = ticks.Select(t => (exponent ? Exponent(t) : Label(t, decimals)) + (percent ? "%" : "")).ToArray();
        return new PlotAxis(a, b, ticks, labels);
    }

    /// <summary>The round steps (1, 2, 2.5 or 5 × 10^k) from the smallest not below <paramref name="raw"/> upwards.</summary>
    private static IEnumerable<double> Steps(double raw)
    {
        int power = (int)Math.Floor(Math.Log10(raw));
        for (int k = 0; ; k++)
            if (Round(power + k / 4, k % 4) is var step && step >= raw * (1 - 1e-12)) yield return step;
    }

    /// <summary>1, 2, 2.5, 5 (for <paramref name="which"/> 0..3) times 10^<paramref name="power"/>, rounded to what
    /// the decimal literal would give.</summary>
    private static double Round(int power, int which) =>
        double.Parse($"{(which switch { 0 => "1", 1 => "2", 2 => "2.5", _ => "5" })}e{power}", CultureInfo.InvariantCulture);

    /// <summary>Whole steps: 1, 2, 5, then 1, 2, 2.5 and 5 times 10, 100, ….</summary>
    private static IEnumerable<double> EpochSteps()
    {
        yield return 1;
        yield return 2;
        yield return 5;
        for (int power = 1; ; power++)
            for (int which = 0; which < 4; which++) yield return Round(power, which);
    }

    /// <summary>The multiples of <paramref name="step"/> in [lo, hi], computed as k·step (no running sum).</summary>
    private static double[] Multiples(double lo, double hi, double step)
    {
        long k0 = (long)Math.Ceiling(lo / step - 1e-9), k1 = (long)Math.Floor(hi / step + 1e-9);
        return Enumerable.Range(0, (int)Math.Max(0, k1 - k0 + 1)).Select(i => (k0 + i) * step + 0.0).ToArray();
    }

    /// <summary>Decimals that show every multiple of <paramref name="step"/> exactly (0.25 → 2, 2.5 → 1, 20 → 0).</summary>
    private static int Decimals(double step)
    {
        for (int d = 0; d < 12; d++)
        {
            double scaled = step * Math.Pow(10, d);
            if (Math.Abs(scaled - Math.Round(scaled)) <= 1e-9 * scaled) return d;
        }
        return 12;
    }

    private static string Label(double v, int decimals) =>
        (Math.Abs(v) < 1e-300 ? 0 : v).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Exponent(double v) => v == 0 ? "0" : v.ToString("0.##E+0", CultureInfo.InvariantCulture);
}
