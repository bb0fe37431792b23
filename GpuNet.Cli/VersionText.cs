using System.Reflection;

namespace GpuNet.Cli;

/// <summary>What <c>gpunet --version</c> prints: gpunet's version (with the commit it was built from, when known), and
/// the versions of ILGPU and .NET it runs on.</summary>
internal static class VersionText
{
    /// <summary>"gpunet 0.1.0+1a2b3c4 (ILGPU 1.5.3, .NET 10.0.1)".</summary>
    public static string Line() =>
        $"gpunet {Of(typeof(VersionText).Assembly, keepCommit: true)} (ILGPU {Of(typeof(ILGPU.Context).Assembly, keepCommit: false)}, .NET {Environment.Version})";

    /// <summary>The package version of the gpunet tool and library, without build metadata.</summary>
    public static string Package => Of(typeof(VersionText).Assembly, keepCommit: false);

    private static string Of(Assembly assembly, bool keepCommit)
    {
        string v = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString(3) ?? "unknown";
        int plus = v.IndexOf('+');
        if (plus < 0) return v;
        // The build metadata is the commit's full hash: 7 characters name it well enough.
        return keepCommit ? v[..Math.Min(v.Length, plus + 8)] : v[..plus];
    }
}
