using System.Runtime.InteropServices;

namespace GpuNet.Distributed;

/// <summary>
/// Open MPI's C entry points, resolved once from <c>libmpi.so.40</c> (Open MPI 3 and later; Debian's openmpi-bin). Open
/// MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are addresses of exported globals, so they are resolved as
/// symbols too; MPI_IN_PLACE is <c>(void*)1</c> and MPI_COMM_TYPE_SHARED is 0 in its mpi.h. Nothing here is used unless a
/// process was started by mpirun.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    internal const int Success = 0, ThreadFunneled = 1, CommTypeShared = 0, MaxErrorString = 256;
    internal static readonly void* InPlace = (void*)1;

    private static readonly string[] Names = ["libmpi.so.40", "libmpi.so"];

    public readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int> FinalizeCall;
    public readonly delegate* unmanaged<nint, int*, int> CommRank, CommSize;
    public readonly delegate* unmanaged<nint, int, int, nint, nint*, int> CommSplitType;
    public readonly delegate* unmanaged<nint*, int> CommFree;
    public readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;

    public readonly nint CommWorld, Byte, Float, Double, OpSum, OpMin, OpMax, ErrorsReturn, InfoNull;

    /// <summary>The C names of every function and handle used, as resolved (the tests check each is in the library).</summary>
    internal static readonly string[] Symbols =
    [
        "MPI_Init_thread", "MPI_Finalize", "MPI_Comm_rank", "MPI_Comm_size",
        "MPI_Comm_split_type", "MPI_Comm_free", "MPI_Comm_set_errhandler", "MPI_Bcast", "MPI_Allreduce", "MPI_Barrier",
        "MPI_Abort", "MPI_Error_string",
        "ompi_mpi_comm_world", "ompi_mpi_byte", "ompi_mpi_float", "ompi_mpi_double", "ompi_mpi_op_sum", "ompi_mpi_op_min",
        "ompi_mpi_op_max", "ompi_mpi_errors_return", "ompi_mpi_info_null",
    ];

    private MpiLibrary(nint lib)
    {
        nint S(int i) => NativeLibrary.TryGetExport(lib, Symbols[i], out nint a) ? a
            : throw new MpiException($"the MPI library has no symbol {Symbols[i]}: GpuNet needs Open MPI 3 or later (libmpi.so.40)");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)S(0);
        FinalizeCall = (delegate* unmanaged<int>)S(1);
        CommRank = (delegate* unmanaged<nint, int*, int>)S(2);
        CommSize = (delegate* unmanaged<nint, int*, int>)S(3);
        CommSplitType = (delegate* unmanaged<nint, int, int, nint, nint*, int>)S(4);
        CommFree = (delegate* unmanaged<nint*, int>)S(5);
        CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)S(6);
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)S(7);
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)S(8);
        Barrier = (delegate* unmanaged<nint, int>)S(9);
        Abort = (delegate* unmanaged<nint, int, int>)S(10);
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)S(11);
        (CommWorld, Byte, Float, Double, OpSum, OpMin, OpMax, ErrorsReturn, InfoNull) = (S(12), S(13), S(14), S(15), S(16), S(17), S(18), S(19), S(20));
    }

    /// <summary>Loads the library and resolves every symbol.</summary>
    /// <exception cref="MpiException">Open MPI is not installed, or is too old.</exception>
    public static MpiLibrary Load() => new(Open());

    /// <summary>The loaded library's handle (the tests look its symbols up).</summary>
    internal static nint Open()
    {
        foreach (var name in Names)
            if (NativeLibrary.TryLoad(name, out nint lib)) return lib;
        throw new MpiException("Open MPI's library (libmpi.so.40) was not found: install Open MPI (Debian: apt-get install " +
            "openmpi-bin libopenmpi-dev) on every host, or run without mpirun");
    }

    /// <summary>Throws unless <paramref name="code"/> is MPI_SUCCESS, naming the call and MPI's explanation.</summary>
    public void Check(int code, string call)
    {
        if (code == Success) return;
        byte* text = stackalloc byte[MaxErrorString + 1];
        int length = 0;
        string what = ErrorString(code, text, &length) == Success ? Marshal.PtrToStringUTF8((nint)text, Math.Clamp(length, 0, MaxErrorString)) : $"error {code}";
        throw new MpiException($"{call} failed: {what}");
    }

    /// <summary>The handle of a reduction.</summary>
    public nint Op(ReduceOp op) => op switch
    {
        ReduceOp.Sum => OpSum,
        ReduceOp.Min => OpMin,
        ReduceOp.Max => OpMax,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduction"),
    };
}
