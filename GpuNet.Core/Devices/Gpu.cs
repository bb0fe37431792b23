using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuNet.Devices;

/// <summary>Entry point to the accelerators: one ILGPU context per process, shared by every
/// <see cref="Device"/>.</summary>
public static class Gpu
{
    private static readonly Lazy<Context> SharedContext = new(CreateContext, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The process-wide ILGPU context (CUDA, OpenCL and the CPU accelerator registered;
    /// algorithms enabled; O2 optimisation).</summary>
    public static Context Context => SharedContext.Value;

    /// <summary>The CPU accelerator's shape for GpuNet: 2 threads a warp, 2 warps a group (so the
    /// 2×2 tiles and reductions fit), one multiprocessor per core. Few small groups keep launches cheap
    /// on the CPU accelerator, which runs each thread of a group as an OS thread.</summary>
    public static CPUDevice DefaultCpuDevice { get; } = new(2, 2, Math.Max(1, Environment.ProcessorCount));

    private static Context CreateContext() =>
        Context.Create(builder => builder
            .Cuda()
            .OpenCL()
            .CPU(DefaultCpuDevice)
            .EnableAlgorithms()
            .Optimize(OptimizationLevel.O2));

    /// <summary>Every accelerator found, in the order used by <c>--device INDEX</c>.</summary>
    public static IReadOnlyList<DeviceInfo> List()
    {
        var result = new List<DeviceInfo>();
        foreach (var d in Context.Devices)
            result.Add(Describe(result.Count, d));
        return result;
    }

    /// <summary>The index <c>auto</c> picks: the first CUDA device, else the first OpenCL device, else the CPU.</summary>
    public static int AutoIndex()
    {
        var list = List();
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL, DeviceKind.Cpu })
            foreach (var d in list)
                if (d.Kind == kind) return d.Index;
        throw new DeviceNotFoundException("no accelerator found, not even the CPU accelerator");
    }

    /// <summary>Opens an accelerator: <c>auto</c> (CUDA, then OpenCL, then the CPU accelerator),
    /// a kind (<c>cuda</c>, <c>opencl</c>, <c>cpu</c>: its first device) or an index from <see cref="List"/>.</summary>
    /// <exception cref="DeviceNotFoundException">Nothing matches; the message lists what is there.</exception>
    public static Device Open(string spec = "auto")
    {
        ArgumentNullException.ThrowIfNull(spec);
        var list = List();
        string s = spec.Trim().ToLowerInvariant();
        int index;
        if (s == "auto") index = AutoIndex();
        else if (int.TryParse(s, out int i))
        {
            if (i < 0 || i >= list.Count)
                throw new DeviceNotFoundException($"device index {i} does not exist. {Available(list)}");
            index = i;
        }
        else
        {
            DeviceKind kind = s switch
            {
                "cuda" => DeviceKind.Cuda,
                "opencl" or "cl" => DeviceKind.OpenCL,
                "cpu" => DeviceKind.Cpu,
                _ => throw new DeviceNotFoundException(
                    $"unknown device '{spec}': use auto, cuda, opencl, cpu or an index. {Available(list)}"),
            };
            var match = list.FirstOrDefault(d => d.Kind == kind)
                ?? throw new DeviceNotFoundException($"no {s} device on this machine. {Available(list)}");
            index = match.Index;
        }
        var device = Context.Devices[index];
        return new Device(device.CreateAccelerator(Context), list[index]);
    }

    /// <summary>Opens a CPU accelerator of a chosen shape (threads a warp × warps a group, multiprocessors),
    /// for tests that need a GPU-like group size (warp 32) or a minimal one.</summary>
    public static Device OpenCpu(int threadsPerWarp, int warpsPerGroup, int multiprocessors)
    {
        var cpu = new CPUDevice(threadsPerWarp, warpsPerGroup, multiprocessors);
        var accelerator = cpu.CreateCPUAccelerator(Context);
        return new Device(accelerator, Describe(-1, cpu) with { Name = $"CPU accelerator {threadsPerWarp}x{warpsPerGroup}x{multiprocessors}" });
    }

    private static string Available(IReadOnlyList<DeviceInfo> list) =>
        "Available: " + string.Join("; ", list.Select(d => d.ToString()));

    private static DeviceInfo Describe(int index, ILGPU.Runtime.Device d)
    {
        DeviceKind kind = d.AcceleratorType switch
        {
            AcceleratorType.Cuda => DeviceKind.Cuda,
            AcceleratorType.OpenCL => DeviceKind.OpenCL,
            _ => DeviceKind.Cpu,
        };
        string name = kind == DeviceKind.Cpu ? "CPU accelerator (ILGPU, runs kernels on CPU threads)" : d.Name;
        // The CPU accelerator reports an unbounded size; its memory is the host's.
        long memory = kind == DeviceKind.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : d.MemorySize;
        return new DeviceInfo(index, kind, name, memory, d.WarpSize, d.MaxNumThreadsPerGroup, d.NumMultiprocessors);
    }
}

/// <summary>No accelerator matches what was asked for.</summary>
public sealed class DeviceNotFoundException(string message) : Exception(message);
