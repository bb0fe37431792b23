using System.Globalization;
using GpuNet.Data;

namespace GpuNet.Model;

/// <summary>An output function and a loss that do not go together, or do not suit the data; <see cref="Option"/> says
/// which of the two ("output" or "loss") was chosen against the other.</summary>
public sealed class OutputChoiceException(string option, string message) : ArgumentException(message)
{
    /// <summary>"output" or "loss": the choice the message is about.</summary>
    public string Option { get; } = option;
}

/// <summary>
/// How a model's last layer, output function and loss fit together, in one place. Classification trains softmax +
/// cross-entropy on logits (several classes) or logistic + bce on one logit (two classes); regression trains identity
/// outputs with mse. A loss on logits (cross-entropy, bce) takes an identity last layer and applies its own output
/// function; mse and mae train through the last layer's function.
/// </summary>
public static class OutputPolicy
{
    /// <summary>The output function, loss and last-layer function for a task, where <paramref name="output"/> and
    /// <paramref name="loss"/> may be left to the default (null).</summary>
    /// <returns>Output: what prediction applies to the last layer's values (softmax or logistic for the losses on
    /// logits, otherwise identity, the last layer's own function being part of the network); Loss; LastLayer: the
    /// activation of the output layer.</returns>
    /// <exception cref="OutputChoiceException">The choices do not go together.</exception>
    public static (OutputFunction Output, LossFunction Loss, Activation LastLayer) Resolve(TaskKind task, int outputs,
        OutputFunction? output = null, LossFunction? loss = null)
    {
        var o = output ?? (task == TaskKind.Classification ? (outputs >= 2 ? OutputFunction.Softmax : OutputFunction.Logistic) : OutputFunction.Identity);
        var l = loss ?? o switch
        {
            OutputFunction.Softmax => LossFunction.CrossEntropy,
            OutputFunction.Logistic => task == TaskKind.Classification ? LossFunction.BinaryCrossEntropy : LossFunction.MeanSquaredError,
            _ => LossFunction.MeanSquaredError,
        };
        if (o == OutputFunction.Softmax && outputs < 2)
            throw new OutputChoiceException("output", "the softmax output needs at least 2 outputs; use logistic for one");
        if (l == LossFunction.CrossEntropy && o != OutputFunction.Softmax)
            throw new OutputChoiceException("loss", $"the cross-entropy loss goes with the softmax output, not {o.Name()}");
        if (l == LossFunction.BinaryCrossEntropy && o != OutputFunction.Logistic)
            throw new OutputChoiceException("loss", $"the bce loss goes with the logistic output, not {o.Name()}");
        if (o == OutputFunction.Softmax && l != LossFunction.CrossEntropy)
            throw new OutputChoiceException("output", $"the softmax output is trained with the cross-entropy loss, not {l.Name()}");
        // Losses on logits take the raw last layer; mse/mae with a logistic output train through the logistic.
        var last = l.TakesLogits() ? Activation.Identity : o == OutputFunction.Logistic ? Activation.Logistic : Activation.Identity;
        return (l.TakesLogits() ? o : OutputFunction.Identity, l, last);
    }

    /// <summary>The loss a network of <paramref name="spec"/> trains with when none is chosen: on classification data,
    /// cross-entropy (several outputs) or bce (one) when the last layer is identity, else mse through it; mse on
    /// regression data.</summary>
    public static LossFunction DefaultLoss(NetworkSpec spec, bool classification)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!classification || spec.Layers[^1].Activation != Activation.Identity) return LossFunction.MeanSquaredError;
        return spec.OutputSize >= 2 ? LossFunction.CrossEntropy : LossFunction.BinaryCrossEntropy;
    }

    /// <summary>What prediction applies to the last layer's values of a network trained with <paramref name="loss"/>.</summary>
    public static OutputFunction OutputFor(LossFunction loss) => loss switch
    {
        LossFunction.CrossEntropy => OutputFunction.Softmax,
        LossFunction.BinaryCrossEntropy => OutputFunction.Logistic,
        _ => OutputFunction.Identity,
    };

    /// <summary>Checks that the network's output layer suits the loss.</summary>
    /// <exception cref="ArgumentException">A loss on logits with a last layer that is not identity; cross-entropy with
    /// one output.</exception>
    public static void CheckCompatible(this LossFunction loss, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        loss.CheckLastLayer(spec.Layers[^1].Activation);
        if (loss == LossFunction.CrossEntropy && spec.OutputSize < 2)
            throw new ArgumentException("cross-entropy needs at least 2 outputs (one per class); use bce for one output");
    }

    /// <summary>Refuses targets <paramref name="loss"/> cannot take: bce reads each target as a probability, so one
    /// outside [0, 1] gives a meaningless (even negative) loss.</summary>
    /// <param name="loss">The loss to train or evaluate with.</param>
    /// <param name="data">The examples.</param>
    /// <param name="what">Names the data in the error, e.g. "the training data".</param>
    /// <exception cref="TargetRangeException">A target is outside [0, 1] for bce; the message names its row, target and value.</exception>
    public static void CheckTargets(LossFunction loss, Dataset data, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (loss != LossFunction.BinaryCrossEntropy) return;
        var y = data.Targets;
        for (long i = 0; i < y.Length; i++)
            if (y[i] < 0 || y[i] > 1) // NaN passes here: the finite check names it better
                throw new TargetRangeException(
                    $"{what}: target {i % data.TargetCount + 1} of row {i / data.TargetCount + 1} is {y[i].ToString(CultureInfo.InvariantCulture)}, " +
                    "but bce needs targets in [0, 1] (probabilities or 0/1 labels); use mse or mae for other values");
    }
}

/// <summary>A target lies outside the range the loss reads (bce: [0, 1]).</summary>
public sealed class TargetRangeException(string message) : DataFormatException(message);
