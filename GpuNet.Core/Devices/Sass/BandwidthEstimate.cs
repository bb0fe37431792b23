namespace GpuNet.Devices;

/// <summary>
/// An estimate (not a measurement) of the share of DRAM bandwidth a memory-bound loop reaches, from its SASS and the
/// kernel's occupancy. Per thread and iteration the loop moves <see cref="LoadBytes"/> + <see cref="StoreBytes"/>
/// through global loads and stores, issues <see cref="Instructions"/> instructions (called subroutines included) and
/// has at most <see cref="LoadBytesInFlight"/> of loads outstanding (issued, result not yet used). Two ceilings:
/// <list type="bullet">
/// <item>issue: the chip issues <see cref="SmLimits.ThreadInstructionsPerSecond"/>, so bytes/s ≤ that × bytes / instructions;</item>
/// <item>latency (Little's law): each resident thread keeps <see cref="LoadBytesInFlight"/> in flight per
/// <see cref="LatencySeconds"/>, so load bytes/s ≤ resident threads × in-flight bytes / latency, and stores follow in
/// proportion.</item>
/// </list>
/// The estimate is min(1, both ceilings / DRAM bandwidth). Assumptions: every load goes to DRAM (a broadcast operand
/// such as a bias row is really served by the caches, so this under-counts such a loop's latency ceiling), the grid
/// fills every SM to its occupancy unless <c>threads</c> says fewer run, and a loaded DRAM latency of 600 ns.
/// </summary>
internal sealed record BandwidthEstimate(int LoadBytes, int StoreBytes, int Instructions, int LoadBytesInFlight,
    double IssueBoundBytesPerSecond, double LatencyBoundBytesPerSecond, double Fraction, string Limiter)
{
    /// <summary>The assumed loaded DRAM latency.</summary>
    public const double LatencySeconds = 600e-9;

    /// <summary>Estimates one iteration of <paramref name="loop"/> at <paramref name="occupancy"/>; <paramref name="threads"/>
    /// caps the resident threads when the launch has fewer than the GPU holds.</summary>
    public static BandwidthEstimate Of(SassLoop loop, Occupancy occupancy, SmLimits gpu, long? threads = null)
    {
        var mix = InstructionMix.Of(loop.Issued);
        int bytes = mix.GlobalLoadBytes + mix.GlobalStoreBytes;
        int inFlight = LoadsInFlight(loop.Body);
        double issue = mix.Total == 0 ? double.PositiveInfinity : gpu.ThreadInstructionsPerSecond * bytes / mix.Total;
        double resident = (double)occupancy.WarpsPerSm * gpu.WarpSize * gpu.Multiprocessors;
        if (threads is long t) resident = Math.Min(resident, t);
        double latency = mix.GlobalLoadBytes == 0 ? double.PositiveInfinity
            : resident * inFlight / LatencySeconds * bytes / mix.GlobalLoadBytes;
        double best = Math.Min(issue, latency);
        double fraction = Math.Min(1.0, best / gpu.DramBytesPerSecond);
        string limiter = fraction >= 1.0 ? "dram" : issue <= latency ? "issue" : "latency";
        return new BandwidthEstimate(mix.GlobalLoadBytes, mix.GlobalStoreBytes, mix.Total, inFlight, issue, latency, fraction, limiter);
    }

    /// <summary>The most load bytes outstanding at once in a loop body: a global load is outstanding from its issue until
    /// an instruction reads a register it writes. The body is walked twice, so loads issued late in one iteration and
    /// used early in the next count as overlapping.</summary>
    public static int LoadsInFlight(IReadOnlyList<SassInstruction> body)
    {
        var pending = new Dictionary<int, (int Load, int Bytes)>(); // register → outstanding load writing it
        var outstanding = new Dictionary<int, int>();                // load (index in body) → bytes
        int most = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < body.Count; i++)
            {
                var ins = body[i];
                foreach (int r in ins.RegistersRead())
                    if (pending.Remove(r, out var p)) outstanding.Remove(p.Load);
                foreach (int r in ins.RegistersWritten()) pending.Remove(r);
                if (ins.IsGlobalLoad)
                {
                    outstanding[i] = ins.AccessBits / 8;
                    foreach (int r in ins.RegistersWritten()) pending[r] = (i, ins.AccessBits / 8);
                }
                if (pass == 1) most = Math.Max(most, outstanding.Values.Sum());
            }
        return most;
    }
}
