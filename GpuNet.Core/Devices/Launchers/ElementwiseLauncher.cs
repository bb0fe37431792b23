using GpuNet.Kernels;
using ILGPU;

namespace GpuNet.Devices;

/// <summary>Launches the layers' element-wise kernels (<see cref="Activations"/>).
/// Shapes: z and delta are [R, B, O]; parameters is the flat [R, P] buffer.</summary>
public sealed class ElementwiseLauncher : Launcher
{
    internal ElementwiseLauncher(Device device) : base(device) { }

    /// <summary>In place z[r,b,o] ← σ(z[r,b,o] + bias_r[o]) over z's whole length (r = i / (rows·width)).</summary>
    public void BiasActivate(Activation act, ArrayView<float> z, ArrayView<float> parameters, long biasOffset,
        long paramStride, int rowsPerNet, int width)
    {
        if (z.Length == 0) return;
        long nets = z.Length / ((long)rowsPerNet * width);
        if (nets * rowsPerNet * width != z.Length)
            throw new ArgumentException($"z holds {z.Length} elements, not a multiple of rows {rowsPerNet} × width {width}");
        if ((nets - 1) * paramStride + biasOffset + width > parameters.Length)
            throw new ArgumentException("bias lies outside the parameter buffer");
        CheckIndexSize("bias + activation", "the width", width);
        CheckIndexSize("bias + activation", "the rows per network", rowsPerNet);
        var k = KernelRegistry.BiasActivate[act];
        Kernel(k)(Linear(k.Name, z.Length), z, parameters, biasOffset, paramStride, rowsPerNet, width);
    }

    /// <summary>In place delta[i] ← delta[i] · σ'(z[i]) for i &lt; n (nothing to do for identity, σ' = 1).</summary>
    public void ActivationBackward(Activation act, ArrayView<float> delta, ArrayView<float> z, long n)
    {
        if (n == 0 || act == Activation.Identity) return;
        if (delta.Length < n || z.Length < n) throw new ArgumentException($"activation backward over {n} elements: buffers hold {delta.Length} and {z.Length}");
        var k = KernelRegistry.Backward[act];
        Kernel(k)(Linear(k.Name, n), delta, z, n);
    }

    /// <summary>In place z[i] ← σ(z[i]) for i &lt; n.</summary>
    public void Apply(Activation act, ArrayView<float> z, long n)
    {
        if (n == 0 || act == Activation.Identity) return;
        if (z.Length < n) throw new ArgumentException($"activation over {n} elements: buffer holds {z.Length}");
        var k = KernelRegistry.Apply[act];
        Kernel(k)(Linear(k.Name, n), z, n);
    }

    /// <summary>In place row-wise softmax of a [rows, width] matrix.</summary>
    public void SoftmaxRows(ArrayView<float> z, long rows, int width)
    {
        if (rows == 0) return;
        if (z.Length < rows * width) throw new ArgumentException($"softmax over {rows}×{width}: buffer holds {z.Length}");
        var k = KernelRegistry.SoftmaxRows;
        Kernel(k)(Linear(k.Name, rows), z, rows, width);
    }
}
