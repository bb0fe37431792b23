using GpuNet.Compute;
using ILGPU;

namespace GpuNet.Training;

/// <summary>
/// The optimizer state of a <see cref="SpreadStep"/> as the trainer sees it: the devices' update rules, each over its
/// own restarts, read and restored as one state [R, P] (the moments laid end to end in restart order). The devices
/// update themselves; this one is never asked to.
/// </summary>
internal sealed class SpreadOptimizer(IReadOnlyList<(IOptimizer Rule, int Restarts)> devices, long parametersPerRestart) : IOptimizer
{
    private readonly IReadOnlyList<IOptimizer> parts = devices.Select(d => d.Rule).ToList();

    /// <inheritdoc/>
    public long Steps => parts[0].Steps;

    /// <inheritdoc/>
    public void Step(DeviceParameters parameters, ArrayView<float> gradients, float rate) =>
        throw new InvalidOperationException("a spread step updates each device's restarts with that device's own rule");

    /// <inheritdoc/>
    public OptimizerState ReadState()
    {
        var states = parts.Select(p => p.ReadState()).ToList();
        return new OptimizerState(states[0].Steps, Join(states.Select(s => s.First)), Join(states.Select(s => s.Second)));
    }

    private static float[]? Join(IEnumerable<float[]?> moments)
    {
        var all = moments.ToList();
        return all[0] == null ? null : [.. all.SelectMany(m => m!)];
    }

    /// <inheritdoc/>
    public void RestoreState(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var counts = devices.Select(d => checked((int)(d.Restarts * parametersPerRestart))).ToList();
        long total = counts.Sum(c => (long)c);
        foreach (var m in new[] { state.First, state.Second })
            if (m != null && m.Length != total)
                throw new ArgumentException($"saved optimizer moments hold {m.Length} values, not {total}");
        int at = 0;
        for (int d = 0; d < parts.Count; d++)
        {
            parts[d].RestoreState(state with { First = Slice(state.First, at, counts[d]), Second = Slice(state.Second, at, counts[d]) });
            at += counts[d];
        }
    }

    private static float[]? Slice(float[]? m, int at, int count) => m?.AsSpan(at, count).ToArray();

    /// <inheritdoc/>
    public void Dispose() { } // the step owns the parts' rules
}
