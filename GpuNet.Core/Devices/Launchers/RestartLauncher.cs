using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Launches the fused restarts kernels (<see cref="Restarts"/>): S training steps of every restart in one
/// launch.</summary>
public sealed class RestartLauncher : Launcher
{
    internal RestartLauncher(Device device) : base(device) { }

    /// <summary>Lanes that share one restart in the warp form: the device's warp; 0 when its size is not a power of two.</summary>
    public int Lanes => Accelerator.WarpSize is > 0 and var w && (w & (w - 1)) == 0 ? w : 0;

    /// <summary>Runs <see cref="RestartArgs.Steps"/> steps of every restart with the kernel of shape
    /// <paramref name="shape"/>, <paramref name="rule"/> and <paramref name="form"/>.</summary>
    /// <exception cref="ArgumentException">No such kernel, or the arguments do not fit each other.</exception>
    public void Train(int shape, RestartRule rule, RestartForm form, RestartArgs a)
    {
        var k = KernelRegistry.Restarts[shape, rule, form]
            ?? throw new ArgumentException($"no {form} kernel for restart shape {string.Join("-", RestartNetworks.Shapes[shape])} with {rule}");
        Check(a, RestartLimits.Moments(rule));
        if (a.Restarts == 0 || a.Steps == 0) return;
        if (form == RestartForm.ThreadPerRestart)
        {
            Kernel(k)(Linear(k.Name, a.Restarts), a);
            return;
        }
        int lanes = Lanes;
        if (lanes == 0) throw new ArgumentException($"the warp form needs a power-of-two warp size; this device's is {Accelerator.WarpSize}");
        a.LaneShift = System.Numerics.BitOperations.Log2((uint)lanes);
        Kernel(k)(WarpConfig(k.Name, (long)a.Restarts * lanes), a);
    }

    /// <summary>Groups of whole warps: 256 threads on a GPU, one warp on the CPU accelerator (each thread of a group is
    /// an OS thread there).</summary>
    private KernelConfig WarpConfig(string kernel, long threads)
    {
        int warp = Accelerator.WarpSize;
        int group = Device.IsCpu ? warp : Math.Max(warp, Math.Min(Accelerator.MaxNumThreadsPerGroup, 256) / warp * warp);
        long maxGroups = Device.IsCpu ? Accelerator.NumMultiprocessors : Accelerator.NumMultiprocessors * 32L;
        long groups = Math.Clamp((threads + group - 1) / group, 1, maxGroups);
        return Count(kernel, new KernelConfig((int)groups, group));
    }

    private static void Check(in RestartArgs a, int moments)
    {
        long length = (long)a.Restarts * a.ParameterCount;
        if (a.Restarts < 0 || a.ParameterCount < 1 || a.Parameters.Length < length)
            throw new ArgumentException($"{a.Restarts} restarts of {a.ParameterCount} parameters: the parameters hold {a.Parameters.Length}");
        if (moments > 0 && a.First.Length < length || moments > 1 && a.Second.Length < length)
            throw new ArgumentException($"the rule keeps {moments} moment buffers of {length} values; they hold {a.First.Length} and {a.Second.Length}");
        if (a.HasMask != 0 && a.Mask.Length < a.ParameterCount) throw new ArgumentException($"the mask holds {a.Mask.Length} values, a network {a.ParameterCount}");
        if (a.Steps < 0 || a.Schedule.Length < 3L * a.Steps) throw new ArgumentException($"{a.Steps} steps need a schedule of {3L * a.Steps} values; it holds {a.Schedule.Length}");
        if (a.Batch < 1 || a.FirstRow < 0 || a.Steps > 0 && (long)a.FirstRow + (long)(a.Steps - 1) * a.Batch >= a.DataRows)
            throw new ArgumentException($"{a.Steps} steps of {a.Batch} rows from row {a.FirstRow} run past the {a.DataRows} rows");
        if (a.Shuffled != 0 && a.Order.Length < a.DataRows) throw new ArgumentException($"the order lists {a.Order.Length} rows; the data has {a.DataRows}");
        if (a.Features.Length < (long)a.DataRows * a.Width0) throw new ArgumentException($"the features hold {a.Features.Length} values, not {a.DataRows} rows of {a.Width0}");
        long outputs = Restarts.Outputs(a);
        if ((a.Restarts - 1) * a.TargetStride + a.DataRows * outputs > a.Targets.Length)
            throw new ArgumentException($"the targets hold {a.Targets.Length} values; {a.DataRows} rows of {outputs} per restart are needed");
        if (a.LossSums.Length < a.Restarts || a.HitSums.Length < a.Restarts || a.FirstBadSteps.Length < a.Restarts)
            throw new ArgumentException($"the sums hold fewer than the {a.Restarts} restarts");
    }
}
