using GpuNet.Model;

namespace GpuNet.Bench;

/// <summary>The measured cases, shared by the BenchmarkDotNet suites, the quick report and compare_pytorch.py
/// (which mirrors them by name).</summary>
public static class Cases
{
    /// <summary>A GEMM shape: C[M×N] = op(A)·op(B) with inner dimension K; FLOPs 2·M·N·K.</summary>
    public sealed record GemmCase(string Name, int M, int N, int K, bool TransA, bool TransB)
    {
        public double Flop => 2.0 * M * N * K;
        public override string ToString() => Name;
    }

    /// <summary>MLP shapes (forward Z·Wᵀ, backward δᵀ·Z and δ·W of 784-256-128-10 at batch 128 and 1024) and squares.</summary>
    public static IReadOnlyList<GemmCase> Gemm { get; } = BuildGemm();

    private static List<GemmCase> BuildGemm()
    {
        var list = new List<GemmCase>();
        foreach (int b in new[] { 128, 1024 })
            foreach (var (i, o) in new[] { (784, 256), (256, 128), (128, 10) })
            {
                list.Add(new GemmCase($"fwd b{b} {i}->{o}", b, o, i, false, true));       // Z·Wᵀ
                list.Add(new GemmCase($"dW b{b} {i}->{o}", o, i, b, true, false));        // δᵀ·Z
                if (i != 784) list.Add(new GemmCase($"dX b{b} {i}->{o}", b, i, o, false, false)); // δ·W
            }
        foreach (int s in new[] { 512, 1024, 2048, 4096 })
            list.Add(new GemmCase($"square {s}", s, s, s, false, false));
        return list;
    }

    /// <summary>One training step (gather, forward, loss, backward, update) of a network.</summary>
    public sealed record StepCase(string Name, NetworkSpec Spec, int Batch, int Restarts, bool Classification)
    {
        /// <summary>FLOPs of the step's GEMMs: per layer 2·B·I·O forward, 2·B·I·O for dW, and 2·B·I·O for δ
        /// below the first layer; times the restarts.</summary>
        public double Flop
        {
            get
            {
                double f = 0;
                for (int l = 1; l <= Spec.Layers.Count; l++)
                    f += 2.0 * Batch * Spec.InputWidth(l) * Spec.Layers[l - 1].Size * (l == 1 ? 2 : 3);
                return f * Restarts;
            }
        }

        public override string ToString() => Name;
    }

    /// <summary>The seed's running example: 1-2-2-1, logistic, the edge 3 → 7 missing (12 weights).</summary>
    public static NetworkSpec SeedNetwork()
    {
        var mask = new bool[2, 2] { { true, true }, { false, true } };
        return new NetworkSpec(1, [new LayerSpec(2, Activation.Logistic), new LayerSpec(2, Activation.Logistic, mask), new LayerSpec(1, Activation.Logistic)]);
    }

    public static IReadOnlyList<StepCase> Steps { get; } =
    [
        new("mlp 784-256-128-10 b128", NetworkSpec.Dense([784, 256, 128, 10], Activation.Relu, Activation.Identity), 128, 1, true),
        new("mlp 784-256-128-10 b1024", NetworkSpec.Dense([784, 256, 128, 10], Activation.Relu, Activation.Identity), 1024, 1, true),
        new("wide 784-4x1024-10 b1024", NetworkSpec.Dense([784, 1024, 1024, 1024, 1024, 10], Activation.Relu, Activation.Identity), 1024, 1, true),
        // The seed network has one input, so its XOR is the 1-D one: x = 0, 1/3, 2/3, 1 → y = 0, 1, 1, 0.
        new("seed 12-weight x1000 restarts b4", SeedNetwork(), 4, 1000, false),
    ];
}
