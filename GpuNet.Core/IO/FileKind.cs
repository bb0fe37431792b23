using System.Runtime.InteropServices;

namespace GpuNet.IO;

/// <summary>What a path names, as the operating system reports it (symbolic links followed).</summary>
public enum FileKind
{
    /// <summary>Nothing: the path does not exist (or a folder on it cannot be searched).</summary>
    Missing,
    /// <summary>A regular file: the only kind GpuNet reads and replaces.</summary>
    Regular,
    /// <summary>A folder.</summary>
    Directory,
    /// <summary>A named pipe (FIFO), or an anonymous pipe such as <c>/dev/stdin</c> under <c>cat x |</c>.</summary>
    Pipe,
    /// <summary>A character device such as <c>/dev/null</c>, <c>/dev/zero</c> or a terminal.</summary>
    CharacterDevice,
    /// <summary>A block device such as a disk.</summary>
    BlockDevice,
    /// <summary>A Unix domain socket.</summary>
    Socket,
}

/// <summary>
/// Finds what a path names before it is opened. Opening a FIFO that has no writer blocks for ever, a pipe cannot seek
/// and a device has no size to check a header against, so the readers refuse everything but regular files by name,
/// and <see cref="AtomicFile"/> refuses to rename a file over a device.
/// </summary>
public static class FileKinds
{
    // The file type bits of the mode that .NET's own native layer (System.Native, which every .NET runtime on Unix
    // ships and loads) reports in its platform-neutral FileStatus: POSIX values, the same on every Unix.
    private const int TypeMask = 0xF000, Fifo = 0x1000, Char = 0x2000, Dir = 0x4000, Block = 0x6000, Reg = 0x8000, Sock = 0xC000;

    /// <summary>What <paramref name="path"/> names, following symbolic links.</summary>
    public static FileKind Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsWindows() && TryMode(path, out int mode, out bool missing))
        {
            if (missing) return FileKind.Missing;
            return (mode & TypeMask) switch
            {
                Reg => FileKind.Regular,
                Dir => FileKind.Directory,
                Fifo => FileKind.Pipe,
                Char => FileKind.CharacterDevice,
                Block => FileKind.BlockDevice,
                Sock => FileKind.Socket,
                _ => FileKind.Regular,
            };
        }
        // Windows, or no status from the native layer: what the managed API can tell.
        return System.IO.Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    /// <summary>"a named pipe (FIFO)", "a character device", … for messages.</summary>
    public static string Describe(this FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.Pipe => "a pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => kind.ToString(),
    };

    /// <summary>Refuses, without opening it, a <paramref name="path"/> that is there and is not a regular file (a folder,
    /// a pipe, a device or a socket), as <see cref="OpenRegular"/> does; <paramref name="what"/> names it in the
    /// error. Nothing at the path passes: the caller finds that out as it opens the file.</summary>
    /// <exception cref="GpuNetException">It is not a regular file.</exception>
    public static void RequireRegular(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        var kind = Of(path);
        if (kind is not (FileKind.Regular or FileKind.Missing))
            throw new GpuNetException($"{what} '{path}' is {kind.Describe()}, not a regular file; " +
                (kind == FileKind.Directory ? $"give the {what} itself" : $"GpuNet reads a {what} from a file on disk (save it to one first)"));
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading when it is a regular file, so that the caller may check what the file
    /// claims against its length; <paramref name="what"/> ("model file", "checkpoint") names it in errors.
    /// </summary>
    /// <exception cref="GpuNetException">It is a folder, a pipe, a device or a socket: refused by name, never opened,
    /// so never a hang.</exception>
    /// <exception cref="FileNotFoundException">Nothing is at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">It cannot be opened; the message names the path.</exception>
    public static FileStream OpenRegular(string path, string what)
    {
        RequireRegular(path, what);
        try
        {
            // Only a path the status call could not see gets here besides regular files: opening it cannot block.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{what} '{path}' does not exist", path, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{what} '{path}' cannot be read: permission denied", e);
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
    private static extern unsafe int NativeStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* status);

    private static unsafe bool TryMode(string path, out int mode, out bool missing)
    {
        mode = 0;
        missing = false;
        // The status struct starts with two 32-bit fields, flags and mode; later releases only append fields, so a
        // buffer well beyond its size is safe whatever the runtime version.
        byte* status = stackalloc byte[1024];
        try
        {
            if (NativeStat(path, status) != 0)
            {
                missing = true; // nothing there, or a folder of the path cannot be searched: opening it fails at once
                return true;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        mode = *(int*)(status + 4);
        return true;
    }
}
