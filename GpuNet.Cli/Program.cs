using GpuNet.Cli;

using var cancel = new CancellationTokenSource();
int interrupts = 0;
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C: finish the current step, write a checkpoint, exit non-zero. Second: exit at once (files are
    // only ever replaced by atomic renames, so nothing on disk is left half-written).
    if (Interlocked.Increment(ref interrupts) == 1)
    {
        e.Cancel = true;
        Console.Error.WriteLine("\ninterrupted: stopping after the current step (Ctrl-C again to quit at once)");
        cancel.Cancel();
    }
};
return CommandLine.Run(args, Console.Out, Console.Error, cancel.Token);
