using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GpuNet.Devices;

/// <summary>
/// NVIDIA's offline tools ptxas (PTX → machine code, with its resource report) and cuobjdump (machine code → SASS
/// text), found without a GPU: in <c>$GPUNET_CUDA_TOOLS</c> (the folder or its <c>bin/</c>), then in the folder
/// <c>tools/install-cuda-tools.sh</c> installs to by default (<c>${XDG_CACHE_HOME:-~/.cache}/gpunet/cuda-tools</c>),
/// then on the PATH.
/// </summary>
internal sealed partial class CudaTools
{
    /// <summary>The environment variable naming the tools' folder.</summary>
    public const string EnvironmentVariable = "GPUNET_CUDA_TOOLS";

    /// <summary>What installs them.</summary>
    public const string Installer = "tools/install-cuda-tools.sh";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private CudaTools(string ptxas, string cuobjdump, string versionLine, Version release)
    {
        Ptxas = ptxas;
        Cuobjdump = cuobjdump;
        VersionLine = versionLine;
        Release = release;
    }

    /// <summary>Path of ptxas.</summary>
    public string Ptxas { get; }
    /// <summary>Path of cuobjdump.</summary>
    public string Cuobjdump { get; }
    /// <summary>ptxas's own version line, e.g. "Cuda compilation tools, release 11.8, V11.8.89".</summary>
    public string VersionLine { get; }
    /// <summary>The CUDA release of ptxas (e.g. 11.8).</summary>
    public Version Release { get; }

    /// <summary>The folder the installer uses when <see cref="EnvironmentVariable"/> is not set.</summary>
    public static string DefaultFolder
    {
        get
        {
            string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cache))
                cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "gpunet", "cuda-tools");
        }
    }

    private static readonly Lazy<(CudaTools? Tools, string Problem)> Found = new(Search);

    /// <summary>The tools, or null with <paramref name="problem"/> saying where they were looked for and how to
    /// install them.</summary>
    public static CudaTools? TryFind(out string problem)
    {
        (var tools, problem) = Found.Value;
        return tools;
    }

    /// <summary>The tools; throws <see cref="InvalidOperationException"/> saying where they were looked for and how
    /// to install them when they are missing.</summary>
    public static CudaTools Require() => TryFind(out string problem) ?? throw new InvalidOperationException(problem);

    private static (CudaTools?, string) Search()
    {
        var looked = new List<string>();
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var folders = new List<string>();
        if (!string.IsNullOrEmpty(env)) { folders.Add(Path.Combine(env, "bin")); folders.Add(env); }
        folders.Add(Path.Combine(DefaultFolder, "bin"));
        foreach (var p in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            folders.Add(p);
        string? firstError = null;
        foreach (var folder in folders)
        {
            string ptxas = Path.Combine(folder, "ptxas"), cuobjdump = Path.Combine(folder, "cuobjdump");
            if (!File.Exists(ptxas) || !File.Exists(cuobjdump)) { looked.Add(folder); continue; }
            try { return (Open(ptxas, cuobjdump), ""); }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            { firstError ??= $"{ptxas} does not run: {e.Message}"; }
        }
        string where = $"${EnvironmentVariable}{(string.IsNullOrEmpty(env) ? " (not set)" : $" = {env}")}, {DefaultFolder}, the PATH";
        return (null, (firstError ?? $"NVIDIA's ptxas and cuobjdump were not found (looked in {where})")
            + $"; install them with {Installer} (Debian, no GPU needed) or point ${EnvironmentVariable} at a CUDA toolkit's bin folder");
    }

    private static CudaTools Open(string ptxas, string cuobjdump)
    {
        string text = Run(ptxas, ["--version"]).Stdout;
        var m = ReleasePattern().Match(text);
        if (!m.Success) throw new InvalidOperationException($"unexpected version text '{text.Trim()}'");
        string line = text.Split('\n').FirstOrDefault(l => l.Contains("release", StringComparison.Ordinal))?.Trim() ?? m.Value;
        return new CudaTools(ptxas, cuobjdump, line, new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)));
    }

    [GeneratedRegex(@"release (\d+)\.(\d+)")]
    private static partial Regex ReleasePattern();

    [GeneratedRegex(@"^\.version 8\.\d+", RegexOptions.Multiline)]
    private static partial Regex Ptx8Version();

    /// <summary>ptxas's resource report (<c>-v</c>) and cuobjdump's SASS listing of one PTX module for
    /// <paramref name="arch"/> (e.g. "sm_90"). ptxas before CUDA 12 reads PTX ISA up to 7.8; ILGPU writes
    /// ".version 8.0" for code that uses no 8.0 feature, so for those releases the version line is lowered.</summary>
    public (string Resources, string Sass) Compile(string ptx, string arch)
    {
        if (Release.Major < 12) ptx = Ptx8Version().Replace(ptx, ".version 7.8");
        string dir = Directory.CreateTempSubdirectory("gpunet-sass-").FullName;
        try
        {
            string ptxPath = Path.Combine(dir, "kernel.ptx"), cubin = Path.Combine(dir, "kernel.cubin");
            File.WriteAllText(ptxPath, ptx);
            var assembled = Run(Ptxas, [$"-arch={arch}", "-v", "-o", cubin, ptxPath]);
            var sass = Run(Cuobjdump, ["-sass", cubin]);
            return (assembled.Stdout + assembled.Stderr, sass.Stdout);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static (string Stdout, string Stderr) Run(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} ran over {Timeout.TotalSeconds:F0} s");
        }
        string err = stderr.Result;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} failed (exit {p.ExitCode}): {err.Trim()}");
        return (stdout.Result, err);
    }
}
