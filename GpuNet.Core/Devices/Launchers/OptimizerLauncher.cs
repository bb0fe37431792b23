using GpuNet.Kernels;
using ILGPU;

namespace GpuNet.Devices;

/// <summary>Launches the optimizer kernels (<see cref="Optimizers"/>): one launch over the flat [R, P] parameters.</summary>
public sealed class OptimizerLauncher : Launcher
{
    internal OptimizerLauncher(Device device) : base(device) { }

    /// <summary>w ← w − η(g + λw), masked entries set to 0.</summary>
    public void Sgd(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, in OptimizerStep s)
    {
        Check(w, g, mask, s);
        var k = KernelRegistry.Sgd;
        Kernel(k)(Linear(k.Name, w.Length), w, g, mask, s);
    }

    /// <summary>Momentum (or Nesterov) step; see <see cref="Optimizers.Momentum"/>.</summary>
    public void Momentum(ArrayView<float> w, ArrayView<float> g, ArrayView<float> v, ArrayView<float> mask, in OptimizerStep s)
    {
        Check(w, g, mask, s);
        if (v.Length != w.Length) throw new ArgumentException("momentum buffer differs in length from the parameters");
        var k = KernelRegistry.Momentum;
        Kernel(k)(Linear(k.Name, w.Length), w, g, v, mask, s);
    }

    /// <summary>Adam / AdamW step; see <see cref="Optimizers.Adam"/>.</summary>
    public void Adam(ArrayView<float> w, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> mask, in OptimizerStep s)
    {
        Check(w, g, mask, s);
        if (m.Length != w.Length || v.Length != w.Length) throw new ArgumentException("Adam moment buffers differ in length from the parameters");
        var k = KernelRegistry.Adam;
        Kernel(k)(Linear(k.Name, w.Length), w, g, m, v, mask, s);
    }

    /// <summary>Sets the entries of missing edges to 0 in a flat [R, P] gradient buffer (mask [P]); see <see cref="Optimizers.ZeroMasked"/>.</summary>
    public void ZeroMasked(ArrayView<float> g, ArrayView<float> mask, long paramsPerNet)
    {
        if (paramsPerNet <= 0 || g.Length % paramsPerNet != 0) throw new ArgumentException($"gradients ({g.Length}) are not a whole number of networks of {paramsPerNet}");
        if (mask.Length != paramsPerNet) throw new ArgumentException($"mask holds {mask.Length} entries, a network {paramsPerNet}");
        CheckIndexSize("zero masked", "the parameters per network", paramsPerNet);
        var k = KernelRegistry.ZeroMasked;
        Kernel(k)(Linear(k.Name, g.Length), g, mask, paramsPerNet);
    }

    private static void Check(ArrayView<float> w, ArrayView<float> g, ArrayView<float> mask, in OptimizerStep s)
    {
        if (g.Length != w.Length) throw new ArgumentException($"gradient holds {g.Length} elements, parameters {w.Length}");
        if (s.ParamsPerNet <= 0 || w.Length % s.ParamsPerNet != 0) throw new ArgumentException($"parameters ({w.Length}) are not a whole number of networks of {s.ParamsPerNet}");
        if (s.HasMask != 0 && mask.Length != s.ParamsPerNet) throw new ArgumentException($"mask holds {mask.Length} entries, a network {s.ParamsPerNet}");
        CheckIndexSize("optimizer", "the parameters per network", s.ParamsPerNet);
    }
}
