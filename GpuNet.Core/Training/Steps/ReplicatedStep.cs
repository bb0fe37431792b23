using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Distributed;
using GpuNet.Model;
using ILGPU;

namespace GpuNet.Training;

/// <summary>
/// Data-parallel training over the devices of a <see cref="Placement"/> (and, under MPI, its processes): every device
/// holds a replica of all R restarts and a copy of the training data; of each batch of B rows, replica g of the job's T
/// takes the fixed slice [⌊B·g/T⌋, ⌊B·(g+1)/T⌋) and runs the gradient half of a one-device step on it (the fused step,
/// what one device runs by default, unless another is asked for),
/// with δ_L scaled by 1/B, so that the slices' gradients add up to the batch's (<see cref="GradientExchange"/> adds them
/// in replica order); then every replica makes the same optimizer update from the same sum and stays identical, which is
/// checked once an epoch. The weights and optimizer state are copied from the primary (rank 0's under MPI) at the start
/// of every epoch, since the trainer writes the primary alone (resume, rollback, early stopping).
/// </summary>
public sealed class ReplicatedStep : ITrainingStep
{
    private readonly Network primary;
    private readonly Placement placement;
    private readonly Replica[] replicas;
    private readonly ArrayView<float>[] gradients;
    private readonly bool[] contributes;
    private readonly GradientExchange exchange;
    private readonly ReplicaSums sums;
    private readonly int rows;

    /// <summary>One device's part: its network, data, optimizer and one-device step (the primary's first three are the caller's).</summary>
    private sealed record Replica(Network Net, DeviceDataset Data, IOptimizer Optimizer, IDeviceStep Step, bool Owned);

