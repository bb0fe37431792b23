using GpuNet.Cli;
using GpuNet.Distributed;

// Under mpirun a rank's output is a pseudo-terminal whose bytes mpirun copies to its own output, often a log file:
// .NET would open it with a terminal's keypad sequence (ESC [?1h ESC =), which shows there as "[?1h=". A rank draws no
// progress bar, so it needs no terminal capabilities.
if (MpiWorld.IsLaunched) Environment.SetEnvironmentVariable("TERM", "dumb");
using var interrupts = new Interrupts(Console.Error);
int code = CommandLine.Run(args, Console.Out, Console.Error, interrupts.Token);
// A run that stopped because it was asked to reports the signal that asked: 130 (Ctrl-C) or 143 (SIGTERM).
return code == CommandLine.Interrupted ? interrupts.ExitCode : code;
