using System.Diagnostics;
using System.Runtime.InteropServices;
using GpuNet.IO;

namespace GpuNet.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM (sent by timeout, docker stop, Kubernetes, Slurm) both ask a run to stop: the first
/// finishes the current step, writes a checkpoint and says how to resume; the second quits at once, removing the
/// temporary files of writes under way, so no partial file is left. The exit code is 128 + the signal's number, as a
/// shell reports a process ended by it: 130 for SIGINT, 143 for SIGTERM.
/// </summary>
/// <remarks>
/// One request often arrives twice: <c>timeout</c> signals its child and then the child's whole process group, a
/// terminal's Ctrl-C reaches every process of the foreground group while <c>mpirun</c> or a wrapper script forwards
/// it as well. The same signal again within <see cref="Echo"/> of the first is that echo, not a second request; a
/// different signal, or the same one later, is.
/// </remarks>
internal sealed class Interrupts : IDisposable
{
    /// <summary>How soon after the first signal the same signal is taken as the same request delivered twice. A
    /// person pressing Ctrl-C again takes longer; the echoes above come microseconds to milliseconds apart.</summary>
    internal static readonly TimeSpan Echo = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource cancel = new();
    private readonly TextWriter stderr;
    private readonly Action<int> quit;
    private readonly Func<TimeSpan> clock;
    private readonly PosixSignalRegistration[] registrations;
    private readonly Lock gate = new();
    private int firstSignal;
    private TimeSpan firstAt;

    /// <param name="stderr">Where the notices go.</param>
    /// <param name="quit">Quits at once with an exit code: by default removes the temporary files of writes under way
    /// and ends the process (tests pass their own).</param>
    /// <param name="clock">Elapsed time (tests pass their own).</param>
    /// <param name="register">Whether to handle the process's real SIGINT and SIGTERM.</param>
    public Interrupts(TextWriter stderr, Action<int>? quit = null, Func<TimeSpan>? clock = null, bool register = true)
    {
        this.stderr = stderr;
        this.quit = quit ?? QuitAtOnce;
        var watch = Stopwatch.StartNew();
        this.clock = clock ?? (() => watch.Elapsed);
        registrations = register
            ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, On), PosixSignalRegistration.Create(PosixSignal.SIGTERM, On)]
            : [];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => cancel.Token;

    /// <summary>The exit code of a run that stopped because it was asked to: 143 after SIGTERM, else 130.</summary>
    public int ExitCode => Volatile.Read(ref firstSignal) == 15 ? 143 : 130;

    private void On(PosixSignalContext context)
    {
        context.Cancel = true; // not the runtime's default (quit at once): the run decides
        Receive(context.Signal == PosixSignal.SIGTERM ? 15 : 2);
    }

    /// <summary>Handles signal <paramref name="number"/> (2 or 15): the first cancels <see cref="Token"/>, an echo of
    /// it is ignored, any other quits at once with 128 + its number.</summary>
    internal void Receive(int number)
    {
        TimeSpan now = clock();
        bool first;
        lock (gate) // only the bookkeeping: cancelling runs the token's callbacks, which must not hold up a second signal
        {
            first = firstSignal == 0;
            if (first)
            {
                Volatile.Write(ref firstSignal, number);
                firstAt = now;
            }
            else if (number == firstSignal && now - firstAt < Echo) return;
        }
        if (first)
        {
            string what = number == 15 ? "terminated (SIGTERM)" : "interrupted";
            stderr.WriteLine($"\n{what}: stopping after the current step (a second Ctrl-C or SIGTERM quits at once)");
            cancel.Cancel();
            return;
        }
        stderr.WriteLine("quitting at once");
        quit(128 + number);
    }

    private static void QuitAtOnce(int code)
    {
        AtomicFile.AbandonWrites();
        Environment.Exit(code);
    }

    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
        cancel.Dispose();
    }
}
