namespace GpuNet.Data;

/// <summary>Opening data files with errors that name the file.</summary>
internal static class DataFiles
{
    /// <summary>Opens <paramref name="path"/> for reading; a missing file is a <see cref="DatasetNotFoundException"/>,
    /// any other failure a <see cref="DataFormatException"/>, both naming the path.</summary>
    public static FileStream Open(string path)
    {
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
}
