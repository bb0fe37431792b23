namespace GpuNet;

/// <summary>Base of every error GpuNet reports about its input (data, model files, options):
/// the message names the file, line, row, column, shape or value at fault and, where there is one, the fix.</summary>
public class GpuNetException : Exception
{
    /// <summary>Creates the error with its message.</summary>
    public GpuNetException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public GpuNetException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A data file (CSV, IDX, gzip) is malformed, or a dataset does not fit what is asked of it.</summary>
public class DataFormatException : GpuNetException
{
    /// <summary>Creates the error with its message.</summary>
    public DataFormatException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model file (safetensors) is malformed or does not describe a GpuNet network.</summary>
public class ModelFormatException : GpuNetException
{
    /// <summary>Creates the error with its message.</summary>
    public ModelFormatException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}
