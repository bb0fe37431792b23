using System.Globalization;

namespace GpuNet.Devices;

/// <summary>
/// What a device spec asks for, read without opening anything: <c>auto</c> (CUDA, then OpenCL, then the CPU
/// accelerator), a kind (<c>cuda</c>, <c>opencl</c>, <c>cpu</c>: its first device), an index from <see cref="Gpu.List"/>,
/// a list of distinct indices (<c>0,1</c>), <c>all</c> (every device of the kind <c>auto</c> picks) or <c>cpu:N</c>
/// (N CPU accelerators: ILGPU opens the CPU device as often as asked, so replication can be checked on a machine
/// without GPUs; the N share the host's cores, so it checks, it does not speed up).
/// </summary>
public sealed record DeviceSpec
{
    /// <summary>The most devices <c>cpu:N</c> opens (each CPU accelerator starts its own threads).</summary>
    public const int MaxCpuCount = 16;

    private DeviceSpec(string text) => Text = text;

    /// <summary>The spec as given.</summary>
    public string Text { get; }
    /// <summary>A kind's first device (or auto's device when null and nothing else is set).</summary>
    public DeviceKind? Kind { get; private init; }
    /// <summary>Indices from <see cref="Gpu.List"/>, in the order given (distinct), or null.</summary>
    public IReadOnlyList<int>? Indices { get; private init; }
    /// <summary>Every device of the kind auto picks.</summary>
    public bool All { get; private init; }
    /// <summary>N of <c>cpu:N</c>, else 0.</summary>
    public int CpuCount { get; private init; }

    /// <summary>True for the specs that name one device by its kind (<c>auto</c>, <c>cuda</c>, <c>opencl</c>, <c>cpu</c>):
    /// the ones an MPI rank can resolve to the device of its local rank.</summary>
    public bool IsKindOnly => Indices == null && !All && CpuCount == 0;

    /// <summary>Reads a spec (trimmed, any case).</summary>
    /// <exception cref="ArgumentException">The spec is malformed or lists a device twice; the message names the part at fault.</exception>
    public static DeviceSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string s = spec.Trim().ToLowerInvariant();
        var result = new DeviceSpec(spec);
        switch (s)
        {
            case "auto": return result;
            case "all": return result with { All = true };
            case "cuda": return result with { Kind = DeviceKind.Cuda };
            case "opencl" or "cl": return result with { Kind = DeviceKind.OpenCL };
            case "cpu": return result with { Kind = DeviceKind.Cpu };
        }
        if (s.StartsWith("cpu:", StringComparison.Ordinal))
        {
            if (!int.TryParse(s[4..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > MaxCpuCount)
                throw new ArgumentException($"'{spec}': cpu:N opens N CPU accelerators, N from 1 to {MaxCpuCount}");
            return result with { Kind = DeviceKind.Cpu, CpuCount = n };
        }
        var parts = s.Split(',');
        var indices = new List<int>();
        foreach (var p in parts)
        {
            if (!int.TryParse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int i))
                throw new ArgumentException(parts.Length == 1
                    ? $"unknown device '{spec}': use auto, cuda, opencl, cpu, an index, a list of indices (0,1), all or cpu:N"
                    : $"'{p.Trim()}' in '{spec}' is not a device index; a list holds indices from 'gpunet devices' (e.g. 0,1)");
            if (indices.Contains(i)) throw new ArgumentException($"'{spec}' lists device {i} twice; each device can hold one replica");
            indices.Add(i);
        }
        return result with { Indices = indices };
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
