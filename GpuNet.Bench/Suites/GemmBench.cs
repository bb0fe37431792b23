using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench.Suites;

public sealed class GemmConfig : ManualConfig
{
    public GemmConfig() => AddColumn(new RateColumn("GFLOP/s", "2·M·N·K per median time", c => RateColumn.Param<Cases.GemmCase>(c, "Case")?.Flop, 1e9));
}

/// <summary>Every GEMM variant, and Auto (the tuned choice on a GPU), at the MLP shapes (forward and backward) and the
/// squares up to SGEMM 4096³. The setup uploads seeded operands, runs the variant once (compiling it) and checks the
/// result against float64 at 256 sampled elements, so nothing is timed unchecked; each measured operation is one launch
/// followed by a device synchronisation.</summary>
[Config(typeof(GemmConfig))]
public class GemmBench
{
    private Device? device;
    private MemoryBuffer1D<float, Stride1D.Dense>? a, b, c;
    private GemmArgs args;

    [ParamsSource(typeof(BenchDevices), nameof(BenchDevices.All))] public string Device { get; set; } = "";
    [ParamsSource(nameof(AllCases))] public Cases.GemmCase Case { get; set; } = Cases.Gemm[0];
    // A variant whose group does not fit the device (Tiled64 and Large128 need 256 threads, Large64 64) fails in setup,
    // saying so.
    [Params(GemmVariant.Naive, GemmVariant.Blocked, GemmVariant.Tiled8, GemmVariant.Tiled64, GemmVariant.Large128, GemmVariant.Large64,
        GemmVariant.SplitK128, GemmVariant.SplitK64, GemmVariant.Large16, GemmVariant.SplitK16, GemmVariant.Auto)]
    public GemmVariant Variant { get; set; }

    public static IEnumerable<Cases.GemmCase> AllCases() => Cases.Gemm;

    [GlobalSetup]
    public void Setup()
    {
        device = BenchDevices.Open(Device);
        var x = Case;
        var (aRows, aCols, bRows, bCols) = GemmSampleCheck.Layout(x);
        var rng = new Random(x.M * 31 + x.N * 7 + x.K);
        var ha = Values(rng, (long)aRows * aCols);
        var hb = Values(rng, (long)bRows * bCols);
        a = device.Allocate(ha.Length);
        b = device.Allocate(hb.Length);
        c = device.Allocate((long)x.M * x.N);
        a.View.CopyFromCPU(ha);
        b.View.CopyFromCPU(hb);
        args = new GemmArgs { A = a.View, B = b.View, C = c.View, M = x.M, N = x.N, K = x.K, Lda = aCols, Ldb = bCols, Ldc = x.N,
            TransA = x.TransA ? 1 : 0, TransB = x.TransB ? 1 : 0, Alpha = 1, Beta = 0, Count = 1 };
        Run(); // compile outside the measurement, and check
        double err = GemmSampleCheck.RelativeError(x, ha, hb, c.GetAsArray1D(), new Random(x.K));
        if (!(err <= GemmSampleCheck.Tolerance(x.K)))
            throw new InvalidOperationException($"gemm {Variant} ({device.Gemm.Plan(args, Variant)}) {x.Name}: relative error {err:E2} against float64; not timed");
    }

    private static float[] Values(Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    [Benchmark]
    public void Run()
    {
        device!.Gemm.Run(args, Variant);
        device.Accelerator.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup() { a?.Dispose(); b?.Dispose(); c?.Dispose(); device?.Dispose(); }
}
