namespace GpuNet.Distributed;

/// <summary>How a reduction combines the values of every process.</summary>
public enum ReduceOp
{
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>The smallest value.</summary>
    Min,
    /// <summary>The largest value.</summary>
    Max,
}

/// <summary>
/// The processes of one job that train one model together (under MPI, every rank of MPI_COMM_WORLD) and the collective
/// operations training needs. Every process must make the same calls in the same order, each from the thread that
/// created the communicator; a call returns on a process when its part is done.
/// </summary>
public interface ICommunicator
{
    /// <summary>This process's number, 0..Size−1; rank 0 decides and writes.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>This process's number among the processes on its host (which GPU of the host it takes).</summary>
    int LocalRank { get; }

    /// <summary>The host this process runs on.</summary>
    string Host { get; }

    /// <summary>Copies <paramref name="data"/> of process <paramref name="root"/> into <paramref name="data"/> of every
    /// process (every process gives a span of the same length).</summary>
    void Broadcast<T>(Span<T> data, int root) where T : unmanaged;

    /// <summary>Replaces <paramref name="data"/>[i] on every process by the reduction of every process's
    /// <paramref name="data"/>[i]; every process receives the same values.</summary>
    void AllReduce(Span<float> data, ReduceOp op);

    /// <inheritdoc cref="AllReduce(Span{float}, ReduceOp)"/>
    void AllReduce(Span<double> data, ReduceOp op);

    /// <summary>Returns once every process has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="exitCode"/>; does not return.</summary>
    void Abort(int exitCode);
}
