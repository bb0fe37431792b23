using System.Security.Cryptography;

namespace GpuNet.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a half-written file:
/// the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary file is then renamed
/// over the target.
/// </summary>
public static class AtomicFile
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> InFlight = new();

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>. The stream handed to <paramref name="write"/> is
    /// the temporary file; disposing it there (for example through a <see cref="StreamWriter"/>) is harmless.
    /// If anything throws, the temporary file is removed, the exception propagates, and whatever was at
    /// <paramref name="path"/> before is left as it was. A failure of the file system (a full disk, a read-only or
    /// missing folder) is reported with <paramref name="path"/> as given, never with the temporary file's name.
    /// </summary>
    /// <remarks>
    /// The temporary file is named <c>.{file name}.tmp-{random}</c> and lives next to the target so that the final
    /// rename stays on one file system. The replaced file gets the temporary file's default permissions, not the
    /// old file's.
    /// </remarks>
    /// <exception cref="IOException">The file cannot be written: the message starts "cannot write '<paramref name="path"/>'"
    /// and says why (<see cref="DirectoryNotFoundException"/> for a missing folder). A target that is a folder, a
    /// device, a pipe or a socket is refused before anything is created: renaming over it would replace it.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder does not let this process create files.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, temp) = Prepare(path, "tmp");
        bool created = false;
        InFlight[temp] = 0;
        try
        {
            // Unbuffered: every write reaches the file system inside the writer's own call, where a failure is caught below.
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                created = true;
                using (var shield = new KeepOpenStream(file)) write(shield);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (created) TryDelete(temp);
            throw Failure(path, temp, e);
        }
        catch
        {
            if (created) TryDelete(temp);
            throw;
        }
        finally
        {
            InFlight.TryRemove(temp, out _);
        }
    }

    /// <summary>Removes the temporary files of writes still under way, for a process about to quit at once (a second
    /// Ctrl-C): their targets keep what they held, and no partial file is left beside them.</summary>
    public static void AbandonWrites()
    {
        foreach (var temp in InFlight.Keys) TryDelete(temp);
    }

    /// <summary>
    /// Checks, before a long computation, that <see cref="Write"/> could write <paramref name="path"/>: the folder
    /// exists, the target is not a folder or device, and a file can be created there (a temporary file is created
    /// and removed at once, which finds read-only folders and mounts, missing permissions and immutable folders,
    /// whoever runs the process). A full disk shows only when the bytes are written.
    /// </summary>
    /// <exception cref="IOException">As <see cref="Write"/> would throw it, naming <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">As <see cref="Write"/> would throw it.</exception>
    public static void CheckWritable(string path)
    {
        var (_, temp) = Prepare(path, "probe");
        Probe(path, temp);
    }

    /// <summary>
    /// Checks that files can be written into <paramref name="folder"/>, or, when it does not exist yet, that it can be
    /// created: a temporary file is created and removed in the folder, or in the nearest folder above it that exists.
    /// </summary>
    /// <exception cref="IOException">A file is where a folder must be, or nothing can be created; the message names
    /// <paramref name="folder"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder does not let this process create files.</exception>
    public static void CheckFolderWritable(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string full = Path.GetFullPath(folder);
        string? existing = full;
        while (existing != null && FileKinds.Of(existing) == FileKind.Missing) existing = Path.GetDirectoryName(existing);
        if (existing == null) throw new DirectoryNotFoundException($"cannot write into folder '{folder}': no folder on its path exists");
        var kind = FileKinds.Of(existing);
        if (kind != FileKind.Directory)
            throw new FileWriteException($"cannot write into folder '{folder}': '{existing}' is {kind.Describe()}, not a folder");
        Probe(folder, Path.Combine(existing, $".gpunet-probe-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}"));
    }

    /// <summary>The full path and a temporary name beside it; refuses targets that renaming over would destroy.</summary>
    private static (string Full, string Temp) Prepare(string path, string tag)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || name.Length == 0) throw new ArgumentException($"'{path}' does not name a file", nameof(path));
        var kind = FileKinds.Of(full);
        if (kind is not (FileKind.Regular or FileKind.Missing))
            throw new FileWriteException($"cannot write '{path}': it is {kind.Describe()}, not a regular file" +
                (kind == FileKind.Directory ? "; give a file name" : "; GpuNet writes a new file and renames it into place, which would replace it"));
        return (full, Path.Combine(folder, $".{name}.{tag}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}"));
    }

    private static void Probe(string path, string temp)
    {
        try
        {
            using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(path, temp, e);
        }
    }

    /// <summary>The error <paramref name="e"/> told with the path the caller gave, not the temporary file's.</summary>
    private static Exception Failure(string path, string temp, Exception e)
    {
        string folder = Path.GetDirectoryName(temp)!;
        string reason = e switch
        {
            UnauthorizedAccessException => $"permission denied: folder '{folder}' does not let this process create files",
            DirectoryNotFoundException => $"folder '{folder}' does not exist",
            // .NET words an operating-system error as "{strerror} : '{path}'"; keep the first part.
            _ => e.Message.Replace($" : '{temp}'", "", StringComparison.Ordinal).Replace(temp, path, StringComparison.Ordinal),
        };
        string message = $"cannot write '{path}': {reason}";
        return e switch
        {
            UnauthorizedAccessException => new UnauthorizedAccessException(message, e),
            DirectoryNotFoundException => new DirectoryNotFoundException(message, e),
            _ => new FileWriteException(message, e),
        };
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Passes everything to the inner stream except disposal, which only flushes.</summary>
    private sealed class KeepOpenStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count)
        {
            ValidateBufferArguments(buffer, offset, count);
            Write(buffer.AsSpan(offset, count));
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            // .NET reports EFBIG (a file beyond the file system's or the process's size limit) as an argument error.
            try { inner.Write(buffer); }
            catch (ArgumentOutOfRangeException e) { throw TooLarge(e); }
        }

        public override void WriteByte(byte value) => Write([value]);

        private static IOException TooLarge(Exception e) =>
            new("File too large (beyond what the file system or the process's file size limit allows)", e);

        protected override void Dispose(bool disposing)
        {
            // The owner flushes to disk and closes; a writer layered on top must not close the file early.
            if (disposing && inner.CanWrite) inner.Flush();
            base.Dispose(disposing);
        }
    }
}

/// <summary>A file could not be written; the message names the path the caller gave and the reason (a full disk, a
/// file size limit, a special file in the way), which is all there is to say.</summary>
public sealed class FileWriteException : IOException
{
    /// <summary>Creates the error with its message.</summary>
    public FileWriteException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public FileWriteException(string message, Exception inner) : base(message, inner) { }
}
