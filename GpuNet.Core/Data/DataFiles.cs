using System.Runtime.InteropServices;

namespace GpuNet.Data;

/// <summary>Opening data files with errors that name the file.</summary>
internal static partial class DataFiles
{
    /// <summary>Opens <paramref name="path"/> for reading; a missing file is a <see cref="DatasetNotFoundException"/>,
    /// a directory, a FIFO, a device, a socket (so also /dev/stdin) or any other failure a
    /// <see cref="DataFormatException"/>, all naming the path. Only regular files are read: opening a FIFO that has no
    /// writer blocks for ever, a device may never end, and every reader checks sizes against the file's length.</summary>
    public static FileStream Open(string path)
    {
        // Opening a directory fails with "access denied", which sends people looking at permissions.
        if (Directory.Exists(path)) throw new DataFormatException(IsDirectory(path));
        if (NonRegularKind(path) is { } kind)
            throw new DataFormatException($"{path}: is {kind}, not a regular file; data is read from regular files only (save it to a file first)");
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

    /// <summary>What <paramref name="path"/> is (after following links) when it exists and is not a regular file or a
    /// directory: "a FIFO (named pipe)", "a character device", …; null for a regular file, a directory, a path that does
    /// not exist, or where the kind cannot be told (only Linux's statx is asked).</summary>
    public static string? NonRegularKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        Span<byte> buffer = stackalloc byte[256]; // struct statx
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        int type = BitConverter.ToUInt16(buffer[StxModeOffset..]) & 0xF000;
        return type switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null,
        };
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1; // STATX_TYPE
    private const int StxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, Span<byte> buffer);
}
