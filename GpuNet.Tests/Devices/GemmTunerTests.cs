using System.Text.Json;
using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;
using Xunit;

namespace GpuNet.Tests.Devices;

/// <summary>
/// The GEMM tuner's logic on the CPU accelerator, with a scripted clock so that its choice is known: first use of a
/// shape class checks and times the candidates and caches the fastest; later uses and later processes read the cache;
/// a candidate that computes a wrong result is excluded and reported; a corrupt cache is ignored and replaced.
/// </summary>
public sealed class GemmTunerTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly List<MemoryBuffer1D<float, Stride1D.Dense>> buffers = [];
    private static Device Cpu => TestDevices.Cpu;

    /// <summary>Candidates that fit the test device's 4-thread groups, and one that does not.</summary>
    private static readonly GemmVariant[] Candidates =
        [GemmVariant.Blocked, GemmVariant.Tiled8, GemmVariant.Large16, GemmVariant.SplitK16, GemmVariant.Tiled64];

    public void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
        dir.Dispose();
    }

    /// <summary>Milliseconds a launch per variant; counts what it was asked to time.</summary>
    private sealed class ScriptedTimer(Dictionary<GemmVariant, double> ms) : IGemmTimer
    {
        public List<GemmVariant> Timed { get; } = [];

        public double SecondsPerLaunch(GemmVariant candidate, Action launch)
        {
            launch();
            Timed.Add(candidate);
            return ms[candidate] * 1e-3;
        }
    }

    private static ScriptedTimer Timer(double blocked, double tiled8, double large16, double splitK16) =>
        new(new() { [GemmVariant.Blocked] = blocked, [GemmVariant.Tiled8] = tiled8, [GemmVariant.Large16] = large16, [GemmVariant.SplitK16] = splitK16 });

    private GemmTuner Tuner(IGemmTimer timer, StringWriter? log = null, Action<GemmVariant, GemmArgs>? launch = null) =>
        new(Cpu, new GemmTuneCache(dir.File("gemm.json")), timer, Candidates, launch) { Log = log };

    /// <summary>A product with real operands: M×N×K, B stored transposed, row strides multiples of 4 unless told.</summary>
    private GemmArgs Product(int m, int n, int k, int pad = 0)
    {
        var rng = new Random(m * 100 + n);
        var a = TestData.Upload(Cpu, TestData.Uniform(rng, m * (k + pad)));
        var b = TestData.Upload(Cpu, TestData.Uniform(rng, n * (k + pad)));
        var c = TestData.Poisoned(Cpu, m * n);
        buffers.AddRange([a, b, c]);
        return new GemmArgs
        {
            A = a.View, B = b.View, C = c.View, M = m, N = n, K = k, Lda = k + pad, Ldb = k + pad, Ldc = n, TransB = 1, Alpha = 1, Count = 1,
        };
    }

    [Fact]
    public void FirstUseTimesTheCandidatesKeepsTheFastestAndCachesIt()
    {
        var timer = Timer(blocked: 3, tiled8: 9, large16: 1, splitK16: 2);
        var tuner = Tuner(timer);
        var g = Product(20, 24, 36);
        Assert.Equal(GemmVariant.Large16, tuner.Choose(g, GemmVariant.Blocked));
        Assert.Equal([GemmVariant.Blocked, GemmVariant.Tiled8, GemmVariant.Large16, GemmVariant.SplitK16], timer.Timed);

        // Another product of the same class: no more measuring.
        Assert.Equal(GemmVariant.Large16, tuner.Choose(Product(31, 17, 40), GemmVariant.Blocked));
        Assert.Equal(4, timer.Timed.Count);
        var d = Assert.Single(tuner.Decisions);
        Assert.False(d.FromCache);
        Assert.Equal(GemmShapeClass.Of(g).Key, d.ShapeClass);
        Assert.Contains("256 threads", d.Entry.Excluded["tiled64"]);

        // What the file says.
        using var json = JsonDocument.Parse(File.ReadAllText(dir.File("gemm.json")));
        Assert.Equal(GemmTuneCache.Format, json.RootElement.GetProperty("format").GetString());
        var entry = json.RootElement.GetProperty("devices").GetProperty(tuner.DeviceKey).GetProperty(d.ShapeClass);
        Assert.Equal("large16", entry.GetProperty("variant").GetString());
        Assert.Equal(1.0, entry.GetProperty("ms").GetProperty("large16").GetDouble(), 12);

        // A later process with the same cache: the same variant, nothing timed.
        var later = Timer(1, 1, 1, 1);
        var again = Tuner(later);
        Assert.Equal(GemmVariant.Large16, again.Choose(g, GemmVariant.Blocked));
        Assert.Empty(later.Timed);
        Assert.True(Assert.Single(again.Decisions).FromCache);
    }

    [Fact]
    public void ACandidateThatComputesAWrongResultIsExcludedAndReported()
    {
        var log = new StringWriter();
        var timer = Timer(blocked: 3, tiled8: 9, large16: 1, splitK16: 2);
        // Large16 is fastest but wrong (twice the product).
        var tuner = Tuner(timer, log, (v, g) => Cpu.Gemm.Run(v == GemmVariant.Large16 ? g with { Alpha = 2 * g.Alpha } : g, v));
        Assert.Equal(GemmVariant.SplitK16, tuner.Choose(Product(20, 24, 36), GemmVariant.Blocked));
        Assert.DoesNotContain(GemmVariant.Large16, timer.Timed);
        var entry = Assert.Single(tuner.Decisions).Entry;
        Assert.Contains("differs from the naive kernel's", entry.Excluded["large16"]);
        Assert.False(entry.Ms.ContainsKey("large16"));
        Assert.Contains("excluded", log.ToString());
        Assert.Contains("large16 (result differs", log.ToString());
    }

    [Fact]
    public void ShapeClassesGroupByTransposesLoadWidthsAndPowersOfTwo()
    {
        var g = Product(128, 256, 784);
        Assert.Equal("NT A4 B4 M128 N256 K1024 count1", GemmShapeClass.Of(g).Key);
        Assert.Equal("NT A4 B4 M256 N256 K1024 count1", GemmShapeClass.Of(g with { M = 129 }).Key);
        Assert.Equal("TT A4 B4 M128 N256 K1024 count4", GemmShapeClass.Of(g with { TransA = 1, Count = 3, StrideA = 0, StrideB = 0, StrideC = 0 }).Key);
        Assert.Equal("NT A1 B1 M32 N32 K32 count1", GemmShapeClass.Of(Product(20, 24, 30, pad: 1)).Key);
        Assert.Equal(1, GemmShapeClass.Ceiling(0));
        Assert.Equal(1024, GemmShapeClass.Ceiling(784));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"format\": \"something-else/3\", \"devices\": {}}")]
    [InlineData("{\"format\": \"gpunet-gemm-tuning/1\", \"devices\": {\"x\": {\"y\": {\"variant\": null}}}}")]
    public void ACorruptCacheIsIgnoredAndReplaced(string content)
    {
        dir.WriteText("gemm.json", content);
        var log = new StringWriter();
        var timer = Timer(blocked: 1, tiled8: 9, large16: 3, splitK16: 2);
        var tuner = Tuner(timer, log);
        Assert.Equal(GemmVariant.Blocked, tuner.Choose(Product(20, 24, 36), GemmVariant.Large16));
        Assert.Equal(4, timer.Timed.Count);
        Assert.NotNull(tuner.Cache.LoadError);
        Assert.Contains("ignored", log.ToString());
        var reread = new GemmTuneCache(dir.File("gemm.json"));
        Assert.Equal("blocked", reread.Find(tuner.DeviceKey, GemmShapeClass.Of(Product(20, 24, 36)).Key)?.Variant);
        Assert.Null(reread.LoadError);
    }

    [Fact]
    public void ACachedVariantThisVersionDoesNotKnowIsMeasuredAgain()
    {
        var g = Product(20, 24, 36);
        var cache = new GemmTuneCache(dir.File("gemm.json"));
        string device = GemmTuner.KeyOf(Cpu), key = GemmShapeClass.Of(g).Key;
        cache.Store(device, key, new GemmTuneEntry("warp9000", "2026-01-01", "x", new() { ["warp9000"] = 0.001 }, []));
        var timer = Timer(blocked: 5, tiled8: 9, large16: 3, splitK16: 4);
        Assert.Equal(GemmVariant.Large16, Tuner(timer).Choose(g, GemmVariant.Blocked));
        Assert.Equal(4, timer.Timed.Count);
        Assert.Equal("large16", new GemmTuneCache(dir.File("gemm.json")).Find(device, key)?.Variant);
    }

    [Fact]
    public void ACacheThatCannotBeWrittenKeepsTheDecisionForThisProcess()
    {
        dir.WriteText("not-a-folder", "");
        var log = new StringWriter();
        var tuner = new GemmTuner(Cpu, new GemmTuneCache(Path.Combine(dir.File("not-a-folder"), "gemm.json")),
            Timer(blocked: 1, tiled8: 9, large16: 3, splitK16: 2), Candidates) { Log = log };
        var g = Product(20, 24, 36);
        Assert.Equal(GemmVariant.Blocked, tuner.Choose(g, GemmVariant.Large16));
        Assert.Equal(GemmVariant.Blocked, tuner.Choose(g, GemmVariant.Large16));
        Assert.NotNull(tuner.Cache.SaveError);
        Assert.Contains("could not write the GEMM tuning cache", log.ToString());
    }

    [Fact]
    public void TheCacheLivesInTheUsersCacheFolder()
    {
        string path = GemmTuneCache.DefaultPath();
        string? own = Environment.GetEnvironmentVariable(GemmTuneCache.PathVariable);
        if (string.IsNullOrWhiteSpace(own))
            Assert.EndsWith(Path.Combine("gpunet", "gemm-tuning.json"), path);
        else Assert.Equal(own, path);
    }
}
