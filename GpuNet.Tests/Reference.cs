namespace GpuNet.Tests;

/// <summary>Plain float64 references for the kernels: never optimised, written to be read.</summary>
public static class Reference
{
    /// <summary>C[z] = α op(A[z]) op(B[z]) + β C[z], same conventions as <see cref="Kernels.GemmArgs"/>.</summary>
    public static double[] Gemm(double[] a, double[] b, double[] c, int batch, int m, int n, int k,
        bool transA, bool transB, int lda, int ldb, int ldc, long strideA, long strideB, long strideC,
        double alpha, double beta)
    {
        var result = (double[])c.Clone();
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = transA ? a[z * strideA + p * lda + i] : a[z * strideA + i * lda + p];
                        double bv = transB ? b[z * strideB + j * ldb + p] : b[z * strideB + p * ldb + j];
                        sum += av * bv;
                    }
                    long ci = z * strideC + i * ldc + j;
                    result[ci] = beta == 0 ? alpha * sum : alpha * sum + beta * c[ci];
                }
        return result;
    }

    public static double Activate(GpuNet.Activation act, double a) => act switch
    {
        GpuNet.Activation.Identity => a,
        GpuNet.Activation.Logistic => 1.0 / (1.0 + Math.Exp(-a)),
        GpuNet.Activation.Tanh => Math.Tanh(a),
        GpuNet.Activation.Relu => Math.Max(0.0, a),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>σ'(a), from a (not from the output), so it is independent of the kernels' formulation.</summary>
    public static double Derivative(GpuNet.Activation act, double a) => act switch
    {
        GpuNet.Activation.Identity => 1.0,
        GpuNet.Activation.Logistic => Math.Exp(-a) / ((1.0 + Math.Exp(-a)) * (1.0 + Math.Exp(-a))),
        GpuNet.Activation.Tanh => 1.0 / (Math.Cosh(a) * Math.Cosh(a)),
        GpuNet.Activation.Relu => a > 0 ? 1.0 : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    // ---------------------------------------------------------------- optimizers (Kernels/Optimizers.cs)
    // One step in place over the flat [R, P] parameters w; mask is [P] (null or hasMask false: no mask).
    // A masked parameter becomes exactly 0 and its moments are left as they are.

    private static bool Masked(float[]? mask, long i, long p) => mask != null && mask[i % p] == 0f;

    /// <summary>w ← w − η (g + λ w).</summary>
    public static void Sgd(double[] w, double[] g, float[]? mask, long p, double lr, double wd)
    {
        for (long i = 0; i < w.Length; i++)
        {
            if (Masked(mask, i, p)) { w[i] = 0; continue; }
            w[i] -= lr * (g[i] + wd * w[i]);
        }
    }

    /// <summary>PyTorch's SGD with momentum μ, dampening 0: b ← μ b + (g + λ w); w ← w − η b, or
    /// w ← w − η ((g + λ w) + μ b) with Nesterov.</summary>
    public static void Momentum(double[] w, double[] g, double[] buf, float[]? mask, long p, double lr, double mu, double wd, bool nesterov)
    {
        for (long i = 0; i < w.Length; i++)
        {
            if (Masked(mask, i, p)) { w[i] = 0; continue; }
            double gi = g[i] + wd * w[i];
            buf[i] = mu * buf[i] + gi;
            w[i] -= lr * (nesterov ? gi + mu * buf[i] : buf[i]);
        }
    }

    /// <summary>Adam with decoupled weight decay (AdamW; λ = 0 is Adam), bias corrections c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ:
    /// m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²; w ← w − η λ w − η (m / c₁) / (√(v / c₂) + ε).</summary>
    public static void Adam(double[] w, double[] g, double[] m, double[] v, float[]? mask, long p, double lr,
        double beta1, double beta2, double eps, double wd, double c1, double c2)
    {
        for (long i = 0; i < w.Length; i++)
        {
            if (Masked(mask, i, p)) { w[i] = 0; continue; }
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            w[i] = w[i] - lr * wd * w[i] - lr * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + eps);
        }
    }
}
