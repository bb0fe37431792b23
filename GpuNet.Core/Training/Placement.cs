using GpuNet.Devices;
using GpuNet.Distributed;

namespace GpuNet.Training;

/// <summary>
/// Where a training run's steps run: the network's own device first, then more devices of this process, and under MPI
/// the other processes of the job (each with the same number of devices). Data-parallel replicas are numbered over the
/// whole job, process by process: replica g = rank·D + d takes slice g of every batch. The trainer passes its
/// cancellation through <see cref="Agree"/>, so that with several processes all stop after the same step.
/// </summary>
public sealed class Placement
{
    private CancellationToken local;
    private CancellationTokenSource? agreed;

    /// <summary>The devices of this process (the first is the network's) and, under MPI, the job's processes.</summary>
    /// <exception cref="ArgumentException">The devices are not distinct, or not of one kind and model
    /// (<see cref="DeviceSet.CheckCompatible"/>).</exception>
    public Placement(IReadOnlyList<Device> devices, ICommunicator? processes = null)
    {
        DeviceSet.CheckCompatible(devices);
        Devices = [.. devices];
        Processes = processes;
    }

    /// <summary>This process's devices; the network lives on the first.</summary>
    public IReadOnlyList<Device> Devices { get; }

    /// <summary>The job's processes, or null for one process.</summary>
    public ICommunicator? Processes { get; }

    /// <summary>Processes in the job (1 without MPI).</summary>
    public int ProcessCount => Processes?.Size ?? 1;

    /// <summary>Data-parallel replicas over the whole job: devices × processes.</summary>
    public int Replicas => Devices.Count * ProcessCount;

    /// <summary>The job-wide number of this process's first replica.</summary>
    public int FirstReplica => (Processes?.Rank ?? 0) * Devices.Count;

    /// <summary>True on the process that decides and writes (rank 0; always without MPI).</summary>
    public bool IsRoot => (Processes?.Rank ?? 0) == 0;

    /// <summary>The token the trainer watches for a run cancelled by <paramref name="cancellationToken"/>: itself with one
    /// process; with several, one cancelled on every process after the same step, once any process asked (each step's
    /// all-reduce carries the request).</summary>
    public CancellationToken Agree(CancellationToken cancellationToken)
    {
        if (ProcessCount == 1) return cancellationToken; // nobody to agree with (and, with one replica, no all-reduce to carry it)
        agreed?.Dispose();
        agreed = new CancellationTokenSource();
        local = cancellationToken;
        return agreed.Token;
    }

    /// <summary>This process's vote for stopping: 1 when its own cancellation was asked for.</summary>
    internal float StopVote => local.IsCancellationRequested ? 1f : 0f;

    /// <summary>Takes the job's votes (their sum): any vote stops every process after this step.</summary>
    internal void Tally(float votes)
    {
        if (votes > 0) agreed?.Cancel();
    }
}
