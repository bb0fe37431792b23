using System.Diagnostics;

namespace GpuNet.Tests.Data;

/// <summary>Runs the built gpunet command as a child process, with extra environment variables and a deadline.</summary>
public static class GpunetProcess
{
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string> environment, TimeSpan deadline,
        params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpunet.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(deadline))
        {
            p.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"gpunet {string.Join(' ', args)} still ran after {deadline.TotalSeconds} s");
        }
        return (p.ExitCode, output.Result, err.Result);
    }
}
