using System.Runtime.InteropServices;
using GpuNet.IO;

namespace GpuNet.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM (sent by timeout, docker stop, Kubernetes, Slurm) both ask a run to stop: the first
/// finishes the current step, writes a checkpoint and says how to resume; the second quits at once, removing the
/// temporary files of writes under way, so no partial file is left. The exit code is 128 + the signal's number, as a
/// shell reports a process ended by it: 130 for SIGINT, 143 for SIGTERM. The same signal again within
/// <see cref="Echo"/> of the first is the same request: timeout(1) sends its signal to the process and then to the
/// process's group, so a run under it receives SIGTERM twice at once.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource cancel = new();
    private readonly TextWriter stderr;
    private readonly PosixSignalRegistration[] registrations;
    private int count, firstSignal;
    private long firstHandled; // Stopwatch timestamp when the first signal had been handled

    /// <summary>How soon after the first a repeat of the same signal is taken for an echo of it, not a second request.</summary>
    private static readonly TimeSpan Echo = TimeSpan.FromMilliseconds(500);

    public Interrupts(TextWriter stderr)
    {
        this.stderr = stderr;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, On), PosixSignalRegistration.Create(PosixSignal.SIGTERM, On)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => cancel.Token;

    /// <summary>The exit code of a run that stopped because it was asked to: 143 after SIGTERM, else 130.</summary>
    public int ExitCode => Volatile.Read(ref firstSignal) == 15 ? 143 : 130;

    private void On(PosixSignalContext context)
    {
        context.Cancel = true; // not the runtime's default (quit at once): the run decides
        int number = context.Signal == PosixSignal.SIGTERM ? 15 : 2;
        if (Interlocked.Increment(ref count) == 1)
        {
            Volatile.Write(ref firstSignal, number);
            string what = number == 15 ? "terminated (SIGTERM)" : "interrupted";
            stderr.WriteLine($"\n{what}: stopping after the current step (a second Ctrl-C or SIGTERM quits at once)");
            cancel.Cancel();
            Volatile.Write(ref firstHandled, System.Diagnostics.Stopwatch.GetTimestamp());
            return;
        }
        long first = Volatile.Read(ref firstHandled);
        if (number == Volatile.Read(ref firstSignal) && (first == 0 || System.Diagnostics.Stopwatch.GetElapsedTime(first) < Echo))
        {
            Interlocked.Decrement(ref count);
            return;
        }
        stderr.WriteLine("quitting at once");
        AtomicFile.AbandonWrites();
        Environment.Exit(128 + number);
    }

    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
        cancel.Dispose();
    }
}
