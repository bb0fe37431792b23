using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using GpuNet.Training;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench.Suites;

/// <summary>Accelerators to measure: every one found (index:kind), so one run compares them.</summary>
public static class BenchDevices
{
    public static IEnumerable<string> All() => Gpu.List().Select(d => $"{d.Index}:{d.Kind.ToString().ToLowerInvariant()}");
    public static Device Open(string name) => Gpu.Open(name.Split(':')[0]);

    /// <summary>The device <paramref name="spec"/> names, for the tool's mode <paramref name="mode"/>; null when it
    /// cannot be opened, the reason written to stderr after the mode's name.</summary>
    public static Device? OpenFor(string mode, string spec)
    {
        try { return Gpu.Open(spec); }
        catch (Exception e) when (e is DeviceNotFoundException or GpuNetException or ILGPU.Runtime.AcceleratorException)
        {
            Console.Error.WriteLine($"{mode}: cannot open device '{spec}': {e.Message}");
            return null;
        }
    }
}

public sealed class StepConfig : ManualConfig
{
    public StepConfig()
    {
        AddColumn(new RateColumn("samples/s", "rows × restarts per median time (network-samples/s)", c =>
            RateColumn.Param<Cases.StepCase>(c, "Case") is { } s ? (double)s.Batch * s.Restarts : null, 1));
        AddColumn(new RateColumn("GFLOP/s", "GEMM FLOPs of the step per median time", c => RateColumn.Param<Cases.StepCase>(c, "Case")?.Flop, 1e9));
    }
}

/// <summary>One full training step (forward, loss, backward, Adam update), then a synchronisation, run fused and layer
/// by layer.</summary>
[Config(typeof(StepConfig))]
public class TrainStepBench
{
    private Device? device;
    private StepRunner? runner;

    [ParamsSource(typeof(BenchDevices), nameof(BenchDevices.All))] public string Device { get; set; } = "";
    [ParamsSource(nameof(AllCases))] public Cases.StepCase Case { get; set; } = Cases.Steps[0];
    [Params(StepKind.Fused, StepKind.Layered)] public StepKind Step { get; set; } = StepKind.Fused;

    public static IEnumerable<Cases.StepCase> AllCases() => Cases.Steps;

    [GlobalSetup]
    public void Setup()
    {
        device = BenchDevices.Open(Device);
        runner = new StepRunner(device, Case, kind: Step);
        Run();
    }

    [Benchmark]
    public void Run()
    {
        runner!.Step();
        device!.Accelerator.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup() { runner?.Dispose(); device?.Dispose(); }
}

public sealed class BytesConfig : ManualConfig
{
    public BytesConfig() => AddColumn(new RateColumn("GB/s", "bytes read + written per median time", c =>
        c.Descriptor.WorkloadMethod.Name switch
        {
            nameof(ElementwiseBench.BiasRelu) => 2.0 * ElementwiseBench.N * 4,
            nameof(ElementwiseBench.ColumnSum) => 1.0 * ElementwiseBench.N * 4,
            nameof(ElementwiseBench.Adam) => 7.0 * ElementwiseBench.N * 4,
            nameof(ElementwiseBench.Copy) => 2.0 * ElementwiseBench.N * 4,
            _ => null,
        }, 1e9));
}

/// <summary>Element-wise and reduction kernels over 4096 × 1024 floats (16 MiB a buffer).</summary>
[Config(typeof(BytesConfig))]
public class ElementwiseBench
{
    public const int Rows = 4096, Width = 1024;
    public const long N = (long)Rows * Width;
    private Device? device;
    private MemoryBuffer1D<float, Stride1D.Dense>? z, g, w, m, v, p, col, copy;
    private OptimizerStep step;

    [ParamsSource(typeof(BenchDevices), nameof(BenchDevices.All))] public string Device { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        device = BenchDevices.Open(Device);
        z = device.Allocate(N); g = device.Allocate(N); w = device.Allocate(N); m = device.Allocate(N); v = device.Allocate(N);
        copy = device.Allocate(N); p = device.Allocate(Width); col = device.Allocate(Width);
        foreach (var b in new[] { z, g, w, m, v, p, copy }) b.MemSetToZero();
        step = new OptimizerStep { LearningRate = 1e-3f, Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, Correction1 = 0.1f, Correction2 = 0.001f, ParamsPerNet = N };
        BiasRelu(); ColumnSum(); Adam();
    }

    [Benchmark] public void BiasRelu() { device!.Elementwise.BiasActivate(Activation.Relu, z!.View, p!.View, 0, 0, Rows, Width); device.Accelerator.Synchronize(); }
    [Benchmark] public void ColumnSum() { device!.Reductions.ColumnSum(g!.View, col!.View, 0, 0, 1, Rows, Width); device.Accelerator.Synchronize(); }
    [Benchmark] public void Adam() { device!.Optimizers.Adam(w!.View, g!.View, m!.View, v!.View, p!.View, step); device.Accelerator.Synchronize(); }
    [Benchmark(Baseline = true)] public void Copy() { z!.View.CopyTo(copy!.View); device!.Accelerator.Synchronize(); }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var b in new[] { z, g, w, m, v, p, col, copy }) b?.Dispose();
        device?.Dispose();
    }
}
