using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace GpuNet.Tests.Cli;

/// <summary>The built gpunet executable (the test's copy) in a real process, for what only a process has: signals and
/// exit codes. Its stdout and stderr are read as <see cref="ProcessOutput"/> reads them, so a line it printed is seen at
/// once, however loaded the machine.</summary>
internal sealed partial class GpunetProcess : IDisposable
{
    /// <summary>How long a test waits for a line, or for the process to exit, before it fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private readonly Process process;
    private readonly ProcessOutput streams;

    public GpunetProcess(params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gpunet.dll"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        process = Process.Start(psi)!;
        streams = new ProcessOutput(process);
    }

    public int Id => process.Id;

    public string Output => streams.Output;
    public string Errors => streams.Errors;

    /// <summary>Waits until stdout holds <paramref name="text"/>; false if the process ended first or
    /// <see cref="Patience"/> passed.</summary>
    public bool WaitFor(string text) => WaitFor(() => Output, text);

    /// <summary>Waits until stderr holds <paramref name="text"/>, as <see cref="WaitFor(string)"/>.</summary>
    public bool WaitForError(string text) => WaitFor(() => Errors, text);

    private bool WaitFor(Func<string> stream, string text)
    {
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < Patience)
        {
            if (stream().Contains(text, StringComparison.Ordinal)) return true;
            Thread.Sleep(10);
        }
        streams.Drain(); // what it printed before it ended
        return stream().Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Sends a signal ("TERM", "INT") as kill(1) does.</summary>
    public void Signal(string name) => Signal(name == "TERM" ? SigTerm : name == "INT" ? SigInt : throw new ArgumentException(name));

    /// <summary>Sends the signal <paramref name="number"/> <paramref name="times"/> times back to back (microseconds
    /// apart), as <c>timeout</c> does when it signals its child and then the child's process group.</summary>
    public void Signal(int number, int times = 1)
    {
        for (int i = 0; i < times; i++)
            if (kill(process.Id, number) != 0)
                throw new InvalidOperationException($"kill({process.Id}, {number.ToString(CultureInfo.InvariantCulture)}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Kills the process outright (SIGKILL) and waits until it is gone.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit(Patience);
    }

    public const int SigInt = 2, SigTerm = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    /// <summary>The exit code, once the process has ended (within <see cref="Patience"/>).</summary>
    public int Exit()
    {
        if (!process.WaitForExit(Patience)) throw new TimeoutException($"gpunet did not exit; it printed: {Output}{Errors}");
        streams.Drain(); // the output readers are done too
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(TimeSpan.FromSeconds(10));
        process.Dispose();
    }
}