    /// <summary>Replicas of every restart of <paramref name="network"/> (on <paramref name="placement"/>'s first device)
    /// on each of its devices, for batches of <paramref name="batchSize"/> rows of <paramref name="data"/> (at least one
    /// row per replica of the job). The primary updates with <paramref name="optimizer"/> (the caller's); the others with
    /// rules made from <paramref name="optimizerOptions"/>. Each device runs the one-device step
    /// <paramref name="eachDevice"/> (<see cref="StepKind.Fused"/> or <see cref="StepKind.Layered"/>) on its slices.</summary>
    public ReplicatedStep(Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize,
        Placement placement, OptimizerOptions optimizerOptions, StepKind eachDevice = StepKind.Fused)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(optimizerOptions);
        if (placement.Devices[0] != network.Device) throw new ArgumentException("the placement's first device must be the network's");
        if (batchSize < placement.Replicas || batchSize > data.Count)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize,
                $"a step takes {placement.Replicas}..{data.Count} rows here (at least one for each of the {placement.Replicas} replicas)");
        (primary, this.placement, BatchSize, rows, Optimizer, EachDevice) = (network, placement, batchSize, data.Count, optimizer, eachDevice);
        int slice = (batchSize + placement.Replicas - 1) / placement.Replicas;
        var made = new List<Replica>();
        try
        {
            for (int d = 0; d < placement.Devices.Count; d++) made.Add(MakeReplica(d, data, loss, optimizer, slice, optimizerOptions));
        }
        catch
        {
            foreach (var r in made) Dispose(r);
            throw;
        }
        replicas = [.. made];
        gradients = replicas.Select(r => r.Step.GradientBuffer).ToArray();
        contributes = new bool[replicas.Length];
        exchange = new GradientExchange(placement, network.Parameters.Length);
        sums = new ReplicaSums(replicas.Select(r => r.Step.DeviceSums).ToList(), placement, CheckReplicasAgree);
    }

    private Replica MakeReplica(int d, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int slice, OptimizerOptions options)
    {
        var device = placement.Devices[d];
        if (d == 0) return new Replica(primary, data, optimizer, TrainingSteps.OnDevice(EachDevice, primary, data, loss, optimizer, slice), false);
        Network? net = null;
        DeviceDataset? copy = null;
        IOptimizer? rule = null;
        try
        {
            net = new Network(device, primary.Spec, primary.Restarts, primary.Seed);
            copy = data.CopyTo(primary.Device, device);
            rule = options.Create(device, net.Parameters.Length);
            return new Replica(net, copy, rule, TrainingSteps.OnDevice(EachDevice, net, copy, loss, rule, slice), true);
        }
        catch
        {
            rule?.Dispose(); copy?.Dispose(); net?.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public string Name => "replicated";
    /// <inheritdoc/>
    public int BatchSize { get; }
    /// <inheritdoc/>
    public int MaxStepsPerRun => 1;
    /// <inheritdoc/>
    public ILossSums Sums => sums;
    /// <inheritdoc/>
    public IOptimizer Optimizer { get; }

    /// <summary>The one-device step each replica runs on its slices.</summary>
    public StepKind EachDevice { get; }

    /// <summary>Replicas over the whole job.</summary>
    public int Replicas => placement.Replicas;
    /// <summary>Bytes a step moves between this process's devices and the host (see <see cref="GradientExchange"/>).</summary>
    public long HostBytesPerStep => placement.Replicas > 1 ? exchange.HostBytesPerStep : 0;
    /// <summary>Bytes this process hands to MPI a step (0 with one process).</summary>
    public long MessageBytesPerStep => exchange.MessageBytesPerStep;
    /// <summary>Time spent in the all-reduce so far, and the steps it served.</summary>
    public (TimeSpan Elapsed, long Steps) Exchanged => (exchange.Elapsed, exchange.Steps);

    /// <summary>The network of this process's replica <paramref name="device"/> (0: the primary).</summary>
    internal Network ReplicaNetwork(int device) => replicas[device].Net;

    /// <inheritdoc/>
    public void BeginEpoch(int[]? order)
    {
        if (placement.Replicas > 1) SynchronizeFromPrimary();
        foreach (var r in replicas) r.Step.BeginEpoch(order);
    }

    /// <summary>Every replica takes the primary's weights and optimizer state (rank 0's, broadcast, under MPI).</summary>
    private void SynchronizeFromPrimary()
    {
        var weights = primary.Parameters.ReadAll();
        var state = Optimizer.ReadState();
        if (placement.Processes is { } processes)
        {
            processes.Broadcast(weights.AsSpan(), 0);
            Span<long> steps = [state.Steps];
            processes.Broadcast(steps, 0);
            if (state.First != null) processes.Broadcast(state.First.AsSpan(), 0);
            if (state.Second != null) processes.Broadcast(state.Second.AsSpan(), 0);
            state = state with { Steps = steps[0] };
            if (!placement.IsRoot)
            {
                primary.Parameters.WriteAll(weights);
                Optimizer.RestoreState(state);
            }
        }
        foreach (var r in replicas.Skip(1))
        {
            r.Net.Parameters.WriteAll(weights);
            r.Optimizer.RestoreState(state);
        }
    }

    /// <inheritdoc/>
    public void Run(int firstRow, int steps, ReadOnlySpan<float> rates, long firstStep)
    {
        if (rates.Length < steps) throw new ArgumentException($"{rates.Length} step sizes for {steps} steps");
        for (int s = 0; s < steps; s++)
        {
            int start = firstRow + s * BatchSize;
            if (start >= rows) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"step {s} would start past the {rows} rows");
            int batch = Math.Min(BatchSize, rows - start);
            for (int d = 0; d < replicas.Length; d++)
            {
                int g = placement.FirstReplica + d;
                int lo = (int)((long)batch * g / placement.Replicas), hi = (int)((long)batch * (g + 1) / placement.Replicas);
                contributes[d] = hi > lo;
                if (hi > lo) replicas[d].Step.Gradients(start + lo, hi - lo, firstStep + s, 1f / batch);
            }
            if (placement.Replicas > 1) exchange.AllReduce(gradients, contributes);
            foreach (var r in replicas) r.Optimizer.Step(r.Net.Parameters, r.Step.GradientBuffer, rates[s]);
        }
    }

    /// <summary>Once an epoch, with its sums: every replica's weights must be the primary's, bit for bit (a fingerprint
    /// of each, compared here and, under MPI, across processes by a minimum and a maximum).</summary>
    private void CheckReplicasAgree()
    {
        if (placement.Replicas == 1) return;
        ulong mine = Fingerprint.Of<float>(primary.Parameters.ReadAll());
        for (int d = 1; d < replicas.Length; d++)
            if (Fingerprint.Of<float>(replicas[d].Net.Parameters.ReadAll()) != mine)
                throw new GpuNetException($"the replica on device {d} ({placement.Devices[d].Info.Name}) no longer holds the primary's weights");
        if (placement.Processes is not { } processes) return;
        double high = mine >> 32, low = mine & 0xFFFFFFFF; // exact in float64
        double[] range = [high, low, -high, -low];
        processes.AllReduce(range, ReduceOp.Max);
        if (range[0] != -range[2] || range[1] != -range[3])
            throw new GpuNetException("the processes' replicas no longer hold the same weights: MPI's all-reduce gave them different sums");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var r in replicas) Dispose(r);
    }

    private static void Dispose(Replica r)
    {
        r.Step.Dispose();
        if (!r.Owned) return;
        r.Optimizer.Dispose(); r.Data.Dispose(); r.Net.Dispose();
    }
}
