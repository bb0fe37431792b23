using System.Text;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Distributed;
using GpuNet.Training;

namespace GpuNet.Cli;

/// <summary>
/// This process's part in an mpirun job of gpunet: its rank, and what the ranks agree on before training starts.
/// Every rank makes the same collective calls in the same order whatever fails locally, so no rank is left waiting:
/// rank 0's command line is sent to every rank and compared; rank 0 reads the checkpoint to resume from and sends its
/// bytes; the ranks agree that all went well; then each reads its data and builds its network, and at the second
/// agreement every rank says whether it is ready (a rank that failed says so instead) and, when all are, the training
/// data and the device are compared with rank 0's. After that, an error on one rank ends the whole job
/// (<see cref="ICommunicator.Abort"/>).
/// </summary>
internal sealed class MpiJob(ICommunicator world, TextWriter stderr, bool verbose)
{
    /// <summary>The job's processes.</summary>
    public ICommunicator World => world;

    /// <summary>Rank 0: reads the options, decides, writes every file and prints.</summary>
    public bool IsRoot => world.Rank == 0;

    /// <summary>How this rank's messages start.</summary>
    public string Who => $"gpunet: rank {world.Rank} of {world.Size} ({world.Host}): ";

    /// <summary>True once the agreement before training was made (from then on an error aborts the job).</summary>
    public bool Agreed { get; private set; }

    /// <summary>The checkpoint to resume from, as rank 0 read it, or null.</summary>
    public CheckpointFile? Checkpoint { get; private set; }

    /// <summary>Sends rank 0's command line to every rank; returns it and, on a rank started otherwise, the error.</summary>
    public (string[] RootArgs, Exception? Error) CompareArguments(string[] args)
    {
        string mine = JsonSerializer.Serialize(args);
        string root = BroadcastString(IsRoot ? mine : null, 0);
        var theirs = JsonSerializer.Deserialize<string[]>(root)!;
        if (root == mine) return (theirs, null);
        int i = 0;
        while (i < args.Length && i < theirs.Length && args[i] == theirs[i]) i++;
        // The first difference, with its option when it is a value: '--lr 0.02' here, '--lr 0.01' on rank 0.
        string At(string[] a) => i >= a.Length ? "nothing"
            : i > 0 && a[i - 1].StartsWith("--", StringComparison.Ordinal) && !a[i].StartsWith("--", StringComparison.Ordinal) ? $"'{a[i - 1]} {a[i]}'"
            : $"'{a[i]}'";
        return (theirs, new UsageException($"its command line differs from rank 0's: {At(args)} here, {At(theirs)} on rank 0; " +
            "mpirun must start every rank with the same options"));
    }

