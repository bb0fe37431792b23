using GpuNet.IO;

namespace GpuNet.Data;

/// <summary>Opening data files with errors that name the file.</summary>
internal static class DataFiles
{
    /// <summary>Opens <paramref name="path"/> for reading; a missing file is a <see cref="DatasetNotFoundException"/>,
    /// a directory, a FIFO, a device, a socket (so also /dev/stdin) or any other failure a
    /// <see cref="DataFormatException"/>, all naming the path. Only regular files are read: opening a FIFO that has no
    /// writer blocks for ever, a device may never end, and every reader checks sizes against the file's length.</summary>
    public static FileStream Open(string path)
    {
        // Opening a directory fails with "access denied", which sends people looking at permissions.
        if (Directory.Exists(path)) throw new DataFormatException(IsDirectory(path));
        if (FileKinds.Of(path) is var kind and not (FileKind.Regular or FileKind.Missing))
            throw new DataFormatException($"{path}: is {kind.Describe()}, not a regular file; data is read from regular files only (save it to a file first)");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DatasetNotFoundException($"{path}: file not found", [path]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot open: {e.Message}", e);
        }
    }

    /// <summary>The message for a path that names a directory where a file is expected.</summary>
    public static string IsDirectory(string path) => $"'{path}' is a directory, not a file";

    /// <summary>"1 column", "2 columns", "3 classes".</summary>
    public static string Count(long n, string noun) =>
        $"{n} {noun}{(n == 1 ? "" : noun.EndsWith('s') ? "es" : "s")}";
}
