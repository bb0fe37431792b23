using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Launches the loss kernels (<see cref="Losses"/>): per-row loss and δ_L, correct-prediction flags and the
/// divergence flag.</summary>
public sealed class LossLauncher : Launcher
{
    internal LossLauncher(Device device) : base(device) { }

    /// <summary>Mean squared error through the last layer's function (see <see cref="Losses.SquaredError{TAct}"/>).</summary>
    public void SquaredError(Activation lastLayer, in LossArgs a) => Launch(KernelRegistry.SquaredError[lastLayer], a);

    /// <summary>Mean absolute error through the last layer's function (see <see cref="Losses.AbsoluteError{TAct}"/>).</summary>
    public void AbsoluteError(Activation lastLayer, in LossArgs a) => Launch(KernelRegistry.AbsoluteError[lastLayer], a);

    /// <summary>Softmax cross-entropy on logits (see <see cref="Losses.SoftmaxCrossEntropy"/>).</summary>
    public void SoftmaxCrossEntropy(in LossArgs a) => Launch(KernelRegistry.SoftmaxCrossEntropy, a);

    /// <summary>Logistic binary cross-entropy on logits (see <see cref="Losses.BinaryCrossEntropy"/>).</summary>
    public void BinaryCrossEntropy(in LossArgs a) => Launch(KernelRegistry.BinaryCrossEntropy, a);

    private void Launch(KernelEntry<Action<KernelConfig, LossArgs>> k, in LossArgs a)
    {
        long rows = (long)a.Restarts * a.Rows;
        if (rows == 0) return;
        long n = rows * a.Width;
        if (a.Output.Length < n || a.Delta.Length < n || a.RowLoss.Length < rows)
            throw new ArgumentException($"loss over {a.Restarts}×{a.Rows}×{a.Width}: output {a.Output.Length}, delta {a.Delta.Length}, row loss {a.RowLoss.Length} elements");
        if ((a.Restarts - 1) * a.TargetStride + (long)a.Rows * a.Width > a.Targets.Length)
            throw new ArgumentException($"targets hold {a.Targets.Length} elements; {a.Rows}×{a.Width} per restart needed");
        CheckIndexSize("loss", "the batch", a.Rows);
        Kernel(k)(Linear(k.Name, rows), a);
    }

    /// <summary>correct[r,b] ← 1 where the prediction matches the target, else 0 (see <see cref="Losses.Correct"/>).</summary>
    public void Correct(ArrayView<float> output, ArrayView<float> targets, ArrayView<float> hits,
        int networks, int rows, int width, long targetStride, float threshold)
    {
        long n = (long)networks * rows;
        if (n == 0) return;
        if (hits.Length < n || output.Length < n * width)
            throw new ArgumentException("correct: buffers too small");
        CheckIndexSize("correct", "the batch", rows);
        var k = KernelRegistry.Correct;
        Kernel(k)(Linear(k.Name, n), output, targets, hits, networks, rows, width, targetStride, threshold);
    }

    /// <summary>firstBad[r] ← step where sums[r] is not finite and no step was recorded yet (see <see cref="Losses.FlagNonFinite"/>).</summary>
    public void FlagNonFinite(ArrayView<double> sums, ArrayView<long> firstBad, long step)
    {
        if (sums.Length == 0) return;
        if (firstBad.Length < sums.Length) throw new ArgumentException("flag buffer shorter than the sums");
        var k = KernelRegistry.FlagNonFinite;
        Kernel(k)(Linear(k.Name, sums.Length), sums, firstBad, step);
    }
}
