using System.Globalization;

namespace GpuNet.Data;

/// <summary>Seeded, reproducible splits of a dataset.</summary>
public static class Split
{
    /// <summary>
    /// Splits off ⌈fraction × Count⌉ rows for validation. The rows are chosen by a Fisher–Yates shuffle of 0..Count-1
    /// driven by <see cref="SplitMix64"/> seeded with <paramref name="seed"/>: the first ⌈fraction × Count⌉ indices of the
    /// permutation go to validation, the rest to training. Both parts keep the original row order, so the same data,
    /// fraction and seed give the same split on every platform and .NET version.
    /// </summary>
    /// <param name="data">The rows to split.</param>
    /// <param name="fraction">Share of rows for validation, in [0, 1); 0 gives an empty validation set.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <exception cref="GpuNetException">The fraction is outside [0, 1) or not a number.</exception>
    /// <exception cref="DataFormatException">The split would leave no training rows.</exception>
    public static (Dataset Train, Dataset Validation) TrainValidation(Dataset data, double fraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(fraction >= 0 && fraction < 1))
            throw new GpuNetException(
                $"validation fraction {fraction.ToString(CultureInfo.InvariantCulture)} is outside [0, 1)");
        int n = data.Count;
        // The tolerance keeps products such as 0.1 × 30 = 3.0000000000000004 from rounding up to 4.
        int validation = (int)Math.Min(n, Math.Ceiling(fraction * n - 1e-9));
        if (n - validation < 1)
            throw new DataFormatException(
                $"a validation fraction of {fraction.ToString(CultureInfo.InvariantCulture)} of {n} rows leaves no training rows");
        var order = new SplitMix64(seed).Permutation(n);
        var validationRows = order[..validation];
        var trainRows = order[validation..];
        Array.Sort(validationRows);
        Array.Sort(trainRows);
        return (data.Subset(trainRows), data.Subset(validationRows));
    }
}
