using GpuNet.Compute;
using GpuNet.Devices;
using GpuNet.Model;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Training;

/// <summary>
/// What a training run allocates on its device, computed once from the sizes the allocations themselves use, so that
/// the check made before anything is allocated and the allocations cannot drift apart. The datasets themselves are not
/// included (they are uploaded, and counted, on their own).
/// </summary>
/// <param name="BatchSize">Rows a step takes (<see cref="TrainOptions.BatchFor"/>).</param>
/// <param name="EvaluationRows">Rows an evaluation chunk takes (<see cref="Evaluator.ChunkRows"/>).</param>
/// <param name="Items">Each allocation and its bytes.</param>
public sealed record MemoryPlan(int BatchSize, int EvaluationRows, IReadOnlyList<(string What, long Bytes)> Items)
{
    /// <summary>Bytes in all.</summary>
    public long Bytes => Items.Sum(i => i.Bytes);

    /// <summary>The plan for training <paramref name="restarts"/> networks of <paramref name="spec"/> on
    /// <paramref name="trainRows"/> rows (with <paramref name="targetSets"/> target sets), evaluating on up to
    /// max(train, validation) rows, on the first of <paramref name="devices"/> devices of each of
    /// <paramref name="processes"/> processes (the network's device, which holds the most: the other devices hold a
    /// replica or a share of the restarts, never the divergence snapshots or the evaluation).</summary>
    public static MemoryPlan For(NetworkSpec spec, int restarts, TrainOptions options, int trainRows, int validationRows = 0,
        int targetSets = 1, int devices = 1, int processes = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        var layout = spec.Layout;
        int batch = options.BatchFor(trainRows);
        int evalRows = Evaluator.ChunkRows(Math.Max(trainRows, validationRows), options.BatchSize);
        long length = restarts * layout.ParameterCount;
        var kind = TrainingSteps.Choose(options.Step, spec, restarts, batch, devices, processes, options.Optimizer.Kind).Kind;
        List<(string, long)> items =
        [
            ("parameters", DeviceParameters.Bytes(layout, restarts, spec.HasMask)),
            ("divergence snapshots", DivergenceGuard.Bytes(layout, restarts)),
            ("optimizer moments", options.Optimizer.MomentBytes(length)),
            ("training step", TrainingSteps.Bytes(kind, layout, restarts, Math.Max(trainRows, 1), batch, targetSets, devices, processes)),
            ("evaluation", Evaluator.Bytes(layout, restarts, evalRows)),
        ];
        if (kind == StepKind.Spread)
        {
            int share = TrainingSteps.SpreadShare(restarts, devices); // the first device's restarts, trained apart from their home
            items.Add(("spread share: parameters and moments", DeviceParameters.Bytes(layout, share, spec.HasMask)
                + options.Optimizer.MomentBytes(share * layout.ParameterCount)));
        }
        return new MemoryPlan(batch, evalRows, items);
    }

    /// <summary>Refuses, before anything is allocated, a run whose buffers together cannot fit in the device's memory.
    /// Each buffer alone may fit: with many restarts the sum is what runs out, and on the CPU accelerator that would end
    /// in the operating system killing the process without a word.</summary>
    /// <exception cref="DeviceMemoryException">The run does not fit; the message gives the bytes and the way out.</exception>
    public void Check(Device device, NetworkSpec spec, int restarts)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (Bytes > device.Info.MemoryBytes)
            throw new DeviceMemoryException(Bytes, device.Info, what:
                $"training {restarts:N0} {(restarts == 1 ? "network" : "restarts")} of {spec.ParameterCount:N0} parameters at batch {BatchSize:N0}");
    }
}
