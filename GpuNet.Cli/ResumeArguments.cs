using System.Globalization;
using System.Numerics;
using GpuNet.Data;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>The options of a resumed <c>gpunet train</c>: the ones the run was started with, as its checkpoint records
/// them, with those given again checked against them by Core's <see cref="ResumeOptions"/>. Values are compared in a
/// form two spellings of one value share: paths absolute, numbers parsed, names in lower case.</summary>
internal static class ResumeArguments
{
    /// <summary>What a resume may change: the device, the form of the summary, and the epochs to train up to.</summary>
    private static readonly IReadOnlySet<string> Changeable = new HashSet<string>(StringComparer.Ordinal) { "device", "json", "epochs" };

    private static readonly string[] Paths = ["model", "metrics", "plot", "checkpoint", "init", "data-dir"];
    private static readonly string[] Numbers = ["lr", "momentum", "weight-decay", "validation"];
    private static readonly string[] Integers = ["batch", "seed", "restarts", "early-stop", "checkpoint-every"];

    /// <summary>The arguments the resumed run runs with.</summary>
    /// <exception cref="UsageException">An option given with the resume contradicts the recorded one.</exception>
    public static string[] Merge(Arguments started, Arguments given, string checkpoint)
    {
        var added = given.Options.Where(o => o.Name != "resume").ToArray();
        try
        {
            return Arguments.Format(ResumeOptions.Merge(started.Options.ToArray(), added, Changeable, Normalized, checkpoint));
        }
        catch (ResumeConflictException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The value of option <paramref name="name"/> in a form two spellings of it share; a value that does not
    /// parse is kept as written (and so differs from any other).</summary>
    internal static string? Normalized(string name, string? value)
    {
        if (value == null) return null;
        string v = value.Trim();
        if (Paths.Contains(name)) return Path.TrimEndingDirectorySeparator(Path.GetFullPath(value));
        if (Numbers.Contains(name))
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d.ToString("R", CultureInfo.InvariantCulture) : value;
        if (Integers.Contains(name))
            return BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i.ToString(CultureInfo.InvariantCulture) : value;
        if (name == "hidden")
            return v.Equals("none", StringComparison.OrdinalIgnoreCase) ? "none" : string.Join(",", v.Split(',').Select(p => Normalized("batch", p)));
        if (name == "data")
        {
            try { return TrainCommand.Recorded(DataSpec.Parse(value), value); }
            catch (GpuNetException) { return value; }
        }
        return v.ToLowerInvariant(); // names: optimizer, activation, output, loss, lr-schedule, step
    }
}
