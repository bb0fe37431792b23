using System.Diagnostics;
using System.Text;

namespace GpuNet.Tests.Cli;

/// <summary>The built gpunet executable (the test's copy) in a real process, for what only a process has: signals and
/// exit codes. Its stdout and stderr are collected as they come.</summary>
internal sealed class GpunetProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new(), errors = new();

    public GpunetProcess(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpunet.dll"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (errors) errors.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (output) return output.ToString(); } }
    public string Errors { get { lock (errors) return errors.ToString(); } }

    /// <summary>Waits until stdout holds <paramref name="text"/>; false if the process ended first or a minute passed.</summary>
    public bool WaitFor(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            Thread.Sleep(10);
        }
        return Output.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Sends a signal ("TERM", "INT") as kill(1) does.</summary>
    public void Signal(string name) =>
        Process.Start("kill", [$"-{name}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>Sends a signal twice, back to back, as timeout(1) does (to the process, then to its group).</summary>
    public void SignalTwice(string name)
    {
        string pid = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Process.Start("sh", ["-c", $"kill -{name} {pid}; kill -{name} {pid}"])!.WaitForExit();
    }

    /// <summary>The exit code, once the process has ended (within a minute).</summary>
    public int Exit()
    {
        if (!process.WaitForExit(60_000)) throw new TimeoutException($"gpunet did not exit; it printed: {Output}{Errors}");
        process.WaitForExit(); // the output readers are done too
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
