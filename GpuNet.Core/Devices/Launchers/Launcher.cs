using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>What every family's launcher shares: the device, its loaded kernels, the launch counter and the shape of a
/// grid-stride launch over n elements.</summary>
public abstract class Launcher
{
    private readonly int linearGroup, linearMaxGrid;

    private protected Launcher(Device device)
    {
        Device = device;
        var acc = device.Accelerator;
        // On the CPU accelerator: few, small groups, since it pays per group and per thread of a group.
        linearGroup = Math.Min(acc.MaxNumThreadsPerGroup, device.IsCpu ? 4 : 256);
        linearMaxGrid = device.IsCpu ? acc.NumMultiprocessors : acc.NumMultiprocessors * 32;
    }

    /// <summary>The device launched on.</summary>
    private protected Device Device { get; }

    private protected Accelerator Accelerator => Device.Accelerator;

    /// <summary>The typed launcher of <paramref name="kernel"/> on this device, compiled on first use.</summary>
    private protected TLauncher Kernel<TLauncher>(KernelEntry<TLauncher> kernel) where TLauncher : Delegate => Device.Load(kernel);

    /// <summary>Counts a launch of <paramref name="kernel"/> and returns <paramref name="config"/>.</summary>
    private protected KernelConfig Count(string kernel, KernelConfig config)
    {
        Device.Counters.Launched(kernel);
        return config;
    }

    /// <summary>Sizes the element-wise kernels follow with 32-bit coordinates (<see cref="Kernels.IndexWalk"/>) stay
    /// below this.</summary>
    private protected const int MaxIndexSize = 1 << 30;

    /// <summary>Refuses a size at or above <see cref="MaxIndexSize"/>, naming the kernel, the size and its value.</summary>
    private protected static void CheckIndexSize(string kernel, string what, long value)
    {
        if (value >= MaxIndexSize)
            throw new ArgumentException($"{kernel}: {what} is {value}; the kernel takes at most {MaxIndexSize - 1}");
    }

    /// <summary>A counted grid-stride launch over <paramref name="n"/> elements (any 1-D grid and group).</summary>
    private protected KernelConfig Linear(string kernel, long n)
    {
        long groups = Math.Clamp((n + linearGroup - 1) / linearGroup, 1, linearMaxGrid);
        return Count(kernel, new KernelConfig((int)groups, linearGroup));
    }
}
