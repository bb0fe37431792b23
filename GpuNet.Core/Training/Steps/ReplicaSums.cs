using GpuNet.Compute;
using GpuNet.Distributed;

namespace GpuNet.Training;

/// <summary>
/// The sums of a replicated step: each replica sums the loss and hits of its own slices of the batches, so the run's
/// sums are the replicas' added in replica order (float64) and, with several processes, all-reduced; a restart's first
/// bad step is the earliest any replica saw. Sums set on resuming go to the job's first replica, the others start at
/// zero, so that the total is what was saved. Reading an epoch's sums also runs the step's once-an-epoch check.
/// </summary>
internal sealed class ReplicaSums(IReadOnlyList<LossSums> parts, Placement placement, Action checkEpoch) : ILossSums
{
    private int Restarts => parts[0].Restarts;

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var p in parts) p.Reset();
    }

    /// <inheritdoc/>
    public void Set(double[] loss, double[] hits)
    {
        Reset();
        if (placement.IsRoot) parts[0].Set(loss, hits);
    }

    /// <inheritdoc/>
    public (double[] Loss, double[] Hits) Read()
    {
        var sums = parts.Select(p => p.Read()).ToList();
        return Combine(sums.Select(s => s.Loss).ToList(), sums.Select(s => s.Hits).ToList());
    }

    /// <inheritdoc/>
    public long[] ReadFirstBadSteps()
    {
        // −1 (never) counts as +∞, so the reduction is a minimum; steps are far below 2⁵³, exact in float64.
        var first = new double[Restarts];
        Array.Fill(first, double.PositiveInfinity);
        foreach (var p in parts)
        {
            var bad = p.ReadFirstBadSteps();
            for (int r = 0; r < Restarts; r++)
                if (bad[r] >= 0) first[r] = Math.Min(first[r], bad[r]);
        }
        placement.Processes?.AllReduce(first, ReduceOp.Min);
        return Array.ConvertAll(first, f => double.IsPositiveInfinity(f) ? -1L : (long)f);
    }

    /// <inheritdoc/>
    /// <remarks><paramref name="parameters"/> are the primary's; every replica holds the same weights, which
    /// <see cref="ReplicatedStep"/> checks once an epoch.</remarks>
    public (double[] Loss, double[] Hits, bool[] WeightsFinite) ReadEpoch(DeviceParameters parameters)
    {
        checkEpoch();
        var (loss0, hits0, finite) = parts[0].ReadEpoch(parameters);
        var rest = parts.Skip(1).Select(p => p.Read()).ToList();
        var (loss, hits) = Combine([loss0, .. rest.Select(s => s.Loss)], [hits0, .. rest.Select(s => s.Hits)]);
        return (loss, hits, finite);
    }

    /// <summary>Σ over replicas in order, then over processes: [loss…, hits…] in one all-reduce.</summary>
    private (double[] Loss, double[] Hits) Combine(IReadOnlyList<double[]> loss, IReadOnlyList<double[]> hits)
    {
        var both = new double[2 * Restarts];
        for (int d = 0; d < loss.Count; d++)
            for (int r = 0; r < Restarts; r++)
            {
                both[r] += loss[d][r];
                both[Restarts + r] += hits[d][r];
            }
        placement.Processes?.AllReduce(both, ReduceOp.Sum);
        return (both[..Restarts], both[Restarts..]);
    }
}
