using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Which kernel computes the fused step's loss.</summary>
public enum StepLossVariant
{
    /// <summary>Grouped on GPUs, one thread per restart on the CPU accelerator.</summary>
    Auto,
    /// <summary>One thread per restart, rows in order, no barriers (<see cref="StepLoss.PerRestart{TRow}"/>).</summary>
    PerRestart,
    /// <summary>One group of 128 threads per restart, rows on threads (<see cref="StepLoss.Grouped{TRow, TGroup}"/>).</summary>
    Grouped,
}

/// <summary>Launches the fused step's loss (<see cref="StepLoss"/>): loss, δ_L, hits, the epoch's sums and the divergence
/// flag in one launch.</summary>
public sealed class StepLossLauncher : Launcher
{
    internal StepLossLauncher(Device device) : base(device) =>
        DefaultVariant = device.IsCpu || device.Accelerator.MaxNumThreadsPerGroup < 128 ? StepLossVariant.PerRestart : StepLossVariant.Grouped;

    /// <summary>The variant <see cref="StepLossVariant.Auto"/> resolves to on this device.</summary>
    public StepLossVariant DefaultVariant { get; }

    /// <summary>Enqueues the loss <paramref name="loss"/> of a network whose last layer applies <paramref name="lastLayer"/>.</summary>
    public void Run(LossFunction loss, Activation lastLayer, in StepLossArgs a, StepLossVariant variant = StepLossVariant.Auto)
    {
        loss.CheckLastLayer(lastLayer);
        Check(a);
        if (a.Restarts == 0 || a.Rows == 0) return;
        bool grouped = (variant == StepLossVariant.Auto ? DefaultVariant : variant) == StepLossVariant.Grouped;
        var k = Kernel(loss, lastLayer, grouped);
        var config = grouped
            ? Count(k.Name, new KernelConfig(Math.Min(a.Restarts, Accelerator.NumMultiprocessors * 16), default(StepLossGroup128).Threads))
            : Linear(k.Name, a.Restarts);
        Kernel(k)(config, a);
    }

    private static KernelEntry<Action<KernelConfig, StepLossArgs>> Kernel(LossFunction loss, Activation lastLayer, bool grouped) => loss switch
    {
        LossFunction.MeanSquaredError => grouped ? KernelRegistry.StepSquaredErrorGrouped[lastLayer] : KernelRegistry.StepSquaredError[lastLayer],
        LossFunction.MeanAbsoluteError => grouped ? KernelRegistry.StepAbsoluteErrorGrouped[lastLayer] : KernelRegistry.StepAbsoluteError[lastLayer],
        LossFunction.CrossEntropy => grouped ? KernelRegistry.StepCrossEntropyGrouped : KernelRegistry.StepCrossEntropy,
        LossFunction.BinaryCrossEntropy => grouped ? KernelRegistry.StepBinaryCrossEntropyGrouped : KernelRegistry.StepBinaryCrossEntropy,
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "unknown loss"),
    };

    private static void Check(in StepLossArgs a)
    {
        long n = (long)a.Restarts * a.Rows * a.Width;
        if (a.Restarts < 0 || a.Rows < 0 || a.Width < 1) throw new ArgumentException($"step loss over {a.Restarts}×{a.Rows}×{a.Width}");
        if (a.Output.Length < n || a.Delta.Length < n)
            throw new ArgumentException($"step loss over {a.Restarts}×{a.Rows}×{a.Width}: output {a.Output.Length}, delta {a.Delta.Length} elements");
        if (a.LossSum.Length < a.Restarts || a.HitSum.Length < a.Restarts || a.FirstBad.Length < a.Restarts)
            throw new ArgumentException($"step loss: sums for {a.Restarts} restarts needed");
        if (a.FirstRow < 0 || a.Gathered != 0 && a.FirstRow + a.Rows > a.Order.Length)
            throw new ArgumentException($"step loss: rows {a.FirstRow}..{a.FirstRow + a.Rows} outside the {a.Order.Length} of the order");
        long dataRows = (a.Targets.Length - (a.Restarts - 1) * a.TargetStride) / a.Width;
        if (a.Gathered == 0 && a.FirstRow + a.Rows > dataRows)
            throw new ArgumentException($"step loss: rows {a.FirstRow}..{a.FirstRow + a.Rows} outside the {dataRows} target rows");
    }
}
