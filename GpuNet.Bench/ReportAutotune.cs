using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Devices;

namespace GpuNet.Bench;

/// <summary>
/// <c>--autotune</c>: the GEMM tuning of the report's cases, on its own, before the report. For each case the device's
/// tuner (<see cref="GemmTuner"/>) checks every candidate against the naive kernel on the device, excludes and reports
/// a failure, times the rest and keeps the fastest in the tuning cache, so the report that follows runs the tuned
/// choices from that cache. A GPU tunes with its production candidates. The CPU accelerator never tunes in training;
/// here it runs the same machinery with the variants its 4-thread groups allow, on the cases small enough for it, as a
/// dry run of the section.
/// </summary>
internal sealed partial class Report
{
    /// <summary>The variants the CPU accelerator's dry run chooses between.</summary>
    private static readonly GemmVariant[] CpuTuningCandidates = [GemmVariant.Blocked, GemmVariant.Large16, GemmVariant.SplitK16];

    /// <summary>One case's decision: the class it fell in, the variant kept, whether it came from the cache, and the
    /// milliseconds a launch per candidate that passed its check; <c>Excluded</c> names the others with the reason.</summary>
    public sealed record TunedJson(string Name, string ShapeClass, string Variant, bool FromCache, Dictionary<string, double> Ms,
        Dictionary<string, string> Excluded, double Seconds);

    public sealed record AutotuneJson(string Tool, int Version, string Date, string Device, string Cache, List<TunedJson> Cases,
        List<Skipped> Skipped, double Seconds);

    /// <summary>Tunes every GEMM case into the cache at <paramref name="cachePath"/> (null: the device's default cache)
    /// and writes what was decided to <paramref name="jsonPath"/> after each case. 0 when every case got a variant
    /// that passed its check; 1 when some case had none.</summary>
    public int Autotune(string? jsonPath, string? cachePath)
    {
        var clock = Stopwatch.StartNew();
        var cache = new GemmTuneCache(cachePath ?? GemmTuneCache.DefaultPath());
        var tuner = cpu || cachePath != null
            ? new GemmTuner(device, cache, candidates: cpu ? CpuTuningCandidates : null)
            : device.Gemm.Tuner!;
        if (!cpu) device.Gemm.Tuner = tuner;
        tuner.Log = log;
        log.WriteLine($"device: {device.Info}; tuning cache {tuner.Cache.Path}; candidates {string.Join(", ", tuner.Candidates.Select(Name))}");
        var tuned = new List<TunedJson>();
        var skipped = new List<Skipped>();
        bool untuned = false;
        foreach (var c in Cases.Gemm)
        {
            if (cpu && c.Flop > CpuLarge16FlopCap) { skipped.Add(new($"autotune {c.Name}", "too large for the CPU accelerator's dry run")); continue; }
            var one = Stopwatch.StartNew();
            var (key, decision) = WithOperands(c, args =>
            {
                tuner.Choose(args, GemmVariant.Naive);
                string k = GemmShapeClass.Of(args).Key;
                return (k, tuner.Decisions.First(d => d.ShapeClass == k));
            });
            var ms = decision.Entry.Ms;
            untuned |= ms.Count == 0 && !decision.FromCache;
            tuned.Add(new TunedJson(c.Name, key, Name(decision.Variant), decision.FromCache, ms, decision.Entry.Excluded, one.Elapsed.TotalSeconds));
            string times = string.Join("  ", ms.OrderBy(p => p.Value).Select(p => $"{p.Key} {p.Value:F4}"));
            log.WriteLine($"autotune {c.Name,-22} {key,-34} -> {Name(decision.Variant),-9} {(decision.FromCache ? "(from the cache)" : $"ms: {times}")}");
            WriteAutotune(jsonPath, tuner, tuned, skipped, clock);
        }
        WriteAutotune(jsonPath, tuner, tuned, skipped, clock);
        if (untuned) log.WriteLine("AUTOTUNE: some case had no candidate that passed its check (see the exclusions above)");
        return untuned ? 1 : 0;
    }

    private void WriteAutotune(string? jsonPath, GemmTuner tuner, List<TunedJson> tuned, List<Skipped> skipped, Stopwatch clock)
    {
        if (jsonPath == null) return;
        var json = new AutotuneJson("gpunet-bench-autotune", 1, DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            tuner.DeviceKey, tuner.Cache.Path, tuned, skipped, clock.Elapsed.TotalSeconds);
        File.WriteAllText(jsonPath + ".part", JsonSerializer.Serialize(json, Json.Options));
        File.Move(jsonPath + ".part", jsonPath, overwrite: true);
    }
}
