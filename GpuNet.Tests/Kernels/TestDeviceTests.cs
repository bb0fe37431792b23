using GpuNet.Devices;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>The device names the kernel theories are keyed by must pick out one device each.</summary>
public class TestDeviceTests
{
    [Fact]
    public void TwoIdenticalGpusGetDistinctNamesAndCpuNamesAreKept()
    {
        var gpu = new DeviceInfo(1, DeviceKind.Cuda, "NVIDIA H200", 1L << 37, 32, 1024, 132);
        var twin = gpu with { Index = 2 };
        Assert.NotEqual(TestDevices.NameOf(gpu), TestDevices.NameOf(twin));
        Assert.Contains("NVIDIA H200", TestDevices.NameOf(gpu));
        var cpu = new DeviceInfo(-1, DeviceKind.Cpu, "CPU accelerator 2x2x2", 1L << 30, 2, 4, 2);
        Assert.Equal("CPU accelerator 2x2x2", TestDevices.NameOf(cpu));
    }

    [Fact]
    public void EveryTestNameResolvesToItsOwnDevice()
    {
        var names = ((IEnumerable<object[]>)TestDevices.Names()).Select(row => (string)row[0]).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(TestDevices.Devices.Count, names.Count);
        for (int i = 0; i < names.Count; i++) Assert.Same(TestDevices.Devices[i], TestDevices.Get(names[i]));
        Assert.Same(TestDevices.GpuShaped, TestDevices.Get(TestDevices.Name(TestDevices.GpuShaped)));
        Assert.Equal("CPU accelerator 2x2x2", TestDevices.Name(TestDevices.Cpu));
    }
}
