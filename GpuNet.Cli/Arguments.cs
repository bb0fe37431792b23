using System.Globalization;
using System.Numerics;
using GpuNet.Devices;
using GpuNet.IO;

namespace GpuNet.Cli;

/// <summary>A command-line mistake: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parses "--name value" and "--flag" options against a fixed list, so typos are caught and named.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> values = new(StringComparer.Ordinal);
    private readonly List<string> order = [];

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
            bool known = flags.Contains(name) || valued.Contains(name);
            if (known && values.ContainsKey(name))
                throw new UsageException($"--{name} is given twice; give it once");
            if (flags.Contains(name))
            {
                if (inline != null) throw new UsageException($"--{name} takes no value");
                Add(name, null);
            }
            else if (valued.Contains(name))
            {
                if (inline == null)
                {
                    if (i + 1 >= list.Count) throw new UsageException($"--{name} needs a value");
                    // "--model --json" forgot the model's name; taking "--json" as the name would write a file called --json.
                    // A value that really starts with -- can be given as --model=--json.
                    if (list[i + 1].StartsWith("--", StringComparison.Ordinal))
                        throw new UsageException($"--{name} needs a value; got the option {list[i + 1]}");
                    inline = list[++i];
                }
                Add(name, inline);
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

    private void Add(string name, string? value)
    {
        values[name] = value;
        order.Add(name);
    }

    public bool Has(string name) => values.ContainsKey(name);

    /// <summary>The options given, in order, with their values (null for flags).</summary>
    public IEnumerable<(string Name, string? Value)> Options => order.Select(n => (n, values[n]));

    /// <summary>Options as arguments that parse back to the same: "--flag" and "--name=value" (which keeps a value
    /// starting with -- intact).</summary>
    public static string[] Format(IEnumerable<(string Name, string? Value)> options) =>
        options.Select(o => o.Value == null ? "--" + o.Name : $"--{o.Name}={o.Value}").ToArray();

    public string? String(string name) => values.TryGetValue(name, out var v) ? v : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = String(name);
        if (s == null) return fallback;
        if (!BigInteger.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new UsageException($"--{name}: '{s}' is not an integer");
        if (v < min || v > max)
        {
            string range = v < min && max == int.MaxValue ? $"it must be ≥ {min}" : $"it must be in [{min}, {max}]";
            throw new UsageException($"--{name}: {v} is out of range ({range})");
        }
        return (int)v;
    }

    public double Double(string name, double fallback, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        var s = String(name);
        if (s == null) return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"--{name}: '{s}' is not a finite number");
        if (OutOfRange(v, min, max, minExclusive, maxExclusive))
            throw new UsageException($"--{name}: {s} is out of range, {RangeText(min, max, minExclusive, maxExclusive)}");
        return v;
    }

    /// <summary>A number used in single precision (as training does): in range both as written and as a float, so that
    /// 1e40 (infinite as a float), 1e-50 (zero) or 0.999999999 (one) are refused here rather than failing later.</summary>
    public float Float(string name, float fallback, double min, double max, bool minExclusive = false, bool maxExclusive = false)
    {
        double v = Double(name, fallback, min, max, minExclusive, maxExclusive);
        float f = (float)v;
        if (!float.IsFinite(f))
            throw new UsageException($"--{name}: {String(name)} is too large for single precision (the precision training uses); " +
                $"it must be ≤ {float.MaxValue.ToString(CultureInfo.InvariantCulture)}");
        if (OutOfRange(f, min, max, minExclusive, maxExclusive))
            throw new UsageException($"--{name}: {String(name)} becomes {f.ToString(CultureInfo.InvariantCulture)} in single precision " +
                $"(the precision training uses); {RangeText(min, max, minExclusive, maxExclusive)} after rounding");
        return f;
    }

    private static bool OutOfRange(double v, double min, double max, bool minExclusive, bool maxExclusive) =>
        (minExclusive ? v <= min : v < min) || (maxExclusive ? v >= max : v > max);

    private static string RangeText(double min, double max, bool minExclusive, bool maxExclusive) =>
        $"it must be {(minExclusive ? ">" : "≥")} {min.ToString(CultureInfo.InvariantCulture)}" +
        (double.IsPositiveInfinity(max) ? "" : $" and {(maxExclusive ? "<" : "≤")} {max.ToString(CultureInfo.InvariantCulture)}");

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

