using System.Diagnostics;
using System.Globalization;

namespace GpuNet.Tests.Scale;

/// <summary>
/// Starts Open MPI's mpirun on this machine (loopback) with the test's copy of gpunet: with the flags a CI container
/// needs (root is allowed through OMPI_ALLOW_RUN_AS_ROOT, more ranks than cores through --oversubscribe, and the
/// shared-memory transport copies through its own buffers rather than by cross-memory attach, which a container without
/// ptrace rights refuses mid-job: btl_vader_single_copy_mechanism=none). Open MPI
/// must be installed (<c>.ci/run</c> installs Debian's openmpi-bin and libopenmpi-dev); without it the tests fail
/// saying so rather than pass unseen.
/// </summary>
internal sealed class Mpirun : IDisposable
{
    private readonly Process process;
    private readonly ProcessOutput streams;

    /// <summary>mpirun with <paramref name="apps"/>: each an (np, working folder, gpunet arguments), joined by ':' into
    /// one job (Open MPI's MPMD form), so that ranks may be given different folders or options.</summary>
    private Mpirun(IEnumerable<(int Np, string Dir, string[] Args)> apps)
    {
        string mpirun = Find("mpirun");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        psi.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        psi.ArgumentList.Add("--oversubscribe");
        bool first = true;
        foreach (var (np, dir, args) in apps)
        {
            if (!first) psi.ArgumentList.Add(":");
            first = false;
            foreach (var a in new[] { "-np", np.ToString(CultureInfo.InvariantCulture), "--wdir", dir, dotnet, Path.Combine(AppContext.BaseDirectory, "gpunet.dll") })
                psi.ArgumentList.Add(a);
            foreach (var a in args) psi.ArgumentList.Add(a);
        }
        process = Process.Start(psi)!;
        streams = new ProcessOutput(process); // read on threads of their own: a loaded machine cannot delay a line
    }

    /// <summary>Starts <paramref name="np"/> ranks of <c>gpunet <paramref name="args"/></c> in <paramref name="dir"/>.</summary>
    public static Mpirun Start(int np, string dir, params string[] args) => new([(np, dir, args)]);

    /// <summary>Starts one job of several apps (MPMD).</summary>
    public static Mpirun Start(params (int Np, string Dir, string[] Args)[] apps) => new(apps);

    /// <summary>Runs to the end (at most <paramref name="seconds"/>, else the job is killed and the test fails: a hang).</summary>
    public static (int Code, string Out, string Err) Run(int seconds, int np, string dir, params string[] args)
    {
        using var job = Start(np, dir, args);
        return job.Wait(seconds);
    }

    /// <summary>What the job has printed on stdout so far.</summary>
    public string Output => streams.Output;

    /// <summary>Waits for the end; kills the job and fails when it takes longer than <paramref name="seconds"/>.</summary>
    public (int Code, string Out, string Err) Wait(int seconds)
    {
        if (!process.WaitForExit(seconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Xunit.Assert.Fail($"mpirun did not end within {seconds} s (a hang); stdout so far:\n{Output}");
        }
        streams.Drain();
        return (process.ExitCode, Output, streams.Errors);
    }

    /// <summary>Waits until stdout holds <paramref name="text"/>; false when the job ended first or time ran out.</summary>
    public bool WaitFor(string text, int seconds)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds && !process.HasExited)
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            Thread.Sleep(20);
        }
        return Output.Contains(text, StringComparison.Ordinal) && !process.HasExited;
    }

    /// <summary>The process ids of the job's gpunet ranks (mpirun's children on this host), in start order.</summary>
    public int[] Ranks() =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Where(pid => Parent(pid) == process.Id && CommandLineOf(pid).Contains("gpunet.dll", StringComparison.Ordinal)).Order().ToArray();

    /// <summary>True while a process of that id is there (and not a zombie).</summary>
    public static bool Alive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    private static int Parent(int pid)
    {
        try
        {
            // "pid (comm) state ppid …": the command may hold spaces and parentheses, so read after the last ')'.
            var after = File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim().Split(' ');
            return int.Parse(after[1], CultureInfo.InvariantCulture);
        }
        catch (IOException) { return -1; }
    }

    private static string CommandLineOf(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }

    private static string Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{program} is not on PATH: the MPI tests need Open MPI (apt-get install openmpi-bin libopenmpi-dev; .ci/run installs them)");

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}
