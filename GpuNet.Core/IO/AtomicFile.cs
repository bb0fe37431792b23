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
    /// <paramref name="path"/> before is left as it was.
    /// </summary>
    /// <remarks>
    /// The temporary file is named <c>.{file name}.tmp-{random}</c> and lives next to the target so that the final
    /// rename stays on one file system. The replaced file gets the temporary file's default permissions, not the
    /// old file's.
    /// </remarks>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || name.Length == 0) throw new ArgumentException($"'{path}' does not name a file", nameof(path));

        string temp = Path.Combine(folder, $".{name}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        bool created = false;
        InFlight[temp] = 0;
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                created = true;
                using (var shield = new KeepOpenStream(file)) write(shield);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
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
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override void WriteByte(byte value) => inner.WriteByte(value);
        protected override void Dispose(bool disposing)
        {
            // The owner flushes to disk and closes; a writer layered on top must not close the file early.
            if (disposing && inner.CanWrite) inner.Flush();
            base.Dispose(disposing);
        }
    }
}
