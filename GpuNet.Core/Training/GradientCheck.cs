using GpuNet.Data;
using GpuNet.Model;

namespace GpuNet.Training;

/// <summary>How <see cref="GradientCheck"/> compares.</summary>
public sealed record GradientCheckOptions
{
    /// <summary>The tolerance for a float32 device gradient: 1e-4 relative per tensor. The device's float32 arithmetic
    /// through a few layers gives about 1e-6; a wrong or missing term in any layer gives 1e-2 or more.</summary>
    public const double DeviceTolerance = 1e-4;

    /// <summary>h of the central difference (f(p + h) − f(p − h)) / 2h: its truncation error is O(h²) ≈ 1e-12 and its
    /// float64 round-off about ε·|ℓ|/h ≈ 1e-10, both far below a float32 gradient's own error.</summary>
    public double Step { get; init; } = 1e-6;

    /// <summary>Largest relative error a tensor may have (see <see cref="TensorCheck.RelativeError"/>).</summary>
    public double Tolerance { get; init; } = DeviceTolerance;

    /// <summary>Entries checked per tensor, evenly spread over it; 0 checks every entry. Finite differences cost two
    /// loss evaluations an entry, so a large network is checked on a sample.</summary>
    public int EntriesPerTensor { get; init; }
}

/// <summary>The comparison of one parameter tensor, named as in model files (<c>layers.{i}.weight</c> [out, in],
/// <c>layers.{i}.bias</c> [out]).</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Checked">Entries compared (missing edges of a masked layer are never compared).</param>
/// <param name="Skipped">Entries left out because a ReLU pre-activation or (mae) an output's error changed sign
/// within ±h, where a difference quotient is no derivative.</param>
/// <param name="RelativeError">‖g − fd‖₂ / ‖fd‖₂ over the checked entries, g the gradient under test and fd the
/// finite differences; the denominator is floored at the differences' own round-off, 1e-10·(1 + |ℓ|)·√n, so a tensor
/// whose gradient is zero compares on that scale.</param>
/// <param name="WorstIndex">Row-major index in the tensor of the entry with the largest |g − fd|, or −1 when none was checked.</param>
/// <param name="WorstGradient">g at that entry.</param>
/// <param name="WorstFiniteDifference">fd at that entry.</param>
public sealed record TensorCheck(string Name, int[] Shape, int Checked, int Skipped, double RelativeError, long WorstIndex,
    double WorstGradient, double WorstFiniteDifference)
{
    /// <summary>The worst entry as an index into <see cref="Shape"/>, "[j, i]" or "[j]".</summary>
    public string WorstEntry => WorstIndex < 0 ? "-"
        : Shape.Length == 2 ? $"[{WorstIndex / Shape[1]}, {WorstIndex % Shape[1]}]" : $"[{WorstIndex}]";
}

/// <summary>The result of a gradient check.</summary>
/// <param name="Loss">The loss as the gradient's producer reported it (the device's float32 loss), or NaN when not given.</param>
/// <param name="Float64Loss">The same loss in float64 on the host.</param>
/// <param name="Rows">Rows the loss is the mean over.</param>
/// <param name="Tensors">One entry per parameter tensor, in layer order, weight before bias.</param>
/// <param name="Tolerance">The tolerance the tensors were held to.</param>
public sealed record GradientCheckReport(double Loss, double Float64Loss, int Rows, IReadOnlyList<TensorCheck> Tensors, double Tolerance)
{
    /// <summary>The largest relative error of any tensor.</summary>
    public double WorstRelativeError => Tensors.Where(t => t.Checked > 0).Select(t => t.RelativeError).DefaultIfEmpty(double.NaN).Max();

    /// <summary>True when some entry was compared and every tensor is within <see cref="Tolerance"/>.</summary>
    public bool Passed => Tensors.Any(t => t.Checked > 0) && Tensors.All(t => t.RelativeError <= Tolerance);
}

