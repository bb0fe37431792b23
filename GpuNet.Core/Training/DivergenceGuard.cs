using GpuNet.Compute;
using GpuNet.Model;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Training;

/// <summary>
/// Keeps the last good weights and puts them back when every restart diverged. At the start of each epoch the weights
/// are copied aside on the device (one copy, no synchronisation); the copy of the epoch before is kept too, because when
/// the very first loss after the newer copy is bad, the newer copy itself is bad though finite (its loss overflowed).
/// </summary>
internal sealed class DivergenceGuard(Network network) : IDisposable
{
    private Snapshot? newer, older;

    /// <summary>A device copy of the weights, the run step that followed it (−1: not usable) and the epochs completed then.</summary>
    private sealed class Snapshot(MemoryBuffer1D<float, Stride1D.Dense> weights) : IDisposable
    {
        public MemoryBuffer1D<float, Stride1D.Dense> Weights { get; } = weights;
        public long Step { get; set; } = -1;
        public int Epochs { get; set; }
        public void Dispose() => Weights.Dispose();
    }

    /// <summary>Device bytes the two snapshots take.</summary>
    public static long Bytes(NetworkLayout layout, int restarts) => 2 * 4L * restarts * layout.ParameterCount;

    /// <summary>Copies the weights aside before run step <paramref name="step"/>, after <paramref name="epochsDone"/>
    /// epochs; the copy before becomes the older one, except at the first epoch of a run.</summary>
    public void TakeSnapshot(long step, int epochsDone, bool firstOfRun)
    {
        (newer, older) = (older, newer);
        if (firstOfRun && older != null) older.Step = -1;
        newer ??= new Snapshot(network.Device.Allocate(network.Parameters.Length));
        network.Parameters.View.CopyTo((ArrayView<float>)newer.Weights.View);
        newer.Step = step;
        newer.Epochs = epochsDone;
    }

    /// <summary>Puts back the last weights whose loss was seen finite, given the first step whose loss was not (or the
    /// step after the last, when the final pass overflowed); returns the epochs completed at those weights.</summary>
    public int RollBack(long firstBadStep)
    {
        // The loss of step s is taken with the weights before its update. If the first step after the newest copy was bad,
        // that copy gave the bad loss; the older copy's next loss was finite.
        var good = firstBadStep == newer!.Step && older is { Step: >= 0 } o ? o : newer;
        ((ArrayView<float>)good.Weights.View).CopyTo(network.Parameters.View);
        network.Device.Synchronize();
        return good.Epochs;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        newer?.Dispose();
        older?.Dispose();
    }
}
