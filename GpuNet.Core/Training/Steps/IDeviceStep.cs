using GpuNet.Compute;
using ILGPU;

namespace GpuNet.Training;

/// <summary>
/// A one-device step (<see cref="LayeredStep"/> or <see cref="FusedStep"/>) as the steps over several devices use it:
/// its gradient half apart from its update, so that a replica can add its slice's gradients to the others' before the
/// update, and its sums on its own device.
/// </summary>
internal interface IDeviceStep : ITrainingStep
{
    /// <summary>The step's sums on its device.</summary>
    LossSums DeviceSums { get; }

    /// <summary>The gradient buffer [R, P] the last <see cref="Gradients"/> filled.</summary>
    ArrayView<float> GradientBuffer { get; }

    /// <summary>A step without its update: the forward pass on <paramref name="rows"/> rows of the epoch's order from
    /// <paramref name="start"/>, the loss added to the sums (step <paramref name="step"/> flagged where a sum turns
    /// non-finite) with δ_L scaled by <paramref name="gradScale"/> (1/rows for the batch mean, 1/B for a slice of a batch
    /// of B rows), and the backward pass into <see cref="GradientBuffer"/>.</summary>
    void Gradients(int start, int rows, long step, float gradScale);
}
