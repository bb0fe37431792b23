using System.Diagnostics;
using System.Text;

namespace GpuNet.Tests;

/// <summary>A started process's stdout and stderr, read line by line on two threads of their own rather than on the
/// thread pool (<see cref="Process.BeginOutputReadLine"/>), which the suite's parallel tests can starve for seconds: a
/// line the process printed is seen as soon as it is written, however loaded the machine.</summary>
internal sealed class ProcessOutput
{
    private readonly StringBuilder output = new(), errors = new();
    private readonly Thread[] readers;

    /// <param name="process">Started with stdout and stderr redirected.</param>
    public ProcessOutput(Process process) =>
        readers = [Reader(process.StandardOutput, output), Reader(process.StandardError, errors)];

    private static Thread Reader(StreamReader from, StringBuilder into)
    {
        var thread = new Thread(() =>
        {
            while (from.ReadLine() is { } line)
                lock (into) into.AppendLine(line);
        }) { IsBackground = true };
        thread.Start();
        return thread;
    }

    /// <summary>What the process has written on stdout so far.</summary>
    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>What the process has written on stderr so far.</summary>
    public string Errors { get { lock (errors) return errors.ToString(); } }

    /// <summary>Waits (a little) for both streams to reach their end: call once the process has exited.</summary>
    public void Drain()
    {
        foreach (var r in readers) r.Join(TimeSpan.FromSeconds(10));
    }
}
