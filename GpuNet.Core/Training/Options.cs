using GpuNet.Compute;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Training;

/// <summary>The update rule.</summary>
public enum OptimizerKind
{
    /// <summary>w ← w − η (g + λw).</summary>
    Sgd,
    /// <summary>Heavy-ball or Nesterov momentum (PyTorch's SGD with momentum).</summary>
    Momentum,
    /// <summary>Adam; with weight decay, AdamW (decoupled).</summary>
    Adam,
}

/// <summary>Optimizer and its hyper-parameters. Out-of-range values are rejected by <see cref="Validate"/>, naming the value.</summary>
public sealed record OptimizerOptions
{
    /// <summary>Update rule.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Sgd;
    /// <summary>Momentum μ in [0, 1).</summary>
    public float Momentum { get; init; } = 0.9f;
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; init; }
    /// <summary>Adam β₁ in [0, 1).</summary>
    public float Beta1 { get; init; } = 0.9f;
    /// <summary>Adam β₂ in [0, 1).</summary>
    public float Beta2 { get; init; } = 0.999f;
    /// <summary>Adam ε &gt; 0.</summary>
    public float Epsilon { get; init; } = 1e-8f;
    /// <summary>Weight decay λ ≥ 0 (L2 for SGD and momentum; decoupled for Adam).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Plain SGD.</summary>
    public static OptimizerOptions Sgd() => new();
    /// <summary>SGD with momentum μ.</summary>
    public static OptimizerOptions WithMomentum(float momentum = 0.9f, bool nesterov = false) =>
        new() { Kind = OptimizerKind.Momentum, Momentum = momentum, Nesterov = nesterov };
    /// <summary>Adam (AdamW when weight decay &gt; 0).</summary>
    public static OptimizerOptions Adam(float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f) =>
        new() { Kind = OptimizerKind.Adam, Beta1 = beta1, Beta2 = beta2, Epsilon = epsilon };

    /// <summary>The step size this rule trains with when none is given: 1e-3 for Adam, 1e-2 for SGD and momentum.</summary>
    public float DefaultLearningRate => Kind == OptimizerKind.Adam ? 1e-3f : 1e-2f;

    /// <summary>Makes the update rule for <paramref name="length"/> parameters (R·P) on <paramref name="device"/>.</summary>
    public IOptimizer Create(Device device, long length) => Kind switch
    {
        OptimizerKind.Sgd => new SgdOptimizer(device, WeightDecay),
        OptimizerKind.Momentum => new MomentumOptimizer(device, length, Momentum, Nesterov, WeightDecay),
        OptimizerKind.Adam => new AdamOptimizer(device, length, Beta1, Beta2, Epsilon, WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer"),
    };

    /// <summary>Device bytes the rule's moments over <paramref name="length"/> parameters take.</summary>
    public long MomentBytes(long length) => Kind switch
    {
        OptimizerKind.Momentum => MomentumOptimizer.Bytes(length),
        OptimizerKind.Adam => AdamOptimizer.Bytes(length),
        _ => 0,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer");
        if (!(Momentum >= 0f && Momentum < 1f)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "momentum must be in [0, 1)");
        if (!(Beta1 >= 0f && Beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Adam β₁ must be in [0, 1)");
        if (!(Beta2 >= 0f && Beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Adam β₂ must be in [0, 1)");
        if (!(Epsilon > 0f) || float.IsInfinity(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Adam ε must be positive and finite");
        if (!(WeightDecay >= 0f) || float.IsInfinity(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "weight decay must be ≥ 0 and finite");
    }
}

/// <summary>A step size that changes over training. t counts optimizer steps from 0.</summary>
public abstract record LearningRateSchedule
{
    /// <summary>The step size for step t of <paramref name="totalSteps"/>, with <paramref name="stepsPerEpoch"/> steps an epoch.</summary>
    public abstract float Rate(float baseRate, long t, long stepsPerEpoch, long totalSteps);

    /// <summary>Command-line name.</summary>
    public abstract string Name { get; }

    /// <summary>η = η₀.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantRate();
}

/// <summary>η = η₀.</summary>
public sealed record ConstantRate : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(float baseRate, long t, long stepsPerEpoch, long totalSteps) => baseRate;
    /// <inheritdoc/>
    public override string Name => "constant";
}

/// <summary>Inverse time decay η = η₀ / (1 + k·t/stepsPerEpoch): with the default k = 1, η halves after the first
/// epoch, falls to a third after the second, and so on (t in steps, so it decreases smoothly).</summary>
public sealed record InverseTimeRate(double K = 1.0) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(float baseRate, long t, long stepsPerEpoch, long totalSteps) =>
        (float)(baseRate / (1.0 + K * t / Math.Max(1, stepsPerEpoch)));
    /// <inheritdoc/>
    public override string Name => "inverse";
}

/// <summary>Step decay η = η₀ · γ^⌊epoch / every⌋.</summary>
public sealed record StepDecayRate(int EveryEpochs = 10, double Gamma = 0.5) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(float baseRate, long t, long stepsPerEpoch, long totalSteps) =>
        (float)(baseRate * Math.Pow(Gamma, t / Math.Max(1, stepsPerEpoch) / Math.Max(1, EveryEpochs)));
    /// <inheritdoc/>
    public override string Name => "step";
}

/// <summary>Cosine annealing from η₀ to η₀·MinFraction over the whole run.</summary>
public sealed record CosineRate(double MinFraction = 0.0) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Rate(float baseRate, long t, long stepsPerEpoch, long totalSteps)
    {
        double progress = totalSteps <= 1 ? 0 : Math.Min(1.0, (double)t / (totalSteps - 1));
        double min = baseRate * MinFraction;
        return (float)(min + (baseRate - min) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
    /// <inheritdoc/>
    public override string Name => "cosine";
}

/// <summary>How to train. The defaults are those of <c>gpunet train</c>: Adam with step size 1e-3, batches of 32, 30
/// epochs, the loss chosen from the data (cross-entropy for classes, mse for values), shuffled rows. Every value is
/// checked by <see cref="Validate"/>, which names the bad one.</summary>
public sealed record TrainOptions
{
    /// <summary>Passes over the training data (≥ 1).</summary>
    public int Epochs { get; init; } = 30;
    /// <summary>Rows per step; 1 is per-example SGD (update after every example). Larger than the data = full batch.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Base step size η₀ (&gt; 0); null for the optimizer's default (<see cref="OptimizerOptions.DefaultLearningRate"/>).</summary>
    public float? LearningRate { get; init; }
    /// <summary>How η changes over training.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    /// <summary>Update rule.</summary>
    public OptimizerOptions Optimizer { get; init; } = OptimizerOptions.Adam();
    /// <summary>Loss; null to choose it from the data and the network (<see cref="Model.OutputPolicy.DefaultLoss"/>).</summary>
    public LossFunction? Loss { get; init; }
    /// <summary>Visit the rows in a new seeded order every epoch.</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Seed of the shuffles and of the validation split (the epoch order is the same for every restart).</summary>
    public ulong ShuffleSeed { get; init; }
    /// <summary>Fraction of the training rows held out for validation when no validation data is given, in [0, 1).</summary>
    public double ValidationFraction { get; init; }
    /// <summary>Scale each feature by the training rows' mean and standard deviation before training; the scaling is
    /// part of the model (<see cref="Model.ModelInfo.FeatureMean"/>). A network that already carries a scaling (loaded
    /// from a model file) keeps its own.</summary>
    public bool Standardize { get; init; }
    /// <summary>Stop when the validation loss (of the best restart) has not improved for this many epochs, and
    /// restore the parameters of the best epoch; 0 = off. Needs validation data.</summary>
    public int EarlyStopPatience { get; init; }
    /// <summary>Progress ticks within an epoch (each one synchronises to read the running loss); 0 = none.</summary>
    public int TicksPerEpoch { get; init; }
    /// <summary>How the steps run (<see cref="TrainingSteps.Choose"/>); <see cref="StepKind.Auto"/> picks the fastest that
    /// applies.</summary>
    public StepKind Step { get; init; }

    /// <summary>The step size η₀ in force: <see cref="LearningRate"/>, or the optimizer's default.</summary>
    public float StepSize => LearningRate ?? Optimizer.DefaultLearningRate;

    /// <summary>Rows a step takes on data of <paramref name="rows"/> rows: <see cref="BatchSize"/>, or every row when
    /// there are fewer.</summary>
    public int BatchFor(int rows) => Math.Max(1, Math.Min(BatchSize, rows));

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be at least 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be at least 1");
        if (LearningRate is { } lr && (!(lr > 0f) || float.IsInfinity(lr)))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), lr, "step size must be positive and finite");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "the validation fraction must be in [0, 1)");
        if (EarlyStopPatience < 0) throw new ArgumentOutOfRangeException(nameof(EarlyStopPatience), EarlyStopPatience, "patience must be ≥ 0 epochs (0 = off)");
        if (TicksPerEpoch < 0) throw new ArgumentOutOfRangeException(nameof(TicksPerEpoch), TicksPerEpoch, "ticks must be ≥ 0");
        if (!Enum.IsDefined(Step)) throw new ArgumentOutOfRangeException(nameof(Step), Step, "unknown step kind");
        if (Loss is { } loss && !Enum.IsDefined(loss)) throw new ArgumentOutOfRangeException(nameof(Loss), loss, "unknown loss");
        ArgumentNullException.ThrowIfNull(Schedule);
        ArgumentNullException.ThrowIfNull(Optimizer);
        Optimizer.Validate();
    }
}
