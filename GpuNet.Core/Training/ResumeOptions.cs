namespace GpuNet.Training;

/// <summary>An option given to a resumed run that contradicts the one the run was started with.</summary>
public sealed class ResumeConflictException(string option, string message) : GpuNetException(message)
{
    /// <summary>The option's name, without dashes.</summary>
    public string Option { get; } = option;
}

/// <summary>
/// How a resumed run's options relate to those it was started with, which its checkpoints record: an option left out
/// keeps its recorded value; an option given again must have that value (so rerunning the original command with the
/// resume option added works), except the few a resume may change; anything else is refused, naming the option and
/// both values. Options are (name, value) pairs, a flag's value null, in the order they were given.
/// </summary>
public static class ResumeOptions
{
    /// <summary>
    /// The options the resumed run runs with: the recorded ones, each replaced where <paramref name="given"/> gives it
    /// and <paramref name="changeable"/> allows a new value, then the changeable options the run was started without.
    /// </summary>
    /// <param name="recorded">The options the run was started with.</param>
    /// <param name="given">The options given with the resume (the resume option itself left out).</param>
    /// <param name="changeable">Options a resume may give a new value: the device, say, or the epochs to train up to.</param>
    /// <param name="normalize">Maps (name, value) to a form two spellings of the same value share (absolute paths,
    /// parsed numbers), for the comparison only.</param>
    /// <param name="checkpoint">Names the checkpoint in errors.</param>
    /// <exception cref="ResumeConflictException">An option is given with another value than the recorded one, or was
    /// not given when the run started, and may not be changed.</exception>
    public static IReadOnlyList<(string Name, string? Value)> Merge(IReadOnlyList<(string Name, string? Value)> recorded,
        IReadOnlyList<(string Name, string? Value)> given, IReadOnlySet<string> changeable, Func<string, string?, string?> normalize,
        string checkpoint)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(given);
        ArgumentNullException.ThrowIfNull(changeable);
        ArgumentNullException.ThrowIfNull(normalize);
        var was = recorded.ToDictionary(o => o.Name, o => o.Value, StringComparer.Ordinal);
        foreach (var (name, value) in given)
        {
            if (changeable.Contains(name)) continue;
            if (!was.TryGetValue(name, out var old))
                throw new ResumeConflictException(name, $"{Show(name, value)}: the run was started without --{name} (checkpoint '{checkpoint}'), " +
                    $"and a resumed run keeps its options; leave --{name} out, or start a new run");
            if (normalize(name, value) != normalize(name, old))
                throw new ResumeConflictException(name, $"{Show(name, value)} differs from the run's {Show(name, old)} (checkpoint '{checkpoint}'), " +
                    $"and a resumed run keeps its options; give --{name} {old} or leave it out, or start a new run");
        }
        var changed = given.Where(o => changeable.Contains(o.Name)).ToDictionary(o => o.Name, o => o.Value, StringComparer.Ordinal);
        var merged = recorded.Select(o => changed.TryGetValue(o.Name, out var v) ? (o.Name, v) : o).ToList();
        merged.AddRange(given.Where(o => changeable.Contains(o.Name) && !was.ContainsKey(o.Name)));
        return merged;
    }

    private static string Show(string name, string? value) => value == null ? $"--{name}" : $"--{name} {value}";
}
