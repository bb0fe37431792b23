using System.Text.Json;
using System.Text.Json.Serialization;

namespace GpuNet.Devices;

/// <summary>One tuning decision as the cache keeps it.</summary>
/// <param name="Variant">The chosen variant, lower case (e.g. <c>large128</c>).</param>
/// <param name="Date">When it was measured (UTC, yyyy-MM-dd).</param>
/// <param name="Example">The product it was measured on: <c>M×N×K count C</c>.</param>
/// <param name="Ms">Milliseconds a launch, per candidate that passed its check.</param>
/// <param name="Excluded">Candidates left out, with the reason (a failed check names its error).</param>
public sealed record GemmTuneEntry(string Variant, string Date, string Example, Dictionary<string, double> Ms,
    Dictionary<string, string> Excluded);

/// <summary>
/// The GEMM tuning cache: a small JSON file holding, per device (name, multiprocessors, driver) and shape class
/// (<see cref="GemmShapeClass.Key"/>), the variant chosen and what was measured. It is read once, on first use; every
/// new decision is merged with the file as it is on disk then and written atomically (temporary file, then rename), so
/// processes tuning side by side lose nothing but a decision measured twice. A file that cannot be read as a cache is
/// ignored (see <see cref="LoadError"/>) and replaced on the next write; a folder that cannot be written keeps the
/// decisions in memory for this process (see <see cref="SaveError"/>).
/// </summary>
public sealed class GemmTuneCache
{
    /// <summary>The <c>format</c> field of the file.</summary>
    public const string Format = "gpunet-gemm-tuning/1";

    /// <summary>Environment variable naming the cache file, overriding <see cref="DefaultPath"/>'s folders.</summary>
    public const string PathVariable = "GPUNET_GEMM_CACHE";

    private readonly object gate = new();
    private Dictionary<string, Dictionary<string, GemmTuneEntry>>? devices;

    /// <summary>A cache kept in <paramref name="path"/> (created on the first decision).</summary>
    public GemmTuneCache(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Why the file on disk was ignored (not JSON, another format), or null.</summary>
    public string? LoadError { get; private set; }

    /// <summary>Why the last write failed, or null.</summary>
    public string? SaveError { get; private set; }

    /// <summary><c>$GPUNET_GEMM_CACHE</c> when set; else <c>$XDG_CACHE_HOME/gpunet/gemm-tuning.json</c>; else
    /// <c>~/.cache/gpunet/gemm-tuning.json</c> (the temp folder's <c>gpunet/gemm-tuning.json</c> without a home folder).</summary>
    public static string DefaultPath()
    {
        string? own = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(own)) return own;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string root = !string.IsNullOrWhiteSpace(xdg) && System.IO.Path.IsPathRooted(xdg) ? xdg
            : home.Length > 0 ? System.IO.Path.Combine(home, ".cache")
            : System.IO.Path.GetTempPath(); // no home folder (a service account): the decisions last until the temp folder is cleared
        return System.IO.Path.Combine(root, "gpunet", "gemm-tuning.json");
    }

    /// <summary>The decision for <paramref name="shapeClass"/> on <paramref name="device"/>, or null.</summary>
    public GemmTuneEntry? Find(string device, string shapeClass)
    {
        lock (gate)
        {
            return Loaded().TryGetValue(device, out var classes) && classes.TryGetValue(shapeClass, out var e) ? e : null;
        }
    }

    /// <summary>Records a decision and writes the file (merged with what is on disk now).</summary>
    public void Store(string device, string shapeClass, GemmTuneEntry entry)
    {
        lock (gate)
        {
            Put(Loaded(), device, shapeClass, entry);
            var merged = Read(out _);
            foreach (var (d, classes) in Loaded())
                foreach (var (c, e) in classes)
                    Put(merged, d, c, e);
            try
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
                WriteAtomically(JsonSerializer.SerializeToUtf8Bytes(new CacheFile { Format = Format, Devices = merged }, Options));
                SaveError = null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                SaveError = $"could not write the GEMM tuning cache {Path}: {e.Message}";
            }
        }
    }

    /// <summary>Readers see the old file or the whole new one: the bytes go to a temporary file beside it, flushed to
    /// disk, which is then renamed over it.</summary>
    private void WriteAtomically(byte[] bytes)
    {
        string temp = $"{Path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private Dictionary<string, Dictionary<string, GemmTuneEntry>> Loaded()
    {
        if (devices == null)
        {
            devices = Read(out string? error);
            LoadError = error;
        }
        return devices;
    }

    private static void Put(Dictionary<string, Dictionary<string, GemmTuneEntry>> to, string device, string shapeClass, GemmTuneEntry e)
    {
        if (!to.TryGetValue(device, out var classes)) to[device] = classes = [];
        classes[shapeClass] = e;
    }

    private Dictionary<string, Dictionary<string, GemmTuneEntry>> Read(out string? error)
    {
        error = null;
        try
        {
            if (!File.Exists(Path)) return [];
            var file = JsonSerializer.Deserialize<CacheFile>(File.ReadAllBytes(Path), Options);
            if (file?.Format != Format || file.Devices == null)
                error = $"{Path} is not a GEMM tuning cache (format '{file?.Format}', expected '{Format}'): ignored, rewritten on the next decision";
            else if (file.Devices.Values.Any(c => c == null || c.Values.Any(e => e?.Variant == null || e.Ms == null || e.Excluded == null)))
                error = $"{Path} holds an incomplete entry: ignored, rewritten on the next decision";
            else return file.Devices;
        }
        catch (JsonException e)
        {
            error = $"{Path} is not valid JSON ({e.Message}): ignored, rewritten on the next decision";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"could not read {Path} ({e.Message}): ignored";
        }
        return [];
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private sealed class CacheFile
    {
        public string? Format { get; set; }
        public Dictionary<string, Dictionary<string, GemmTuneEntry>>? Devices { get; set; }
    }
}
