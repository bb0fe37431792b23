namespace GpuNet.Training;

/// <summary>
/// How the restarts of a run ended, the idea's question (how often does a random start get stuck?): how many reached
/// the global minimum, counted as a final training loss below <see cref="Threshold"/>, and how the final losses
/// spread: nearest-rank quantiles of the finite losses and a count per decade. A diverged restart (NaN or infinite
/// loss) counts as not reaching it and is counted apart.
/// </summary>
public sealed record RestartOutcome(double Threshold, int Restarts, int Reached, int Diverged, double Min, double P10, double P25,
    double Median, double P75, double P90, double Max, IReadOnlyList<LossDecade> Decades)
{
    /// <summary>The threshold <c>gpunet train</c> uses unless told otherwise: 0.001. Where the network can fit the data
    /// exactly (XOR, parity, any boolean function with enough hidden neurons), the global minimum of mse is 0, and a
    /// restart stuck in a local minimum keeps a loss of order 0.1 (one XOR row of four wrong costs 1/16 to 1/4); at
    /// 0.001 every output is within about 0.03 of its 0/1 target.</summary>
    public const double DefaultThreshold = 1e-3;

    /// <summary>Fraction of the restarts that reached the global minimum.</summary>
    public double Fraction => Restarts == 0 ? 0 : (double)Reached / Restarts;

    /// <summary>The outcome of restarts with these final training losses.</summary>
    public static RestartOutcome Of(IReadOnlyList<double> finalLosses, double threshold = DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(finalLosses);
        if (!(threshold > 0) || double.IsInfinity(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "the threshold must be positive and finite");
        var finite = finalLosses.Where(double.IsFinite).Order().ToArray();
        double Q(double p) => finite.Length == 0 ? double.NaN : finite[Math.Max(0, (int)Math.Ceiling(p * finite.Length) - 1)];
        var decades = new List<LossDecade> { new(0, 1e-6, finite.Count(v => v < 1e-6)) };
        for (int e = -6; e < 0; e++)
        {
            double from = Math.Pow(10, e), to = Math.Pow(10, e + 1);
            decades.Add(new LossDecade(from, to, finite.Count(v => v >= from && v < to)));
        }
        decades.Add(new LossDecade(1, double.PositiveInfinity, finite.Count(v => v >= 1)));
        return new RestartOutcome(threshold, finalLosses.Count, finite.Count(v => v < threshold), finalLosses.Count - finite.Length,
            Q(0), Q(0.1), Q(0.25), Q(0.5), Q(0.75), Q(0.9), finite.Length == 0 ? double.NaN : finite[^1], decades);
    }
}

/// <summary>Restarts whose final loss lies in [<paramref name="From"/>, <paramref name="To"/>).</summary>
public sealed record LossDecade(double From, double To, int Restarts);
