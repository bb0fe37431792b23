using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using GpuNet.Distributed;
using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Training;

/// <summary>
/// The all-reduce of a replicated step, staged through the host in a fixed order: each replica's gradients [R, P] are
/// copied to the host (every device at once, one thread each); they are added in replica order, g₀ + g₁ + … (float32,
/// each element on its own, the elements shared among threads in fixed chunks, so the order never depends on timing or
/// threads); with several processes the sum goes through MPI_Allreduce (its algorithm is a fixed function of the job
/// size and message length, and every rank receives the same bits), carrying one more float: the processes' votes to
/// stop; then the sum is copied back to every replica (again all at once). Peer copies between GPUs are not used:
/// ILGPU 1.5.3 has peer access between CUDA devices (and grants it between CPU accelerators, which share the host's
/// memory, so they cannot check a GPU path), and no machine with two GPUs was at hand to verify such a path.
/// </summary>
internal sealed class GradientExchange
{
    private const int Chunk = 1 << 16; // floats a thread adds at a time
    private readonly Placement placement;
    private readonly float[] sum;
    private readonly float[][] parts;
    private readonly int[] given; // this step's contributing devices, in order (the first `count` entries)
    private readonly int length;
    private long ticks;

    /// <summary>An exchange of <paramref name="length"/> floats (R·P) among the replicas of <paramref name="placement"/>.</summary>
    public GradientExchange(Placement placement, long length)
    {
        this.placement = placement;
        this.length = checked((int)length);
        // Pinned: ILGPU copies to and from a host address, which must not move while the copy runs (a collection
        // during it would leave the copy writing to where the array was).
        sum = GC.AllocateArray<float>(this.length + 1, pinned: true); // the last slot carries the stop votes
        parts = placement.Devices.Skip(1).Select(_ => GC.AllocateArray<float>(this.length, pinned: true)).ToArray();
        given = new int[placement.Devices.Count];
    }

    /// <summary>Steps exchanged so far.</summary>
    public long Steps { get; private set; }

    /// <summary>Time spent exchanging (from the moment every replica's gradients were ready to the moment the sum was
    /// back on every device), over all steps.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, ticks);

    /// <summary>Bytes a step moves between this process's devices and the host: each device's gradients out and the sum
    /// back, 2 · D · R·P · 4.</summary>
    public long HostBytesPerStep => 2L * 4 * length * placement.Devices.Count;

    /// <summary>Bytes this process hands to MPI_Allreduce a step (0 with one process): R·P + 1 floats. A ring all-reduce
    /// sends and receives about 2·(N−1)/N times this per process.</summary>
    public long MessageBytesPerStep => placement.ProcessCount > 1 ? 4L * (length + 1) : 0;

    /// <summary>Replaces every replica's gradients by their sum over the job. <paramref name="gradients"/>[d] is the
    /// buffer of this process's device d; a replica whose slice of the batch was empty gives false in
    /// <paramref name="contributes"/> and counts as zero.</summary>
    public void AllReduce(IReadOnlyList<ArrayView<float>> gradients, IReadOnlyList<bool> contributes)
    {
        var devices = placement.Devices;
        foreach (var d in devices) d.Synchronize(); // the step's compute is done; what follows is the exchange
        long start = Stopwatch.GetTimestamp();
        int count = 0;
        for (int d = 0; d < devices.Count; d++)
            if (contributes[d]) given[count++] = d;
        Parallel.For(0, count, i =>
        {
            int d = given[i];
            devices[d].Counters.Synced();
            gradients[d].SubView(0, length).CopyToCPU(ref Host(d)[0], length);
        });
        if (count == 0) Array.Clear(sum, 0, length);
        else Parallel.For(0, (length + Chunk - 1) / Chunk, c =>
        {
            int at = c * Chunk, n = Math.Min(Chunk, length - at);
            var total = sum.AsSpan(at, n);
            for (int i = 1; i < count; i++) Add(total, Host(given[i]).AsSpan(at, n));
        });
        if (placement.Processes is { } processes)
        {
            sum[length] = placement.StopVote;
            processes.AllReduce(sum, ReduceOp.Sum);
            placement.Tally(sum[length]);
        }
        Parallel.For(0, devices.Count, d => gradients[d].SubView(0, length).CopyFromCPU(ref sum[0], length));
        ticks += Stopwatch.GetTimestamp() - start;
        Steps++;
    }

    /// <summary>The host buffer device <paramref name="d"/>'s gradients land in: the sum itself for this step's first
    /// contributing device, a buffer of its own for each other device.</summary>
    private float[] Host(int d) => d == given[0] ? sum : parts[d < given[0] ? d : d - 1];

    /// <summary>total[i] += next[i], vectorised (each element is one addition, so the result is the scalar loop's).</summary>
    private static void Add(Span<float> total, ReadOnlySpan<float> next)
    {
        var t = MemoryMarshal.Cast<float, Vector<float>>(total);
        var n = MemoryMarshal.Cast<float, Vector<float>>(next);
        for (int i = 0; i < t.Length; i++) t[i] += n[i];
        for (int i = t.Length * Vector<float>.Count; i < total.Length; i++) total[i] += next[i];
    }
}
