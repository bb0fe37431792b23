using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Training;

/// <summary>
/// Restarts spread over the devices of one process: of R restarts on D devices, device d trains its own share (R/D,
/// the first R mod D devices one more) as a one-device step (the fused step, what one device runs by default, unless
/// another is asked for) over the whole of every batch, with its own copy of the
/// data and its own optimizer state. Restarts never exchange anything, so a step needs no all-reduce, and each restart
/// computes exactly what it would on one device (the kernels treat restarts independently). The network the trainer
/// holds (on the first device) is the home of every restart: its weights go out to the devices at the start of each
/// epoch and come home whenever the sums are read (the end of each epoch, a progress tick, a checkpoint), which is
/// before the trainer reads the weights.
/// </summary>
public sealed class SpreadStep : ITrainingStep
{
    private readonly Network home;
    private readonly Part[] parts;
    private readonly SpreadSums sums;

    /// <summary>One device's share: restarts [First, First + Net.Restarts) of the home network.</summary>
    private sealed record Part(int First, Network Net, DeviceDataset Data, IOptimizer Optimizer, IDeviceStep Step, bool OwnsData);

    /// <summary>Spreads the restarts of <paramref name="network"/> (on the first of <paramref name="placement"/>'s devices, a
    /// placement of one process with no more devices than restarts) over those devices, each training its share on
    /// every batch of <paramref name="batchSize"/> rows of <paramref name="data"/> with a rule made from
    /// <paramref name="optimizerOptions"/>, as the one-device step <paramref name="eachDevice"/> (<see cref="StepKind.Fused"/>
    /// or <see cref="StepKind.Layered"/>).</summary>
    public SpreadStep(Network network, DeviceDataset data, LossFunction loss, int batchSize, Placement placement, OptimizerOptions optimizerOptions,
        StepKind eachDevice = StepKind.Fused)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(optimizerOptions);
        int devices = placement.Devices.Count;
        if (placement.Devices[0] != network.Device) throw new ArgumentException("the placement's first device must be the network's");
        if (placement.ProcessCount > 1) throw new ArgumentException("restarts are spread over the devices of one process; across processes a network is replicated");
        if (network.Restarts < devices)
            throw new ArgumentException($"{network.Restarts} restart{(network.Restarts == 1 ? "" : "s")} cannot be spread over {devices} devices: each needs one at least");
        home = network;
        EachDevice = eachDevice;
        var made = new List<Part>();
        try
        {
            for (int d = 0, first = 0; d < devices; d++)
            {
                int count = network.Restarts / devices + (d < network.Restarts % devices ? 1 : 0);
                made.Add(MakePart(placement.Devices[d], first, count, data, loss, batchSize, optimizerOptions));
                first += count;
            }
        }
        catch
        {
            foreach (var p in made) Dispose(p);
            throw;
        }
        parts = [.. made];
        BatchSize = batchSize;
        sums = new SpreadSums(parts.Select(p => (p.Step.DeviceSums, p.Net.Parameters)).ToList(), BringHome);
        Optimizer = new SpreadOptimizer(parts.Select(p => (p.Optimizer, p.Net.Restarts)).ToList(), network.Spec.Layout.ParameterCount);
    }

    private Part MakePart(Device device, int first, int count, DeviceDataset data, LossFunction loss, int batchSize, OptimizerOptions options)
    {
        Network? net = null;
        DeviceDataset? copy = null;
        IOptimizer? rule = null;
        try
        {
            net = new Network(device, home.Spec, count, home.Seed, first);
            bool ownData = device != home.Device || data.TargetSets > 1;
            copy = ownData ? data.CopyTo(home.Device, device, first, count) : data;
            rule = options.Create(device, net.Parameters.Length);
            return new Part(first, net, copy, rule, TrainingSteps.OnDevice(EachDevice, net, copy, loss, rule, batchSize), ownData);
        }
        catch
        {
            rule?.Dispose();
            if (copy != data) copy?.Dispose();
            net?.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public string Name => "spread";
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int MaxStepsPerRun => 1;
    /// <inheritdoc/>
    public ILossSums Sums => sums;
    /// <inheritdoc/>
    public IOptimizer Optimizer { get; }

    /// <summary>The one-device step each device runs on its restarts.</summary>
    public StepKind EachDevice { get; }

    /// <summary>The restarts each device trains, in device order.</summary>
    public IReadOnlyList<int> RestartsPerDevice => parts.Select(p => p.Net.Restarts).ToArray();

    /// <inheritdoc/>
    public void BeginEpoch(int[]? order)
    {
        var all = home.Parameters.ReadAll();
        long p = home.Spec.Layout.ParameterCount;
        foreach (var part in parts)
        {
            part.Net.Parameters.WriteAll(all.AsSpan((int)(part.First * p), (int)(part.Net.Restarts * p)).ToArray());
            part.Step.BeginEpoch(order);
        }
    }

    /// <inheritdoc/>
    public void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep)
    {
        foreach (var part in parts) part.Step.Run(firstRow, steps, rates, firstStep);
    }

    /// <summary>Every device's restarts back into the home network.</summary>
    private void BringHome()
    {
        var all = new float[home.Parameters.Length];
        long p = home.Spec.Layout.ParameterCount;
        foreach (var part in parts) part.Net.Parameters.ReadAll().CopyTo(all, part.First * p);
        home.Parameters.WriteAll(all);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var p in parts) Dispose(p);
    }

    private static void Dispose(Part p)
    {
        p.Step.Dispose(); p.Optimizer.Dispose(); p.Net.Dispose();
        if (p.OwnsData) p.Data.Dispose();
    }
}
