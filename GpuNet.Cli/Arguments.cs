using System.Globalization;

namespace GpuNet.Cli;

/// <summary>A command-line mistake: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parses "--name value" and "--flag" options against a fixed list, so typos are caught and named.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; <paramref name="valued"/> options take a value, <paramref name="flags"/> do not.</summary>
    public Arguments(string command, IEnumerable<string> args, string[] valued, string[] flags)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"'{a}' is not an option of 'gpunet {command}' (options start with --; see gpunet {command} --help)");
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (flags.Contains(name))
            {
                if (inline != null) throw new UsageException($"--{name} takes no value");
                values[name] = null;
            }
            else if (valued.Contains(name))
            {
                if (inline == null)
                {
                    if (i + 1 >= list.Count) throw new UsageException($"--{name} needs a value");
                    inline = list[++i];
                }
                values[name] = inline;
            }
            else
            {
                var all = valued.Concat(flags).Select(o => "--" + o);
                var near = all.Where(o => Distance(o, "--" + name) <= 2).ToArray();
                throw new UsageException($"unknown option --{name} for 'gpunet {command}'" +
                    (near.Length > 0 ? $" (did you mean {string.Join(" or ", near)}?)" : $"; options: {string.Join(" ", all)}"));
            }
        }
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string? String(string name) => values.TryGetValue(name, out var v) ? v : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = String(name);
        if (s == null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"--{name}: '{s}' is not an integer");
        if (v < min || v > max)
            throw new UsageException($"--{name}: {v} is out of range ({RangeText(min, max)})");
        return v;
    }

    public double Double(string name, double fallback, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        var s = String(name);
        if (s == null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"--{name}: '{s}' is not a finite number");
        bool below = minExclusive ? v <= min : v < min;
        bool above = maxExclusive ? v >= max : v > max;
        if (below || above)
            throw new UsageException($"--{name}: {s} is out of range, it must be {(minExclusive ? ">" : "≥")} {min}" +
                (double.IsPositiveInfinity(max) ? "" : $" and {(maxExclusive ? "<" : "≤")} {max}"));
        return v;
    }

    private static string RangeText(int min, int max) =>
        max == int.MaxValue ? $"it must be ≥ {min}" : $"it must be in [{min}, {max}]";

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
