using System.Runtime.InteropServices;

namespace GpuNet.Distributed;

/// <summary>
/// MPI_COMM_WORLD of Open MPI, through a thin binding to its C library (no communication of GpuNet's own): initialised
/// once per process with MPI_THREAD_FUNNELED (every call from the thread that called <see cref="Init"/>), with the
/// MPI_ERRORS_RETURN error handler, so that a failed call becomes an <see cref="MpiException"/> naming it rather than an
/// abort without a word. Disposing finalises MPI. Spans longer than an MPI count (2³¹−1) are sent in pieces.
/// </summary>
public sealed unsafe class MpiWorld : ICommunicator, IDisposable
{
    private static int initialised;
    private readonly MpiLibrary mpi;
    private readonly int thread = Environment.CurrentManagedThreadId;
    private bool finalised;

    private MpiWorld(MpiLibrary mpi, int rank, int size, int localRank)
    {
        this.mpi = mpi;
        (Rank, Size, LocalRank) = (rank, size, localRank);
    }

    /// <summary>True when this process was started by Open MPI's mpirun (or a launcher that speaks PMIx, such as
    /// <c>srun --mpi=pmix</c>): OMPI_COMM_WORLD_SIZE or PMIX_RANK is set.</summary>
    public static bool IsLaunched =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null || Environment.GetEnvironmentVariable("PMIX_RANK") != null;

    /// <summary>Initialises MPI (once per process) and returns the world.</summary>
    /// <exception cref="MpiException">Open MPI is missing or does not start.</exception>
    /// <exception cref="InvalidOperationException">MPI was initialised before in this process.</exception>
    public static MpiWorld Init()
    {
        if (Interlocked.Exchange(ref initialised, 1) == 1) throw new InvalidOperationException("MPI can be initialised once per process");
        var mpi = MpiLibrary.Load();
        int provided, rank, size, localRank;
        mpi.Check(mpi.InitThread(null, null, MpiLibrary.ThreadFunneled, &provided), "MPI_Init_thread");
        mpi.Check(mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        // The processes sharing this host's memory, numbered in rank order: which of the host's GPUs this one takes.
        nint node;
        mpi.Check(mpi.CommSplitType(mpi.CommWorld, MpiLibrary.CommTypeShared, rank, mpi.InfoNull, &node), "MPI_Comm_split_type");
        mpi.Check(mpi.CommRank(node, &localRank), "MPI_Comm_rank");
        mpi.Check(mpi.CommFree(&node), "MPI_Comm_free");
        return new MpiWorld(mpi, rank, size, localRank);
    }

    /// <inheritdoc/>
    public int Rank { get; }
    /// <inheritdoc/>
    public int Size { get; }
    /// <inheritdoc/>
    public int LocalRank { get; }
    /// <inheritdoc/>
    public string Host { get; } = Environment.MachineName;

    /// <inheritdoc/>
    public void Broadcast<T>(Span<T> data, int root) where T : unmanaged
    {
        Enter();
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        var bytes = MemoryMarshal.AsBytes(data);
        for (int at = 0; at < bytes.Length; at += int.MaxValue)
        {
            var piece = bytes[at..Math.Min(bytes.Length, at + int.MaxValue)];
            fixed (byte* p = piece) mpi.Check(mpi.Bcast(p, piece.Length, mpi.Byte, root, mpi.CommWorld), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public void AllReduce(Span<float> data, ReduceOp op) => Reduce(MemoryMarshal.AsBytes(data), sizeof(float), mpi.Float, op);

    /// <inheritdoc/>
    public void AllReduce(Span<double> data, ReduceOp op) => Reduce(MemoryMarshal.AsBytes(data), sizeof(double), mpi.Double, op);

    private void Reduce(Span<byte> bytes, int size, nint type, ReduceOp op)
    {
        Enter();
        nint handle = mpi.Op(op);
        long count = bytes.Length / size;
        for (long at = 0; at < count; at += int.MaxValue)
        {
            int n = (int)Math.Min(int.MaxValue, count - at);
            fixed (byte* p = bytes.Slice((int)(at * size), n * size))
                mpi.Check(mpi.Allreduce(MpiLibrary.InPlace, p, n, type, handle, mpi.CommWorld), "MPI_Allreduce");
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        Enter();
        mpi.Check(mpi.Barrier(mpi.CommWorld), "MPI_Barrier");
    }

    /// <inheritdoc/>
    /// <remarks>Flushes the console first, so that a message written just before reaches mpirun.</remarks>
    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        mpi.Abort(mpi.CommWorld, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; should it, the process still ends
    }

    private void Enter()
    {
        ObjectDisposedException.ThrowIf(finalised, this);
        if (Environment.CurrentManagedThreadId != thread)
            throw new InvalidOperationException("MPI runs funnelled: call it from the thread that initialised it");
    }

    /// <summary>Finalises MPI (every process must call it; it returns once all have).</summary>
    public void Dispose()
    {
        if (finalised) return;
        finalised = true;
        mpi.Check(mpi.FinalizeCall(), "MPI_Finalize");
    }
}
