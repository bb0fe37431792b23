namespace GpuNet.Distributed;

/// <summary>An MPI call failed, or MPI cannot be used here; the message names the call and MPI's own explanation.</summary>
public sealed class MpiException : GpuNetException
{
    /// <summary>Creates the error with its message.</summary>
    public MpiException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public MpiException(string message, Exception inner) : base(message, inner) { }
}
