using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>
/// The step with the element-wise work fused into the GEMMs, 2·L + 2 launches for L layers: per layer one GEMM whose
/// epilogue adds the bias and applies σ, the first reading the batch's rows through the epoch's order (no gather);
/// one loss kernel for the loss, δ_L, hits, the epoch's sums and the divergence flag; per layer above the first one
/// launch for both dW (the bias gradient summed as its epilogue) and δ_{l−1} = (δ_l·W_l) ⊙ σ'; one for the first
/// layer's dW; one optimizer kernel over the flat parameters. On the CPU accelerator it computes what
/// <see cref="LayeredStep"/> computes, in the same order, so both give the same bits.
/// </summary>
public sealed class FusedStep : DeviceStep
{
    private readonly LossFunction loss;

    /// <summary>Buffers for steps of <paramref name="batchSize"/> rows (1 ≤ batch ≤ the data's rows) of every restart of
    /// <paramref name="network"/> on <paramref name="data"/>, updating with <paramref name="optimizer"/> (which the caller
    /// owns).</summary>
    public FusedStep(Network network, DeviceDataset data, LossFunction loss, IOptimizer optimizer, int batchSize)
        : base(CheckLastLayer(network, loss), data, optimizer, batchSize) => this.loss = loss;

    // Before the base allocates anything.
    private static Network CheckLastLayer(Network network, LossFunction loss)
    {
        ArgumentNullException.ThrowIfNull(network);
        loss.CheckLastLayer(network.Spec.Layers[^1].Activation);
        return network;
    }

    /// <summary>Device bytes a fused step allocates (the optimizer's moments not included).</summary>
    public static long Bytes(NetworkLayout layout, int restarts, int rows, int batchSize) => SharedBytes(layout, restarts, rows, batchSize);

    /// <summary>Kernel launches a step takes for a network of <paramref name="layers"/> layers.</summary>
    public static int LaunchesPerStep(int layers) => 2 * layers + 2;

    /// <inheritdoc/>
    public override string Name => "fused";

    private protected override void Gradients(int start, int rows, long step, float gradScale)
    {
        // The batch's rows: through the epoch's order, or a run of the data in its own order.
        var batch = Order.Batch(start);
        Forward.RunFused(Net.Parameters, Data.Features, batch, rows);
        DeviceSums.AddFused(loss, Net.Spec.Layers[^1].Activation, Forward.Output(rows), Backward.Delta(Net.Spec.Layers.Count, rows),
            Data.Targets, Data.TargetStride, batch, rows, Data.IsClassification, step, gradScale);
        Backward.RunFused(Net.Parameters, Forward, Data.Features, batch, rows);
    }
}
