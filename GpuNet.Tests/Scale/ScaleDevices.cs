using GpuNet.Devices;

namespace GpuNet.Tests.Scale;

/// <summary>
/// CPU accelerators of one shape (that of <see cref="TestDevices.Cpu"/>, so they run the same kernel variants),
/// opened once per test process: ILGPU opens the CPU device as often as asked, and several of them stand for the GPUs
/// of one machine in the replication tests. The first is <see cref="TestDevices.Cpu"/> itself.
/// </summary>
public static class ScaleDevices
{
    private static readonly Lazy<Device[]> More = new(() => [Gpu.OpenCpu(2, 2, 2), Gpu.OpenCpu(2, 2, 2)]);

    /// <summary>The first <paramref name="count"/> (1 to 3) CPU accelerators.</summary>
    public static IReadOnlyList<Device> Take(int count) => new[] { TestDevices.Cpu }.Concat(More.Value).Take(count).ToArray();
}
