namespace GpuNet.Tests;

/// <summary>
/// Every tolerance used against a float64 reference, with its reason. A comparison passes when
/// ‖out − ref‖₂ ≤ Abs + Rel · ‖ref‖₂ (norms over the whole output).
/// </summary>
public static class Tolerances
{
    /// <summary>float32 has a unit round-off u = 2⁻²⁴ ≈ 6e-8.</summary>
    public const double U = 5.96e-8;

    /// <summary>GEMM with inner dimension k: a float32 dot product of length k has a worst-case relative
    /// error of about k·u (typical √k·u); we allow 2·k·u + 1e-6 so any k passes when the kernel is right
    /// while a single wrong or missing term (relative size ~1/k) is far outside.</summary>
    public static double Gemm(int k) => 2.0 * Math.Max(k, 1) * U + 1e-6;

    /// <summary>Element-wise functions (exp, tanh in float32, a few ulps each): 1e-6 relative.</summary>
    public const double ElementWise = 1e-6;

    /// <summary>σ' computed from the float32 output z (as the backward pass does): 1 − z² and z(1 − z) cancel
    /// where σ saturates; for |a| ≤ 4 the worst case is 2u / (1 − tanh²4) ≈ 1e-4 relative, so 2e-4.</summary>
    public const double ActivationDerivative = 2e-4;

    /// <summary>Sums accumulated in float64: only the float32 inputs' rounding remains: 1e-6.</summary>
    public const double Reduction = 1e-6;

    /// <summary>Losses: float32 exp/log/sums over O outputs: 1e-5 relative.</summary>
    public const double Loss = 1e-5;

    /// <summary>Whole-network gradients (float32 device vs float64 reference) through a few layers of
    /// small GEMMs and transcendental functions: 1e-4 relative (measured errors are ~1e-6; a wrong
    /// term in any layer gives errors above 1e-2).</summary>
    public const double NetworkGradient = 1e-4;

    /// <summary>Central finite differences in float64 with h = 1e-6: truncation O(h²) and round-off
    /// O(ε/h) ≈ 1e-10 relative; 1e-6 separates them cleanly from any real mistake.</summary>
    public const double FiniteDifference = 1e-6;

    /// <summary>Two float32 training runs that must agree (side by side vs one at a time, batch 1 vs N):
    /// the same operations in a possibly different order, so differences of a few ulps that training
    /// amplifies mildly over the steps: 1e-4 relative.</summary>
    public const double SameTraining = 1e-4;

    /// <summary>The per-restart step's warp form against the layered step, up to 100 steps: 1e-5 relative. The lanes
    /// sum a step's rows as a tree instead of in order, which moves each gradient sum by a few ulps (at most B·u), and
    /// training carries that along (measured: at most 1.3e-7 after 100 steps of SGD, momentum and Adam); a row or lane
    /// left out or counted twice is off by about 1/B. (The thread form needs no tolerance on the CPU accelerator: it
    /// performs the layered step's float operations in the same order, and that device does not fuse a·b + c, so the
    /// bits agree; a GPU fuses multiply-adds differently in the two kernels, so there it is held to
    /// <see cref="SameTraining"/>.)</summary>
    public const double PerRestartWarp = 1e-5;

    /// <summary>The fused restarts kernel (float32) against its float64 reference (<c>RestartReference</c>): 1e-6
    /// relative after 1 step, 1e-5 after 20. A step's sums are a few terms long (~10u each) and the update passes the
    /// gradient's rounding on scaled by η; each step then starts from the last one's rounded weights (measured: at most
    /// 3.8e-8 after 1 step and 1.7e-7 after 20, in both forms); a wrong term or a missed row is off by 1e-2 or more.</summary>
    public static double RestartReference(int steps) => steps <= 1 ? 1e-6 : 1e-5;

    /// <summary>Training on several replicas against one device with the same global batch: each weight's gradient
    /// sums the same products, only in another order (each replica sums its slice of rows, then the slices are added),
    /// a relative difference of about B·u per step that training carries forward and mildly amplifies: 1e-4 relative,
    /// as for <see cref="SameTraining"/>. A replica taking a wrong slice, or scaling by its own rows instead of the
    /// batch's, is off by tens of percent.</summary>
    public const double Replicated = SameTraining;

    /// <summary>An exported ONNX model run by ONNX Runtime against `gpunet predict` on the same rows, per value:
    /// |onnx − predict| ≤ 1e-5 · max(1, |predict|). Both compute in float32, in different orders (MLAS's GEMM blocks vs
    /// GpuNet's kernels) and with different exp/tanh, so each value differs by a few ulps of the layer sums it comes
    /// from: ~1e-6 for these widths (≤ 64 inputs). Probabilities are ≤ 1, so for them the bound is absolute.</summary>
    public const double Onnx = 1e-5;

    /// <summary>Relative error ‖a − b‖₂ / ‖b‖₂ (‖b‖ floored at 1e-30).</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> reference)
    {
        if (actual.Length != reference.Length) throw new ArgumentException($"lengths differ: {actual.Length} vs {reference.Length}");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            if (double.IsNaN(d)) return double.PositiveInfinity;
            num += d * d;
            den += reference[i] * reference[i];
        }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), 1e-30);
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> reference, double tolerance, string what)
    {
        double err = RelativeError(actual, reference);
        Xunit.Assert.True(err <= tolerance, $"{what}: relative error {err:E3} > tolerance {tolerance:E3}");
    }

    /// <summary>‖actual − reference‖₂ ≤ abs + rel · ‖reference‖₂: for results that may cancel (a − b with a ≈ b), whose
    /// float32 rounding is relative to the operands' size rather than to the result's.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> reference, double rel, double abs, string what)
    {
        if (actual.Length != reference.Length) throw new ArgumentException($"lengths differ: {actual.Length} vs {reference.Length}");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            num += double.IsNaN(d) ? double.PositiveInfinity : d * d;
            den += reference[i] * reference[i];
        }
        double err = Math.Sqrt(num), bound = abs + rel * Math.Sqrt(den);
        Xunit.Assert.True(err <= bound, $"{what}: error {err:E3} > {abs:E3} + {rel:E3} · ‖reference‖ = {bound:E3}");
    }
}
