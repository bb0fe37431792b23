using System.Globalization;

namespace GpuNet.Data;

/// <summary>A column whose values float32 arithmetic cannot train on: its largest magnitude and where it is.</summary>
/// <param name="Column">0-based column (feature or target).</param>
/// <param name="Value">The value of largest magnitude in the column.</param>
/// <param name="Row">0-based row holding it.</param>
public readonly record struct ColumnOverflow(int Column, float Value, long Row);

/// <summary>
/// Finds the columns whose values overflow float32 arithmetic in the first training step, whatever the step size.
/// </summary>
/// <remarks>
/// <para>The bound is <see cref="OverflowBound"/> = 2^64 ≈ 1.8e19, because every training step squares quantities that
/// grow with the data: mse squares the error y − f(x) (and f(x) grows with the inputs), Adam squares each gradient
/// (a first-layer gradient dW = δᵀ·X grows with the inputs), and the optimizer's and the standardiser's sums of
/// squares do the same. The largest float32 is just below 2^128, so v² overflows to infinity exactly when
/// |v| ≥ 2^64.</para>
/// <para>Values below the bound can still overflow through long sums of large products (a wide layer of inputs near
/// 1e18); that shows as a divergence, which a smaller step size or standardised features cure. Values at or above it
/// are a property of the data, so they are refused up front with the column named.</para>
/// </remarks>
public static class FloatRange
{
    /// <summary>2^64: a float32 of at least this magnitude overflows when squared.</summary>
    public const float OverflowBound = 18446744073709551616f;

    /// <summary>The columns of row-major <paramref name="values"/> [rows, <paramref name="width"/>] holding a finite value
    /// of magnitude ≥ <see cref="OverflowBound"/>, in column order, each with its largest value.</summary>
    public static IReadOnlyList<ColumnOverflow> OverflowingColumns(float[] values, int width)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var worst = new ColumnOverflow?[width];
        for (long i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!(MathF.Abs(v) >= OverflowBound) || !float.IsFinite(v)) continue;
            int c = (int)(i % width);
            if (worst[c] is not { } w || MathF.Abs(v) > MathF.Abs(w.Value)) worst[c] = new ColumnOverflow(c, v, i / width);
        }
        return worst.Where(w => w != null).Select(w => w!.Value).ToArray();
    }

    /// <summary>Refuses features or targets that overflow float32 arithmetic (<see cref="OverflowingColumns"/>).</summary>
    /// <param name="values">Row-major [rows, width].</param>
    /// <param name="width">Values per row.</param>
    /// <param name="what">"feature" or "target".</param>
    /// <param name="describe">Names a column, e.g. <see cref="Dataset.DescribeFeature"/>.</param>
    /// <exception cref="DataFormatException">Some column does; the message names up to five, with a value and its row,
    /// and says to standardise (<see cref="Standardizer"/>) or rescale.</exception>
    public static void Require(float[] values, int width, string what, Func<int, string> describe) =>
        Require(values, width, what, describe, training: true);

    /// <summary>Refuses a dataset whose features (unless <paramref name="features"/> is false, e.g. for features still
    /// to be standardised) or targets overflow float32 arithmetic, as
    /// <see cref="Require(float[], int, string, Func{int, string})"/> does column by column; the message starts with
    /// <paramref name="source"/> (the file the rows came from) when one is given.</summary>
    /// <exception cref="DataFormatException">Some column overflows.</exception>
    public static void Require(Dataset data, string? source = null, bool features = true) =>
        Require(data, source, features, training: true);

    /// <summary><see cref="Require(Dataset, string?, bool)"/>, worded for training or (<paramref name="training"/>
    /// false) for evaluating a trained model.</summary>
    internal static void Require(Dataset data, string? source, bool features, bool training)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            if (features) Require(data.Features, data.FeatureCount, "feature", data.DescribeFeature, training);
            Require(data.Targets, data.TargetCount, "target", c => $"target {c + 1}", training);
        }
        catch (DataFormatException e) when (source != null)
        {
            throw new DataFormatException($"{source}: {e.Message}") { Settings = e.Settings };
        }
    }

    /// <summary><see cref="Require(float[], int, string, Func{int, string})"/>, worded for evaluating a trained model
    /// (<paramref name="training"/> false): no step size or standardiser to suggest, the data must be scaled as the
    /// model's training data was.</summary>
    internal static void Require(float[] values, int width, string what, Func<int, string> describe, bool training)
    {
        var bad = OverflowingColumns(values, width);
        if (bad.Count == 0) return;
        string columns = string.Join(", ", bad.Take(5).Select(b =>
            $"{describe(b.Column)} holds {b.Value.ToString("G4", CultureInfo.InvariantCulture)} (row {b.Row + 1})"));
        if (bad.Count > 5) columns += $" and {bad.Count - 5} more {what} columns";
        string fix = !training ? $"the model's loss would overflow; give the {what}s in the scale the model was trained on"
            : what == "feature" ? "training would fail at its first step whatever the step size; standardise the features (Standardizer) or rescale those columns"
            : "training would fail at its first step whatever the step size; rescale the targets";
        throw new DataFormatException(
            $"the data overflows float32 arithmetic: {columns}. A value of magnitude 2^64 (1.8e19) or more overflows float32 " +
            $"(±3.4e38) when squared, as the loss and the optimizer do, so {fix}")
        {
            Settings = training && what == "feature" ? ["Standardizer"] : [],
        };
    }
}
