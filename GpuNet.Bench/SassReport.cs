using System.Globalization;
using System.Text.Json;
using GpuNet.Devices;

namespace GpuNet.Bench;

/// <summary>
/// <c>--sass [NAME] [--json FILE]</c>: every kernel of the catalogue (or those whose name contains NAME) compiled for
/// sm_90 with ptxas and read back with cuobjdump, no GPU needed: resources, theoretical occupancy on an H200, the GEMMs'
/// inner-loop instruction mix against the production targets, and the other kernels' estimated share of DRAM
/// bandwidth. JSON shape: docs/BENCHMARKS.md.
/// </summary>
internal static class SassReport
{
    public sealed record LoopJson(int Head, int Tail, int Instructions, int Ffma, double FfmaShare, double OthersPerFfma,
        int SharedLoads, int SharedLoads128, int SharedStores, int GlobalLoads, int GlobalLoads128, int GlobalStores,
        int GlobalLoadBytes, int GlobalStoreBytes, int Barriers, int Calls, int EveryIterationCalls, int IntegerDivisions32,
        int IntegerDivisions64);
    public sealed record BandwidthJson(int LoadBytesInFlight, double IssueBoundTbs, double LatencyBoundTbs, double Fraction, string Limiter);
    public sealed record TargetJson(string Requirement, bool Met, string Value);
    public sealed record KernelJson(string Name, int ThreadsPerGroup, int Registers, int SpillBytes, int StackBytes, int SharedBytes,
        int BlocksPerSm, int WarpsPerSm, double Occupancy, string OccupancyLimit, List<string> Divisions64, int Instructions,
        int Loops, LoopJson? HotLoop, BandwidthJson? Bandwidth, List<TargetJson>? GemmTargets);
    public sealed record ReportJson(string Tool, int Version, string Date, string Arch, string Ptxas, string Gpu,
        double LatencyNs, double DramTbs, List<KernelJson> Kernels);

