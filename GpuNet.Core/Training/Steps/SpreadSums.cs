using GpuNet.Compute;

namespace GpuNet.Training;

/// <summary>
/// The sums of a <see cref="SpreadStep"/>: each device sums its own restarts, so the run's sums are the devices' laid
/// end to end in restart order. Every read first brings the restarts' weights home (<paramref name="bringHome"/>), since
/// the trainer reads the weights only after reading the sums.
/// </summary>
internal sealed class SpreadSums(IReadOnlyList<(LossSums Sums, DeviceParameters Parameters)> devices, Action bringHome) : ILossSums
{
    private readonly IReadOnlyList<LossSums> parts = devices.Select(d => d.Sums).ToList();

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var p in parts) p.Reset();
    }

    /// <inheritdoc/>
    public void Set(double[] loss, double[] hits)
    {
        int first = 0;
        foreach (var p in parts)
        {
            p.Set(loss[first..(first + p.Restarts)], hits[first..(first + p.Restarts)]);
            first += p.Restarts;
        }
    }

    /// <inheritdoc/>
    public (double[] Loss, double[] Hits) Read()
    {
        bringHome();
        var read = parts.Select(p => p.Read()).ToList();
        return ([.. read.SelectMany(r => r.Loss)], [.. read.SelectMany(r => r.Hits)]);
    }

    /// <inheritdoc/>
    public long[] ReadFirstBadSteps() => [.. parts.SelectMany(p => p.ReadFirstBadSteps())];

    /// <inheritdoc/>
    /// <remarks>Each device checks its own restarts' weights; <paramref name="parameters"/> (the home network's) are
    /// brought up to date.</remarks>
    public (double[] Loss, double[] Hits, bool[] WeightsFinite) ReadEpoch(DeviceParameters parameters)
    {
        bringHome();
        var read = devices.Select(d => d.Sums.ReadEpoch(d.Parameters)).ToList();
        return ([.. read.SelectMany(r => r.Loss)], [.. read.SelectMany(r => r.Hits)], [.. read.SelectMany(r => r.WeightsFinite)]);
    }
}
