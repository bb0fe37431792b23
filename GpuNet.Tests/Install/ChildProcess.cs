using System.Diagnostics;

namespace GpuNet.Tests.Install;

/// <summary>Runs a program to completion with a time limit, capturing its output; the whole process tree is ended
/// if the limit passes.</summary>
public static class ChildProcess
{
    /// <summary>The dotnet executable running the tests.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, int timeoutSeconds = 300)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The test host's MSBuild settings belong to the build that ran the tests, not to a build started here.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToArray())
            psi.Environment.Remove(key);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} took more than {timeoutSeconds} s: {output.Result}{error.Result}");
        }
        return (p.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs and expects exit code 0, returning stdout.</summary>
    public static string Ok(string file, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, int timeoutSeconds = 300)
    {
        var list = args.ToList();
        var (code, output, err) = Run(file, list, workingDirectory, environment, timeoutSeconds);
        Xunit.Assert.True(code == 0, $"{file} {string.Join(' ', list)} exited {code}:\n{output}\n{err}");
        return output;
    }
}
