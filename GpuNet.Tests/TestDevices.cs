using GpuNet.Devices;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// The accelerators every kernel test runs on: the CPU accelerator always (a small shape, 2 threads a
/// warp × 2 warps × 2 multiprocessors, so launches stay cheap), plus every CUDA and OpenCL device the
/// machine has. Each device is opened once per test process, so its kernels are compiled once.
/// Tests name a device by <see cref="Name"/>, which is unique: two identical GPUs report the same
/// <see cref="DeviceInfo.Name"/>, so a GPU's test name also carries its index.
/// </summary>
public static class TestDevices
{
    private static readonly Lazy<IReadOnlyList<(string Name, Device Device)>> All = new(Open);
    private static readonly Lazy<Device> GpuShapedCpu = new(() => Gpu.OpenCpu(32, 8, 1));
    private static readonly Lazy<Device> WideGpuShapedCpu = new(() => Gpu.OpenCpu(32, 32, 1));

    public static IReadOnlyList<Device> Devices => All.Value.Select(e => e.Device).ToList();

    /// <summary>Theory data: one row per device name.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in All.Value) data.Add(name);
        return data;
    }

    /// <summary>The unique test name of a device: the CPU accelerators keep their own name (it holds their
    /// shape); a GPU's name is prefixed with its index in <see cref="Gpu.List"/>.</summary>
    public static string NameOf(DeviceInfo info) => info.Kind == DeviceKind.Cpu ? info.Name : $"#{info.Index} {info.Name}";

    /// <inheritdoc cref="NameOf(DeviceInfo)"/>
    public static string Name(Device d) => NameOf(d.Info);

    /// <summary>The device of a test name: one of <see cref="Devices"/>, or <see cref="GpuShaped"/>.</summary>
    public static Device Get(string name)
    {
        var matches = All.Value.Where(e => e.Name == name).Select(e => e.Device).ToList();
        if (matches.Count == 0 && name == Name(GpuShaped)) return GpuShaped;
        if (matches.Count == 0 && name == Name(WideGpuShaped)) return WideGpuShaped;
        return matches.Count == 1 ? matches[0] : throw new ArgumentException($"{matches.Count} test devices are named '{name}'");
    }

    /// <summary>The CPU accelerator used by the training tests.</summary>
    public static Device Cpu => All.Value[0].Device;

    /// <summary>A CPU accelerator shaped like a GPU (warp 32, 256 threads a group), for the kernels
    /// whose group shape is fixed for GPUs (64×64 GEMM tile, 32×8 reductions).</summary>
    public static Device GpuShaped => GpuShapedCpu.Value;

    /// <summary>A CPU accelerator shaped like a GPU with 1024-thread groups (warp 32), for the kernels GpuNet picks
    /// only where groups may be that large (the 8×128 reductions). Each of its groups runs 1024 OS threads: only small
    /// reductions run on it.</summary>
    public static Device WideGpuShaped => WideGpuShapedCpu.Value;

    /// <summary>A new small CPU accelerator (2 threads a warp × 2 warps, one multiprocessor) whose GEMMs all run
    /// <paramref name="variant"/>: a GPU kernel family run on the CPU. Each caller keeps its own, so that the launch
    /// counts and kernels it reads are its tests' alone.</summary>
    public static Device PinnedCpu(GemmVariant variant)
    {
        var d = Gpu.OpenCpu(2, 2, 1);
        d.Gemm.Pin = variant;
        return d;
    }

    private static IReadOnlyList<(string, Device)> Open()
    {
        var list = new List<Device> { Gpu.OpenCpu(2, 2, 2) };
        foreach (var info in Gpu.List())
            if (info.Kind != DeviceKind.Cpu)
                list.Add(Gpu.Open(info.Index.ToString()));
        return list.Select(d => (Name(d), d)).ToList();
    }
}
