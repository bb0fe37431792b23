namespace GpuNet;

/// <summary>Base of every error GpuNet reports about its input (data, model files, options):
/// the message names the file, line, row, column, shape or value at fault and, where there is one, the fix.</summary>
public class GpuNetException : Exception
{
    /// <summary>Creates the error with its message.</summary>
    public GpuNetException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public GpuNetException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The settings whose value would fix the problem, by their names in the library (e.g. "LearningRate",
    /// "BatchSize", "hasHeader"); the message speaks of them in the same words. A front end such as the gpunet
    /// command names its own option for each; empty when no setting is involved.</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];
}

/// <summary>A data file (CSV, IDX, gzip) is malformed, or a dataset does not fit what is asked of it.</summary>
public class DataFormatException : GpuNetException
{
    /// <summary>Creates the error with its message.</summary>
    public DataFormatException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model file (safetensors) is malformed or does not describe a GpuNet network.</summary>
public class ModelFormatException : GpuNetException
{
    /// <summary>Creates the error with its message.</summary>
    public ModelFormatException(string message) : base(message) { }
    /// <summary>Creates the error with its message and cause.</summary>
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Training diverged: the loss of every restart became NaN or infinite. The network holds the last good
/// weights (those at the start of <see cref="Epoch"/>) when this is thrown.</summary>
public sealed class TrainingDivergedException(int epoch, long stepInEpoch, long step, float learningRate, int goodEpochs, int bestRestart)
    : GpuNetException(Describe(epoch, stepInEpoch, step, learningRate, goodEpochs, "TrainOptions.LearningRate"))
{
    /// <summary>1-based epoch in which the loss (or, after its last update, the weights) first became non-finite.</summary>
    public int Epoch { get; } = epoch;
    /// <summary>1-based step within that epoch.</summary>
    public long StepInEpoch { get; } = stepInEpoch;
    /// <summary>1-based optimizer step counted over the whole run.</summary>
    public long Step { get; } = step;
    /// <summary>The step size at that step.</summary>
    public float LearningRate { get; } = learningRate;
    /// <summary>Epochs completed when the weights the network was rolled back to were taken (0: the starting weights).</summary>
    public int GoodEpochs { get; } = goodEpochs;
    /// <summary>The restart with the lowest finite training loss in epoch <see cref="GoodEpochs"/> (0 when there is none).</summary>
    public int BestRestart { get; } = bestRestart;

    /// <summary>The message, naming <paramref name="stepSizeSetting"/> as the way to a smaller step size (the command
    /// names its option).</summary>
    public string MessageNaming(string stepSizeSetting) =>
        Describe(Epoch, StepInEpoch, Step, LearningRate, GoodEpochs, stepSizeSetting);

    private static string Describe(int epoch, long stepInEpoch, long step, float learningRate, int goodEpochs, string setting) =>
        $"training diverged: the loss or the weights became NaN or infinite at epoch {epoch}, step {stepInEpoch} of the epoch " +
        $"(step {step} overall) with step size {learningRate:G4}; try a smaller step size ({setting}). " +
        $"The weights were rolled back to the start of epoch {goodEpochs + 1}, the last ones whose loss was finite.";
}
