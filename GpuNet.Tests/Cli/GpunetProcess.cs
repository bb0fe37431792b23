using System.Diagnostics;
using System.Runtime.InteropServices;
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

    /// <summary>Sends a signal ("TERM", "INT").</summary>
    public void Signal(string name) => Send(process.Id, name);

    /// <summary>Sends signal "TERM" or "INT" to process <paramref name="pid"/> with kill(2) itself: starting kill(1)
    /// takes long enough on a loaded machine for a short run to end before its signal arrives.</summary>
    public static void Send(int pid, string name)
    {
        int signal = name switch { "TERM" => 15, "INT" => 2, _ => throw new ArgumentException($"no signal {name}", nameof(name)) };
        if (Kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, SIG{name}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

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
