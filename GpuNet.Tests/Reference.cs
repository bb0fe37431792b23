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

    public static double Activate(Model.Activation act, double a) => act switch
    {
        Model.Activation.Identity => a,
        Model.Activation.Logistic => 1.0 / (1.0 + Math.Exp(-a)),
        Model.Activation.Tanh => Math.Tanh(a),
        Model.Activation.Relu => Math.Max(0.0, a),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>σ'(a), from a (not from the output), so it is independent of the kernels' formulation.</summary>
    public static double Derivative(Model.Activation act, double a) => act switch
    {
        Model.Activation.Identity => 1.0,
        Model.Activation.Logistic => Math.Exp(-a) / ((1.0 + Math.Exp(-a)) * (1.0 + Math.Exp(-a))),
        Model.Activation.Tanh => 1.0 / (Math.Cosh(a) * Math.Cosh(a)),
        Model.Activation.Relu => a > 0 ? 1.0 : 0.0,
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };
}
