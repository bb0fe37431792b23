namespace GpuNet.Training;

/// <summary>Watches the validation loss of the best restart, keeps the parameters of the best epoch, and says when
/// <c>patience</c> epochs have passed without improvement.</summary>
internal sealed class EarlyStopping(int patience)
{
    /// <summary>Lowest validation loss seen (+∞ before any).</summary>
    public double BestLoss { get; private set; } = double.PositiveInfinity;
    /// <summary>The epoch it was seen in (0 = none).</summary>
    public int BestEpoch { get; private set; }
    /// <summary>Every restart's parameters at that epoch, [R, P].</summary>
    public float[]? BestParameters { get; private set; }

    /// <summary>Takes an epoch's validation losses; returns true when training should stop.</summary>
    public bool Observe(int epoch, double[] validationLoss, Func<float[]> readParameters)
    {
        double v = RestartRanking.BestLoss(validationLoss); // NaN (no restart finite) is never an improvement
        if (v < BestLoss)
        {
            BestLoss = v;
            BestEpoch = epoch;
            BestParameters = readParameters();
            return false;
        }
        return epoch - BestEpoch >= patience;
    }

    /// <summary>The parameters to put back at the end of a run of <paramref name="epochs"/> epochs: the best epoch's,
    /// unless that is the last one (or there is none).</summary>
    public float[]? ToRestore(int epochs, bool stopped) =>
        BestParameters != null && (stopped || BestEpoch != epochs) ? BestParameters : null;

    /// <summary>Continues from a saved state.</summary>
    public void Restore(double bestLoss, int bestEpoch, float[]? bestParameters)
    {
        BestLoss = bestLoss;
        BestEpoch = bestEpoch;
        BestParameters = bestParameters;
    }
}
