namespace GpuNet;

/// <summary>A data file or dataset directory could not be found. The message lists every place that was searched
/// and how to obtain the data; <see cref="SearchedPaths"/> holds the same places.</summary>
public class DatasetNotFoundException : DataFormatException
{
    /// <summary>Creates the error with its message and the places searched.</summary>
    public DatasetNotFoundException(string message, IReadOnlyList<string> searchedPaths) : base(message) =>
        SearchedPaths = searchedPaths;

    /// <summary>Every file or directory that was looked at, in search order.</summary>
    public IReadOnlyList<string> SearchedPaths { get; }
}