    public static int Run(string[] args)
    {
        string filter = "";
        string? json = null;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--json" && i + 1 < args.Length) json = args[++i];
            else if (!args[i].StartsWith("--", StringComparison.Ordinal) && filter.Length == 0) filter = args[i];
            else { Console.Error.WriteLine($"unknown --sass option {args[i]}; use --sass [NAME] [--json FILE]"); return 2; }
        }
        var tools = CudaTools.TryFind(out string problem);
        if (tools == null) { Console.Error.WriteLine(problem); return 1; }
        var kernels = KernelSass.AnalyzeAll(tools, filter);
        if (kernels.Count == 0) { Console.Error.WriteLine($"no kernel of the catalogue has '{filter}' in its name"); return 2; }
        string date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Print(Console.Out, kernels, tools, date);
        if (json != null)
        {
            var report = new ReportJson("gpunet-sass", 1, date, KernelSass.Arch, tools.VersionLine, KernelSass.Gpu.Device,
                BandwidthEstimate.LatencySeconds * 1e9, KernelSass.Gpu.DramBytesPerSecond / 1e12, kernels.Select(ToJson).ToList());
            File.WriteAllText(json, JsonSerializer.Serialize(report, Json.Options));
        }
        return 0;
    }

    private static KernelJson ToJson(KernelSass k)
    {
        var r = k.Resources;
        var o = k.Occupancy;
        LoopJson? loop = k.HotLoop is { } l && k.HotLoopMix is { } m
            ? new(l.Head, l.Tail, m.Total, m.Ffma, m.FfmaShare, double.IsInfinity(m.OthersPerFfma) ? -1 : m.OthersPerFfma, m.SharedLoads,
                m.SharedLoads128, m.SharedStores, m.GlobalLoads, m.GlobalLoads128, m.GlobalStores, m.GlobalLoadBytes, m.GlobalStoreBytes, m.Barriers, m.Calls,
                l.EveryIterationCalls, l.IntegerDivisions.Bits32, l.IntegerDivisions.Bits64)
            : null;
        BandwidthJson? bw = k.Bandwidth is { } b
            ? new(b.LoadBytesInFlight, Tbs(b.IssueBoundBytesPerSecond), Tbs(b.LatencyBoundBytesPerSecond), b.Fraction, b.Limiter)
            : null;
        var targets = k.IsGemm ? GemmLoopTargets.Check(k).Select(t => new TargetJson(t.Requirement, t.Met, t.Value)).ToList() : null;
        return new KernelJson(k.Name, k.ThreadsPerGroup, r.Registers, r.SpillBytes, r.StackBytes, r.SharedBytes, o.BlocksPerSm,
            o.WarpsPerSm, o.Fraction, o.Limiter, k.Divisions64.ToList(), k.Instructions, k.Loops, loop, bw, targets);
    }

    // JSON has no infinity: a ceiling that does not apply is written as -1.
    private static double Tbs(double bytesPerSecond) => double.IsInfinity(bytesPerSecond) ? -1 : bytesPerSecond / 1e12;

    public static void Print(TextWriter w, IReadOnlyList<KernelSass> kernels, CudaTools tools, string date)
    {
        var g = KernelSass.Gpu;
        w.WriteLine($"SASS for {KernelSass.Arch} by ptxas and cuobjdump ({tools.VersionLine}), {date}; no GPU involved.");
        w.WriteLine($"Occupancy on an {g.Device}: {g.Multiprocessors} SMs, each {g.RegistersPerSm} registers, {g.SharedPerSm / 1024} KiB shared, " +
                    $"{g.ThreadsPerSm} threads, {g.BlocksPerSm} blocks; 'threads' is the group GpuNet launches on a GPU.");
        w.WriteLine();
        w.WriteLine($"{"kernel",-46} {"threads",7} {"regs",4} {"spill",5} {"stack",5} {"shared",6} {"blk/SM",6} {"warps",5} {"occ",5}  {"limit",-10} {"div64",5}");
        foreach (var k in kernels)
        {
            var r = k.Resources;
            var o = k.Occupancy;
            w.WriteLine($"{k.Name,-46} {k.ThreadsPerGroup,7} {r.Registers,4} {r.SpillBytes,5} {r.StackBytes,5} {r.SharedBytes,6} {o.BlocksPerSm,6} " +
                        $"{o.WarpsPerSm,5} {o.Fraction,5:P0}  {o.Limiter,-10} {k.Divisions64.Count,5}");
        }
        PrintGemms(w, kernels.Where(k => k.IsGemm).ToList());
        PrintBandwidth(w, kernels.Where(k => !k.IsGemm).ToList());
        PrintCases(w, kernels);
    }

    private static void PrintGemms(TextWriter w, List<KernelSass> gemms)
    {
        if (gemms.Count == 0) return;
        w.WriteLine();
        w.WriteLine("GEMM inner loop (the innermost loop with the most FFMA), against the production targets:");
        w.WriteLine($"{"kernel",-28} {"instr",5} {"FFMA",5} {"share",6} {"other/FFMA",10} {"LDS",4} {"LDS.128",7} {"LDG",4} {"BAR",4}  targets");
        foreach (var k in gemms)
        {
            var m = k.HotLoopMix;
            string missed = string.Join("; ", GemmLoopTargets.Check(k).Where(t => !t.Met).Select(t => $"{t.Requirement}: {t.Value}"));
            string verdict = missed.Length == 0 ? "all met" : "missed " + missed;
            if (m == null) { w.WriteLine($"{k.Name,-28} no loop  {verdict}"); continue; }
            w.WriteLine($"{k.Name,-28} {m.Total,5} {m.Ffma,5} {m.FfmaShare,6:P0} {m.OthersPerFfma,10:F2} {m.SharedLoads,4} {m.SharedLoads128,7} {m.GlobalLoads,4} {m.Barriers,4}  {verdict}");
        }
    }

    private static void PrintBandwidth(TextWriter w, List<KernelSass> others)
    {
        if (others.Count == 0) return;
        var g = KernelSass.Gpu;
        w.WriteLine();
        w.WriteLine($"Estimated share of {g.DramBytesPerSecond / 1e12:F1} TB/s (an estimate, not a measurement: min of the issue ceiling, " +
                    $"{g.ThreadInstructionsPerSecond / 1e12:F1} T thread-instructions/s × bytes / instructions, and Little's law, resident threads × " +
                    $"load bytes in flight / {BandwidthEstimate.LatencySeconds * 1e9:F0} ns; a grid that fills the GPU; see docs/BENCHMARKS.md):");
        w.WriteLine($"{"kernel",-46} {"instr",5} {"LDG",4} {"STG",4} {"B/iter",6} {"flight",6} {"calls",5} {"idiv",5} {"issue TB/s",10} {"latency TB/s",12} {"est.",5}  limit");
        foreach (var k in others)
        {
            if (k.HotLoop is not { } l || k.HotLoopMix is not { } m || k.Bandwidth is not { } b) { w.WriteLine($"{k.Name,-46} no loop"); continue; }
            var (div32, div64) = l.IntegerDivisions;
            string idiv = div64 > 0 ? $"{div32}+{div64}L" : div32.ToString(CultureInfo.InvariantCulture);
            w.WriteLine($"{k.Name,-46} {m.Total,5} {m.GlobalLoads,4} {m.GlobalStores,4} {m.GlobalLoadBytes + m.GlobalStoreBytes,6} {b.LoadBytesInFlight,6} {l.EveryIterationCalls,5} {idiv,5} " +
                        $"{Show(b.IssueBoundBytesPerSecond),10} {Show(b.LatencyBoundBytesPerSecond),12} {b.Fraction,5:P0}  {b.Limiter}");
        }
    }

    // The device report's element-wise cases (Report.MeasureElementwise on a GPU: 16384 × 1024 floats), with the
    // threads GpuNet's launchers start for them on an H200: linear launches ⌈n / 256⌉ groups of 256, at most 32 per SM;
    // the 8×128 column sum one group per 8 columns.
    private static readonly (string Case, string Kernel, long Threads)[] ReportCases =
    [
        ("bias+relu 16384x1024", "Activations.BiasActivate<Relu>", 132L * 32 * 256),
        ("relu backward 16384x1024", "Activations.Backward<Relu>", 132L * 32 * 256),
        ("column sum 16384x1024", "Reductions.ColumnSum<Reduce8x128>", 1024 / 8 * 1024),
        ("adam 16777216 parameters", "Optimizers.Adam", 132L * 32 * 256),
    ];

    private static void PrintCases(TextWriter w, IReadOnlyList<KernelSass> kernels)
    {
        var rows = ReportCases.Select(c => (c, k: kernels.FirstOrDefault(k => k.Name == c.Kernel))).Where(r => r.k?.HotLoop != null).ToList();
        if (rows.Count == 0) return;
        w.WriteLine();
        w.WriteLine("The same estimate at the device report's element-wise cases, with the threads the launchers start there:");
        w.WriteLine($"{"case",-28} {"kernel",-36} {"threads",8} {"latency TB/s",12} {"est.",5}  limit");
        foreach (var (c, k) in rows)
        {
            var b = BandwidthEstimate.Of(k!.HotLoop!, k.Occupancy, KernelSass.Gpu, c.Threads);
            w.WriteLine($"{c.Case,-28} {c.Kernel,-36} {c.Threads,8} {Show(b.LatencyBoundBytesPerSecond),12} {b.Fraction,5:P0}  {b.Limiter}");
        }
    }

    private static string Show(double bytesPerSecond) => double.IsInfinity(bytesPerSecond) ? "-" : (bytesPerSecond / 1e12).ToString("F1", CultureInfo.InvariantCulture);
}
