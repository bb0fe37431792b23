using System.Diagnostics;

namespace GpuNet.Devices;

/// <summary>Measures how long one launch of a GEMM candidate takes, for <see cref="GemmTuner"/>. Tests pass their own
/// to make the tuner's choice predictable.</summary>
public interface IGemmTimer
{
    /// <summary>Seconds one call of <paramref name="launch"/> takes once its work has finished on the device;
    /// <paramref name="candidate"/> names what is measured.</summary>
    double SecondsPerLaunch(GemmVariant candidate, Action launch);
}

/// <summary>
/// The wall clock around synchronised launches: one launch alone sets how many launches make a round of at least
/// 2 ms (at most 200), and the fastest of three rounds, divided by its launches, is the time a launch. The candidate has
/// already run once (its check), so its compilation is not measured.
/// </summary>
public sealed class GemmDeviceTimer : IGemmTimer
{
    /// <summary>A timer of launches on <paramref name="device"/>.</summary>
    public GemmDeviceTimer(Device device) => Device = device;

    private Device Device { get; }

    private const double RoundSeconds = 2e-3;
    private const int MaxLaunches = 200, Rounds = 3;

    /// <inheritdoc/>
    public double SecondsPerLaunch(GemmVariant candidate, Action launch)
    {
        Device.Synchronize();
        var clock = Stopwatch.StartNew();
        launch();
        Device.Synchronize();
        double one = Math.Max(clock.Elapsed.TotalSeconds, 1e-7);
        int n = (int)Math.Clamp(Math.Ceiling(RoundSeconds / one), 1, MaxLaunches);
        double best = double.PositiveInfinity;
        for (int r = 0; r < Rounds; r++)
        {
            clock.Restart();
            for (int i = 0; i < n; i++) launch();
            Device.Synchronize();
            best = Math.Min(best, clock.Elapsed.TotalSeconds / n);
        }
        return best;
    }
}
