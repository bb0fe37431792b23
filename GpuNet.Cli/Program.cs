using GpuNet.Cli;

using var cancel = new CancellationTokenSource();
int interrupts = 0;
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C: finish the current step, write what was trained, exit non-zero. Second: exit at once.
    if (Interlocked.Increment(ref interrupts) == 1)
    {
        e.Cancel = true;
        Console.Error.WriteLine("\ninterrupted: stopping after the current step (Ctrl-C again to quit at once)");
        cancel.Cancel();
    }
};
return CommandLine.Run(args, Console.Out, Console.Error, cancel.Token);
