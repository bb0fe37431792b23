using GpuNet.Devices;
using GpuNet.Distributed;

namespace GpuNet.Cli;

/// <summary>The `gpunet` command: dispatches to devices, train, eval, predict, gradcheck and export; turns errors into one line.</summary>
public static class CommandLine
{
    public const string Usage = """
        usage: gpunet <command> [options]

        commands:
          devices   [--json]                  list the accelerators and which one 'auto' picks
          train     [options]                 train a network, write the model (gpunet train --help)
          eval      --model FILE --data SPEC  loss, accuracy and confusion matrix of a model
          predict   --model FILE --input FILE.csv [--output FILE.csv] [--labels]
          gradcheck --model FILE --data SPEC  the device's gradients against float64 finite differences
          export    --onnx FILE --model FILE  the model as an ONNX file
          help      [COMMAND]                 this text, or a command's options (as gpunet COMMAND --help)

        gpunet --version prints the versions of gpunet, ILGPU and .NET.
        mpirun -np N gpunet train [options] trains one model over N processes, one GPU each (mpirun … gpunet devices
        shows which rank takes which device).
        train, eval, predict and gradcheck take --device auto|cpu|cuda|opencl|INDEX (train also INDEX,INDEX,…, all or
        cpu:N); every command takes --verbose (stack traces on errors)

        """;

    /// <summary>The exit code of a run that stopped because it was asked to (the executable reports 130 or 143 by the
    /// signal that asked).</summary>
    public const int Interrupted = 130;

    /// <summary>Runs one command; returns the exit code (0 ok, 1 failure, 2 usage error, 130 interrupted).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        bool verbose = args.Contains("--verbose");
        var rest = args.Where(a => a != "--verbose").ToArray();
        if (rest.Length == 0)
        {
            stderr.Write(Usage); // a mistake, exit 2: on stderr, so that it is not taken for output
            return 2;
        }
        if (rest[0] is "--version" or "-V" or "version")
        {
            stdout.WriteLine(VersionText.Line());
            return 0;
        }
        try
        {
            if (rest[0] is "--help" or "-h" or "help") return Help(stdout, rest.Length == 1 ? Usage : HelpOf(rest[1]));
            string command = rest[0];
            var options = rest.Skip(1);
            if (options.Contains("--help") || options.Contains("-h")) return Help(stdout, HelpOf(command));
            if (MpiWorld.IsLaunched) return MpiCommand.Run(command, options.ToArray(), stdout, stderr, cancellationToken, verbose); // under mpirun
            return command switch
            {
                "devices" => DevicesCommand.Run(options, stdout),
                "train" => new TrainCommand(options, stdout, stderr).Run(cancellationToken),
                "eval" => EvalCommand.Run(options, stdout),
                "predict" => PredictCommand.Run(options, stdout, stderr),
                "gradcheck" => GradCheckCommand.Run(options, stdout, stderr),
                "export" => ExportCommand.Run(options, stdout),
                _ => throw Unknown(command),
            };
        }
        catch (Exception e) when (IsReported(e))
        {
            return Report(e, stderr, verbose);
        }
    }

    /// <summary>The errors a command reports as one line (anything else is a bug, and crashes with its stack).</summary>
    internal static bool IsReported(Exception e) =>
        e is UsageException or GpuNetException or DeviceNotFoundException or ArgumentException or IOException
            or UnauthorizedAccessException or NotSupportedException or InvalidOperationException;

    /// <summary>Writes a reported error as one line after <paramref name="who"/> (under MPI, the rank that failed); returns
    /// the exit code: 2 for a command-line mistake, else 1.</summary>
    internal static int Report(Exception e, TextWriter stderr, bool verbose, string who = "gpunet: ")
    {
        if (e is UsageException)
        {
            stderr.WriteLine($"{who}{e.Message}");
            return 2;
        }
        // bce's target check speaks the library's words; here the options that change the loss are named too.
        stderr.WriteLine($"{who}error: {Message(e)}");
        if (verbose) stderr.WriteLine(e);
        else if (e is not (GpuNetException or DeviceNotFoundException or FileNotFoundException or DirectoryNotFoundException or GpuNet.IO.FileWriteException
                     or UnauthorizedAccessException))
            stderr.WriteLine("(run with --verbose for details)"); // the message alone may not say enough
        return 1;
    }

    private static string HelpOf(string command) => command switch
    {
        "devices" => DevicesCommand.Help,
        "train" => TrainCommand.Help,
        "eval" => EvalCommand.Help,
        "predict" => PredictCommand.Help,
        "gradcheck" => GradCheckCommand.Help,
        "export" => ExportCommand.Help,
        "help" => Usage,
        _ => throw Unknown(command),
    };

    private static UsageException Unknown(string command) =>
        new($"unknown command '{command}': use devices, train, eval, predict, gradcheck or export (gpunet help lists them)");

    /// <summary>The error's message, with the command's option names where the library names its own settings.</summary>
    private static string Message(Exception e) => e switch
    {
        DeviceMemoryException m => m.MessageNaming("--batch", "--restarts"),
        // bce's target check speaks the library's words; here the options that change the loss are named too.
        GpuNet.Model.TargetRangeException => e.Message + " (--loss mse --output identity)",
        _ => OptionNames.Message(e), // settings the library names in brackets, e.g. (hasHeader), (Standardizer)
    };

    private static int Help(TextWriter stdout, string text)
    {
        stdout.Write(text);
        return 0;
    }
}
