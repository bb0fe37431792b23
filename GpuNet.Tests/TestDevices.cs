using GpuNet.Devices;
using Xunit;

namespace GpuNet.Tests;

/// <summary>
/// The accelerators every kernel test runs on: the CPU accelerator always (a small shape, 2 threads a
/// warp × 2 warps × 2 multiprocessors, so launches stay cheap), plus every CUDA and OpenCL device the
/// machine has. Each device is opened once per test process, so its kernels are compiled once.
/// </summary>
public static class TestDevices
{
    private static readonly Lazy<IReadOnlyList<Device>> All = new(Open);
    private static readonly Lazy<Device> GpuShapedCpu = new(() => Gpu.OpenCpu(32, 8, 1));

    public static IReadOnlyList<Device> Devices => All.Value;

    /// <summary>Theory data: one row per device name.</summary>
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var d in Devices) data.Add(d.Info.Name);
        return data;
    }

    public static Device Get(string name) => Devices.First(d => d.Info.Name == name);

    /// <summary>The CPU accelerator used by the training tests.</summary>
    public static Device Cpu => Devices[0];

    /// <summary>A CPU accelerator shaped like a GPU (warp 32, 256 threads a group), for the kernels
    /// whose group shape is fixed for GPUs (64×64 GEMM tile, 32×8 reductions).</summary>
    public static Device GpuShaped => GpuShapedCpu.Value;

    private static IReadOnlyList<Device> Open()
    {
        var list = new List<Device> { Gpu.OpenCpu(2, 2, 2) };
        foreach (var info in Gpu.List())
            if (info.Kind != DeviceKind.Cpu)
                list.Add(Gpu.Open(info.Index.ToString()));
        return list;
    }
}
