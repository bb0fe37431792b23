namespace GpuNet.Cli;

/// <summary>
/// Gives a library error the command's words: GpuNet's messages name each setting that would fix the problem in
/// brackets by its library name, "(LearningRate)", and list it in <see cref="GpuNetException.Settings"/>; the command
/// puts its own option there, "(--lr)", or adds it when the message does not name the setting.
/// </summary>
internal static class OptionNames
{
    private static readonly Dictionary<string, string> Options = new(StringComparer.Ordinal)
    {
        ["Standardizer"] = "--standardize", ["dataDir"] = "--data-dir", ["hasHeader"] = "--header", ["resume"] = "--resume",
        ["checkpointFolder"] = "--checkpoint", ["Epochs"] = "--epochs", ["EarlyStopPatience"] = "--early-stop", ["validation"] = "--validation",
    };

    /// <summary>The message of <paramref name="e"/> with the command's option for each setting it (or an exception
    /// it wraps) names.</summary>
    public static string Message(Exception e)
    {
        string message = e.Message;
        for (var x = e; x != null; x = x.InnerException)
        {
            if (x is not GpuNetException g) continue;
            foreach (var setting in g.Settings)
            {
                if (!Options.TryGetValue(setting, out var option)) continue;
                string named = $"({setting})";
                message = message.Contains(named, StringComparison.Ordinal)
                    ? message.Replace(named, $"({option})", StringComparison.Ordinal)
                    : $"{message} ({option})";
            }
        }
        return message;
    }
}