    /// <summary>With --resume DIR|FILE in rank 0's command line: rank 0 finds the checkpoint (a folder's newest) and sends
    /// its bytes, which every rank reads (a rank's folders may not exist on another host). Returns this rank's error.</summary>
    public Exception? FetchCheckpoint(string[] rootArgs)
    {
        string? dir = rootArgs.Select((arg, i) => arg.StartsWith("--resume=", StringComparison.Ordinal) ? arg[9..]
            : arg == "--resume" && i + 1 < rootArgs.Length ? rootArgs[i + 1] : null).FirstOrDefault(d => d != null);
        if (dir == null) return null;
        Exception? error = null;
        byte[]? bytes = null;
        string path = "";
        if (IsRoot)
        {
            try
            {
                path = CheckpointFolder.Resolve(dir).Path; // the folder's newest checkpoint of its run, or the file given
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (CommandLine.IsReported(e)) { error = e; }
        }
        Span<long> length = [bytes?.LongLength ?? -1];
        world.Broadcast(length, 0);
        if (length[0] < 0) return error ?? new GpuNetException("rank 0 could not read the checkpoint to resume from");
        bytes ??= new byte[length[0]];
        world.Broadcast(bytes.AsSpan(), 0);
        path = BroadcastString(IsRoot ? path : null, 0);
        try
        {
            Checkpoint = Training.Checkpoint.Read(bytes, path);
            return null;
        }
        catch (Exception e) when (CommandLine.IsReported(e)) { return e; }
    }

    /// <summary>This rank's device for a kind-only --device (the GPU of its local rank).</summary>
    public DeviceSet OpenDevices(string spec)
    {
        if (!DeviceSpec.Parse(spec).IsKindOnly)
            throw new UsageException($"--device {spec}: under mpirun each process takes the device of its local rank (the first " +
                "process on a host the first GPU, …); give auto, cuda, opencl or cpu");
        return new DeviceSet([Gpu.OpenForLocalRank(spec, world.LocalRank)]);
    }

    /// <summary>An agreement before training, for a rank that failed (<paramref name="error"/>) or is ready (null):
    /// every rank learns the worst exit code and whether rank 0 failed. When rank 0 failed, it alone reports (its error
    /// is usually every rank's); else each failed rank reports its own. Returns the job's exit code (0: all ready). The
    /// ranks agree twice: on the command line and checkpoint, then, <paramref name="last"/>, when ready to train.</summary>
    public int Agree(Exception? error, bool last = true)
    {
        if (Agreed) throw new InvalidOperationException("the ranks agree before training, not after");
        Agreed = last;
        int code = error == null ? 0 : error is UsageException ? 2 : 1;
        double[] codes = [code, IsRoot ? code : 0];
        world.AllReduce(codes, ReduceOp.Max);
        if (error != null && (IsRoot || codes[1] == 0)) CommandLine.Report(error, stderr, verbose, Who);
        return (int)codes[0];
    }

    /// <summary>Called by the train command when everything is read and built, before the first step: the agreement;
    /// then the training data and the device compared with rank 0's. Throws <see cref="JobFailedException"/> (already
    /// reported) when any rank failed or differs.</summary>
    public void Ready(Dataset train, DeviceSet devices)
    {
        int code = Agree(null);
        if (code != 0) throw new JobFailedException(code);
        ulong classes = Fingerprint.Of<char>(string.Join('\n', train.ClassNames ?? []).AsSpan());
        string data = $"{train.Count} rows of {train.FeatureCount} features, fingerprint " +
            $"{Fingerprint.Of<float>(train.Features, Fingerprint.Of<float>(train.Targets, classes)):x16}";
        var info = devices.Primary.Info;
        string device = $"{info.Kind.ToString().ToLowerInvariant()}: {info.Name}";
        string rootData = BroadcastString(IsRoot ? data : null, 0), rootDevice = BroadcastString(IsRoot ? device : null, 0);
        string? problem =
            data != rootData ? $"its training data differs from rank 0's: {data} here, {rootData} on rank 0; every rank " +
                "must read the same data (check --data and the files on each host)"
            : device != rootDevice ? $"it trains on {device}, rank 0 on {rootDevice}: every rank must use one kind and model " +
                "of device, whose kernels round alike, or the replicas drift apart"
            : null;
        double[] any = [problem == null ? 0 : 1];
        world.AllReduce(any, ReduceOp.Max);
        if (problem != null) stderr.WriteLine($"{Who}error: {problem}");
        if (any[0] != 0) throw new JobFailedException(1);
    }

    /// <summary>A string from rank <paramref name="root"/> (which gives it; the others give null) to every rank.</summary>
    public string BroadcastString(string? value, int root)
    {
        var bytes = Encoding.UTF8.GetBytes(value ?? "");
        Span<int> length = [bytes.Length];
        world.Broadcast(length, root);
        if (world.Rank != root) bytes = new byte[length[0]];
        world.Broadcast(bytes.AsSpan(), root);
        return Encoding.UTF8.GetString(bytes);
    }
}

/// <summary>The job cannot go on; the ranks at fault have said why. Carries the exit code.</summary>
internal sealed class JobFailedException(int code) : Exception($"the job failed with exit code {code}")
{
    public int Code { get; } = code;
}