/// <summary>Checks of the files and devices options name, made before any data is loaded so that no run is lost to them.</summary>
internal static class OptionChecks
{
    /// <summary>A file the command writes: a name that is not a folder, in a folder that exists.</summary>
    public static void Writable(string option, string path)
    {
        if (path.Trim().Length == 0) throw new UsageException($"{option} needs a file name");
        if (Directory.Exists(path)) throw new UsageException($"{option} {path}: that is a folder; give a file name");
        if (Path.EndsInDirectorySeparator(path)) throw new UsageException($"{option} {path}: ends in '{path[^1]}', which names a folder; give a file name");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new UsageException($"{option}: folder '{dir}' does not exist; create it or choose another path");
    }

    /// <summary>A folder the command writes into (created if missing): not an existing file.</summary>
    public static void WritableFolder(string option, string path)
    {
        if (path.Trim().Length == 0) throw new UsageException($"{option} needs a folder name");
        if (File.Exists(path)) throw new UsageException($"{option} {path}: that is a file; give a folder (it is created if missing)");
    }

    /// <summary>A model file the command reads: there, and a regular file (a FIFO without a writer would block its
    /// reader, so it is refused before any data is read, as the reader itself would refuse it).</summary>
    public static void Readable(string option, string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"{option} {path}: that is a folder; give a file");
        if (!File.Exists(path)) throw new UsageException($"{option}: file '{path}' does not exist");
        FileKinds.RequireRegular(path, "model file");
    }

    /// <summary>No two of <paramref name="files"/> are the same file, where one of them is written: an output must not
    /// overwrite an input or another output. Null and empty paths are left out.</summary>
    public static void Distinct(params (string Option, string? Path, bool Written)[] files)
    {
        var given = files.Where(f => !string.IsNullOrWhiteSpace(f.Path)).ToArray();
        for (int i = 0; i < given.Length; i++)
            for (int j = i + 1; j < given.Length; j++)
            {
                var (a, b) = (given[i], given[j]);
                if (!(a.Written || b.Written) || !Same(a.Path!, b.Path!)) continue;
                if (a.Written && b.Written)
                    throw new UsageException($"{a.Option} and {b.Option} both name '{a.Path}'; give each its own file");
                var (output, input) = a.Written ? (a, b) : (b, a);
                throw new UsageException($"{output.Option} {output.Path} would overwrite the {input.Option} file; choose another name for {output.Option}");
            }
    }

    /// <summary>Whether two paths name the same file (as written, relative to the working directory).</summary>
    public static bool Same(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
            OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The value of --device for a command that takes several devices (train), when well formed
    /// (<see cref="DeviceSpec"/>: one device, a list of indices, all, cpu:N). Whether they are there is found out when
    /// they are opened.</summary>
    public static string Devices(Arguments a)
    {
        string spec = a.String("device", "auto");
        try { DeviceSpec.Parse(spec); }
        catch (ArgumentException e) { throw new UsageException($"--device: {e.Message}"); }
        return spec;
    }

    /// <summary>The value of --device, when well formed: auto, cpu, cuda, opencl (cl) or an index from 'gpunet devices'.
    /// Whether that device is there is found out when it is opened.</summary>
    public static string Device(Arguments a)
    {
        string spec = a.String("device", "auto");
        string s = spec.Trim().ToLowerInvariant();
        if (s is "auto" or "cpu" or "cuda" or "opencl" or "cl"
            || (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index >= 0))
            return spec;
        throw new UsageException($"--device: unknown '{spec}', use auto, cpu, cuda, opencl or an index listed by 'gpunet devices'");
    }
}
