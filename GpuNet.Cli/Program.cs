using GpuNet.Cli;

using var interrupts = new Interrupts(Console.Error);
int code = CommandLine.Run(args, Console.Out, Console.Error, interrupts.Token);
// A run that stopped because it was asked to reports the signal that asked: 130 (Ctrl-C) or 143 (SIGTERM).
return code == CommandLine.Interrupted ? interrupts.ExitCode : code;
