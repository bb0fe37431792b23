using GpuNet.Devices;
using GpuNet.Distributed;

namespace GpuNet.Cli;

/// <summary>
/// gpunet under mpirun (one process per GPU): <c>train</c> trains one model data-parallel over the job, rank 0 alone
/// printing and writing files; <c>devices</c> shows which rank takes which device on which host and checks that the
/// broadcast and all-reduce work. An error before training is reported by the rank at fault and ends every rank with
/// the same exit code; an error during training (a device error, say) ends the job through MPI_Abort, so no rank is
/// left waiting for the others; a rank killed outright is ended by mpirun itself.
/// </summary>
internal static class MpiCommand
{
    public static int Run(string command, string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken, bool verbose)
    {
        if (command is not ("train" or "devices"))
            throw new UsageException($"gpunet {command} runs in one process; under mpirun only train and devices take part in a job");
        using var world = MpiWorld.Init();
        var job = new MpiJob(world, stderr, verbose);
        try
        {
            return command == "train" ? Train(job, args, stdout, stderr, cancellationToken) : Devices(job, args, stdout);
        }
        catch (JobFailedException f)
        {
            return f.Code;
        }
        catch (Exception e) when (CommandLine.IsReported(e))
        {
            if (!job.Agreed) return job.Agree(e);
            // A divergence is found on every rank at the same step (the sums are all-reduced): rank 0 reports it.
            if (e.InnerException is TrainingDivergedException) return job.IsRoot ? CommandLine.Report(e, stderr, verbose, job.Who) : 1;
            int code = CommandLine.Report(e, stderr, verbose, job.Who);
            world.Abort(code); // the other ranks wait in a collective call for this one: end them all
            return code;
        }
    }

    private static int Train(MpiJob job, string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var (rootArgs, differs) = job.CompareArguments(args);
        var unreadable = job.FetchCheckpoint(rootArgs);
        if (job.Agree(differs ?? unreadable, last: false) is var code and not 0) return code; // before any data is read
        var quiet = TextWriter.Null;
        return new TrainCommand(args, job.IsRoot ? stdout : quiet, job.IsRoot ? stderr : quiet, job).Run(cancellationToken);
    }

    /// <summary>Every rank's host, local rank and device, printed by rank 0, then a check of the collectives: every rank
    /// adds its rank + 1 in float and in double, and must get N(N+1)/2.</summary>
    private static int Devices(MpiJob job, string[] args, TextWriter stdout)
    {
        var world = job.World;
        string line;
        try
        {
            var a = new Arguments("devices", args, ["device"], []);
            using var device = job.OpenDevices(a.String("device", "auto"));
            line = $"rank {world.Rank} on {world.Host} (local rank {world.LocalRank}): {device.Primary.Info}";
        }
        catch (Exception e) when (CommandLine.IsReported(e))
        {
            return job.Agree(e);
        }
        if (job.Agree(null) is var code and not 0) return code;
        var lines = Enumerable.Range(0, world.Size).Select(r => job.BroadcastString(world.Rank == r ? line : null, r)).ToList();
        float[] f = [world.Rank + 1];
        double[] d = [0.5 * (world.Rank + 1)];
        world.AllReduce(f, ReduceOp.Sum);
        world.AllReduce(d, ReduceOp.Sum);
        double expected = world.Size * (world.Size + 1) / 2.0;
        double[] wrong = [f[0] == expected && d[0] == expected / 2 ? 0 : 1];
        world.AllReduce(wrong, ReduceOp.Max);
        world.Barrier();
        if (!job.IsRoot) return wrong[0] == 0 ? 0 : 1;
        stdout.WriteLine($"job: {world.Size} processes on {lines.Select(l => l.Split(' ')[3]).Distinct().Count()} host(s)");
        foreach (var l in lines) stdout.WriteLine(l);
        stdout.WriteLine(wrong[0] == 0 ? "collectives: broadcast, float and double all-reduce and barrier agree on every rank"
            : "collectives: FAILED: an all-reduce gave a rank a wrong sum");
        return wrong[0] == 0 ? 0 : 1;
    }
}