/// <summary>
/// Checks a gradient of the loss against central finite differences (ℓ(p + h) − ℓ(p − h)) / 2h of the same loss
/// computed in float64 on the host: the check the tests make of the backward pass, for users too (<c>gpunet gradcheck</c>).
/// </summary>
public static class GradientCheck
{
    /// <summary>Compares <paramref name="gradient"/> with finite differences of the mean <paramref name="loss"/> over
    /// the rows, for a network of <paramref name="spec"/> with <paramref name="parameters"/>.</summary>
    /// <param name="spec">The network.</param>
    /// <param name="parameters">Its flat parameters [P].</param>
    /// <param name="loss">The loss.</param>
    /// <param name="features">Inputs [B, I] as the network takes them (standardised where the model is).</param>
    /// <param name="targets">Targets [B, O].</param>
    /// <param name="rows">B.</param>
    /// <param name="gradient">∂ℓ/∂p under test [P].</param>
    /// <param name="reportedLoss">The loss reported with the gradient, shown beside the float64 one (NaN: none).</param>
    /// <param name="options">Step, tolerance and sample size; null for the defaults.</param>
    public static GradientCheckReport Compare(NetworkSpec spec, ReadOnlySpan<float> parameters, LossFunction loss,
        ReadOnlySpan<float> features, ReadOnlySpan<float> targets, int rows, ReadOnlySpan<double> gradient,
        double reportedLoss = double.NaN, GradientCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new GradientCheckOptions();
        if (!(options.Step > 0) || !(options.Tolerance >= 0) || options.EntriesPerTensor < 0)
            throw new ArgumentException($"gradient check options: step {options.Step} must be > 0, tolerance {options.Tolerance} ≥ 0, " +
                $"entries per tensor {options.EntriesPerTensor} ≥ 0");
        if (gradient.Length != spec.ParameterCount)
            throw new ArgumentException($"a gradient of {gradient.Length} values for a network of {spec.ParameterCount} parameters");
        var f = new Float64Loss(spec, parameters, loss, features, targets, rows);
        var mask = spec.FlatMask();
        var tensors = new List<TensorCheck>();
        for (int l = 1; l <= spec.Layers.Count; l++)
        {
            int size = spec.Layers[l - 1].Size, width = spec.InputWidth(l);
            tensors.Add(Tensor($"layers.{l - 1}.weight", [size, width], spec.WeightOffset(l), f, mask, gradient, options));
            tensors.Add(Tensor($"layers.{l - 1}.bias", [size], spec.BiasOffset(l), f, mask, gradient, options));
        }
        return new GradientCheckReport(reportedLoss, f.Loss, rows, tensors, options.Tolerance);
    }

    /// <summary>Checks the device's gradient (<see cref="Trainer.Gradients(DeviceDataset)"/>, the training step's own
    /// forward and backward pass) of restart <paramref name="restart"/> of <paramref name="network"/> on <paramref name="data"/>.</summary>
    /// <param name="network">The network, on its device.</param>
    /// <param name="data">Rows as the network takes them (standardised where the model is); their targets must suit
    /// <paramref name="loss"/>.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="options">Step, tolerance and sample size; null for the defaults.</param>
    /// <param name="restart">Which of the network's restarts.</param>
    public static GradientCheckReport Run(Network network, Dataset data, LossFunction loss, GradientCheckOptions? options = null, int restart = 0)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if ((uint)restart >= (uint)network.Restarts)
            throw new ArgumentOutOfRangeException(nameof(restart), restart, $"the network has {network.Restarts} restarts");
        OutputPolicy.CheckTargets(loss, data, "the data");
        using var trainer = new Trainer(network, new TrainOptions { Loss = loss });
        using var device = DeviceDataset.Upload(network.Device, data);
        var (deviceLoss, grads) = trainer.Gradients(device);
        var gradient = Array.ConvertAll(grads[restart], v => (double)v);
        return Compare(network.Spec, network.GetParameters(restart), loss, data.Features, data.Targets, data.Count, gradient,
            deviceLoss[restart], options);
    }

    private static TensorCheck Tensor(string name, int[] shape, long offset, Float64Loss f, float[] mask, ReadOnlySpan<double> gradient,
        GradientCheckOptions options)
    {
        long n = shape.Aggregate(1L, (x, d) => x * d);
        var present = new List<long>();
        for (long i = 0; i < n; i++) if (mask[offset + i] != 0f) present.Add(i);
        int take = options.EntriesPerTensor == 0 ? present.Count : Math.Min(present.Count, options.EntriesPerTensor);
        double h = options.Step, num = 0, den = 0, worst = -1, worstG = 0, worstFd = 0;
        long worstIndex = -1;
        int compared = 0, skipped = 0;
        for (int k = 0; k < take; k++)
        {
            long i = present[(int)((long)k * present.Count / take)];
            var (up, kinkUp) = f.Moved(offset + i, h);
            var (down, kinkDown) = f.Moved(offset + i, -h);
            if (kinkUp || kinkDown) { skipped++; continue; }
            double fd = (up - down) / (2 * h), g = gradient[(int)(offset + i)], d = Math.Abs(g - fd);
            num += d * d;
            den += fd * fd;
            compared++;
            if (d > worst || double.IsNaN(d)) (worst, worstIndex, worstG, worstFd) = (double.IsNaN(d) ? double.PositiveInfinity : d, i, g, fd);
        }
        double floor = 1e-10 * (1 + Math.Abs(f.Loss)) * Math.Sqrt(Math.Max(compared, 1));
        double error = compared == 0 ? 0 : double.IsNaN(num) ? double.PositiveInfinity : Math.Sqrt(num) / Math.Max(Math.Sqrt(den), floor);
        return new TensorCheck(name, shape, compared, skipped, error, worstIndex, worstG, worstFd);
    }
}
