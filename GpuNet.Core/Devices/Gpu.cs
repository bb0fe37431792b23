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
        return OpenIndex(index, list);
    }

    private static Device OpenIndex(int index, IReadOnlyList<DeviceInfo> list) =>
        new(Context.Devices[index].CreateAccelerator(Context), list[index]);

    /// <summary>Opens the devices a spec names (<see cref="DeviceSpec"/>: one device as for <see cref="Open"/>, a list of
    /// indices, <c>all</c> or <c>cpu:N</c>), the first as the primary.</summary>
    /// <exception cref="ArgumentException">The spec is malformed, lists a device twice, or names devices of different
    /// kinds or models.</exception>
    /// <exception cref="DeviceNotFoundException">A device is not there; the message lists what is.</exception>
    public static DeviceSet OpenSet(string spec = "auto")
    {
        var parsed = DeviceSpec.Parse(spec);
        var list = List();
        if (parsed.IsKindOnly) return new DeviceSet([Open(spec)]);
        IReadOnlyList<int> indices = parsed.Indices ?? [];
        if (parsed.CpuCount > 0) indices = Enumerable.Repeat(list.First(d => d.Kind == DeviceKind.Cpu).Index, parsed.CpuCount).ToArray();
        if (parsed.All)
        {
            var auto = list[AutoIndex()].Kind;
            indices = list.Where(d => d.Kind == auto).Select(d => d.Index).ToArray();
        }
        foreach (int i in indices)
            if (i >= list.Count) throw new DeviceNotFoundException($"device index {i} does not exist. {Available(list)}");
        foreach (int i in indices.Skip(1))
            if (list[i].Kind != list[indices[0]].Kind || list[i].Name != list[indices[0]].Name)
                throw new ArgumentException($"'{spec}' mixes devices {indices[0]} ({list[indices[0]]}) and {i} ({list[i]}): replicas " +
                    "must run on one kind and model of device, whose kernels round alike, or they drift apart");
        var opened = new List<Device>();
        try
        {
            foreach (int i in indices) opened.Add(OpenIndex(i, list));
            return new DeviceSet(opened);
        }
        catch
        {
            foreach (var d in opened) d.Dispose();
            throw;
        }
    }

    /// <summary>The device of one MPI rank, for a kind-only spec (<c>auto</c>, <c>cuda</c>, <c>opencl</c>, <c>cpu</c>): the
    /// GPU numbered by the rank's <paramref name="localRank"/> among the devices of that kind on this host (the first rank
    /// on a host takes the first GPU, the next the second, …); every rank on a host shares the CPU accelerator.</summary>
    /// <exception cref="ArgumentException">The spec names devices by index, or the host has fewer GPUs of the kind than
    /// ranks.</exception>
    public static Device OpenForLocalRank(string spec, int localRank)
    {
        var parsed = DeviceSpec.Parse(spec);
        if (!parsed.IsKindOnly)
            throw new ArgumentException($"'{spec}': under MPI each process takes the device of its local rank; give a kind " +
                "(auto, cuda, opencl or cpu), or limit what a process sees (CUDA_VISIBLE_DEVICES)");
        ArgumentOutOfRangeException.ThrowIfNegative(localRank);
        var list = List();
        var kind = parsed.Kind ?? list[AutoIndex()].Kind;
        if (kind == DeviceKind.Cpu) return Open("cpu");
        var ofKind = list.Where(d => d.Kind == kind).ToArray();
        if (ofKind.Length == 0) throw new DeviceNotFoundException($"no {kind.ToString().ToLowerInvariant()} device on this machine. {Available(list)}");
        if (localRank >= ofKind.Length)
            throw new ArgumentException($"this process is number {localRank + 1} on its host, which has {ofKind.Length} " +
                $"{kind.ToString().ToLowerInvariant()} device{(ofKind.Length == 1 ? "" : "s")}: start at most one process per GPU on each host");
        return OpenIndex(ofKind[localRank].Index, list);
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
