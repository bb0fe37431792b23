using System.IO.Compression;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Model;
using GpuNet.Training;

namespace GpuNet.Fuzz;

/// <summary>A reader under test: what it is called, and how one input is fed to it (as the file it reads).</summary>
/// <param name="Name">The name on the command line and of the corpus folder.</param>
/// <param name="Read">Reads the file at the given path with every entry point of the reader.</param>
public sealed record FuzzTarget(string Name, Action<string> Read)
{
    /// <summary>The readers: CSV, IDX, gzip-compressed data, safetensors model files and checkpoints.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("csv", path =>
        {
            Expect(() => Csv.Load(path));
            Expect(() => Csv.Load(path, new CsvOptions { Task = CsvTask.Classify, DropNonFinite = true }));
            Expect(() => Csv.ReadMatrix(path, null));
            Expect(() => Csv.PeekFirstRecord(path, ';'));
        }),
        new("idx", path =>
        {
            Expect(() => Idx.ReadImageBytes(path));
            Expect(() => Idx.ReadLabels(path));
        }),
        new("gzip", path =>
        {
            Expect(() => Csv.Load(path));
            Expect(() => Idx.ReadImageBytes(path));
            Expect(() => Idx.ReadLabels(path));
        }),
        new("safetensors", path =>
        {
            Expect(() => SafeTensors.Read(path));
            Expect(() => ModelFile.Read(path));
        }),
        new("checkpoint", path => Expect(() => Checkpoint.Read(path))),
    ];

    /// <summary>The target named <paramref name="name"/>.</summary>
    public static FuzzTarget Find(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown fuzz target '{name}': use {string.Join(", ", All.Select(t => t.Name))}");

    /// <summary>
    /// Feeds <paramref name="input"/> to the reader as the file <paramref name="path"/> and checks what happened:
    /// a result, or a <see cref="GpuNetException"/> whose message is one line of GpuNet's words (no .NET type name,
    /// no stack trace, no control character); and the bytes allocated meanwhile stay within <see cref="AllocationBudget"/>. Anything else
    /// throws <see cref="FuzzFinding"/> (or lets the unexpected exception through), which AFL++ records as a crash.
    /// </summary>
    public void Run(byte[] input, string path)
    {
        File.WriteAllBytes(path, input);
        long budget = AllocationBudget(input);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Read(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > budget)
            throw new FuzzFinding($"{Name}: reading a {input.Length}-byte input allocated {allocated} bytes, more than its budget of {budget}");
    }

    /// <summary>What reading an input may allocate: a fixed 16 MiB for buffers (stream buffers, one CSV line at the
    /// default limit with its cells) plus 16 bytes for every byte of the file or of its decompressed content, whichever
    /// is larger. The data a reader returns is at most 4 bytes (a float) per byte read, kept once and copied once; a
    /// reader that believes a size field instead of the file allocates far beyond this.</summary>
    public static long AllocationBudget(byte[] input) => (16L << 20) + 16L * Math.Max(input.LongLength, DecompressedLength(input));

    private static long DecompressedLength(byte[] input)
    {
        if (input.Length < 2 || input[0] != 0x1f || input[1] != 0x8b) return 0;
        long total = 0;
        try
        {
            using var gz = new GZipStream(new MemoryStream(input), CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            for (int n; total < (1L << 32) && (n = gz.Read(buffer)) > 0;) total += n;
        }
        catch (InvalidDataException) { }
        return total;
    }

    /// <summary>Runs one entry point of a reader: a <see cref="GpuNetException"/> is an answer, checked for its wording;
    /// any other exception is let through.</summary>
    public static void Expect(Func<object?> read)
    {
        try
        {
            read();
        }
        catch (GpuNetException e)
        {
            string m = e.Message;
            if (string.IsNullOrWhiteSpace(m) || m.Contains("System.", StringComparison.Ordinal) || m.Contains("   at ", StringComparison.Ordinal))
                throw new FuzzFinding($"an error message leaks .NET internals or is empty: {m}", e);
            if (m.Any(char.IsControl)) // a line break or escape from the file, raw: the error is no longer one line
                throw new FuzzFinding($"an error message holds a control character: {m}", e);
        }
    }
}

/// <summary>What the harness reports as a crash: an over-allocation or a badly worded error.</summary>
public sealed class FuzzFinding(string message, Exception? inner = null) : Exception(message, inner);
