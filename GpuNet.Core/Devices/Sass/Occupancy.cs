namespace GpuNet.Devices;

/// <summary>Per-multiprocessor limits of a GPU generation, as CUDA's occupancy calculator uses them, and the chip's
/// size and clock for throughput estimates.</summary>
internal sealed record SmLimits(
    string Device, int Multiprocessors, double ClockGhz, int SchedulersPerSm, int WarpSize,
    int RegistersPerSm, int RegisterUnit, int MaxRegistersPerBlock, int SharedPerSm, int SharedPerBlock,
    int SharedReservedPerBlock, int SharedUnit, int ThreadsPerSm, int BlocksPerSm, double DramBytesPerSecond)
{
    /// <summary>NVIDIA H200 SXM (sm_90, the H100's processor with 141 GB of HBM3e): 132 SMs at up to 1.98 GHz, four
    /// schedulers an SM issuing one warp instruction a cycle each; 64 K registers an SM, allocated per warp in units of
    /// 256 and split over the four schedulers' partitions; 228 KiB of shared memory an SM, at most 227 KiB a block
    /// (ILGPU 1.5.3 can ask for 48 KiB only), 1 KiB of it reserved per block, allocated in 128-byte units;
    /// 2048 threads and 32 blocks an SM; 4.8 TB/s of HBM bandwidth by the datasheet.</summary>
    public static SmLimits H200 { get; } = new("NVIDIA H200", 132, 1.98, 4, 32,
        65536, 256, 65536, 228 * 1024, 227 * 1024, 1024, 128, 2048, 32, 4.8e12);

    /// <summary>Thread instructions the chip can issue a second: SMs × schedulers × warp size × clock.</summary>
    public double ThreadInstructionsPerSecond => Multiprocessors * SchedulersPerSm * WarpSize * ClockGhz * 1e9;

    /// <summary>Theoretical occupancy of a kernel with <paramref name="registers"/> a thread, <paramref name="sharedBytes"/>
    /// of shared memory a block (static and dynamic) and <paramref name="threads"/> a block.</summary>
    public Occupancy Occupancy(int threads, int registers, int sharedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int warpsPerBlock = (threads + WarpSize - 1) / WarpSize;
        int maxWarps = ThreadsPerSm / WarpSize;
        int byThreads = maxWarps / warpsPerBlock;
        int regsPerWarp = RoundUp(Math.Max(registers, 1) * WarpSize, RegisterUnit);
        int byRegisters = regsPerWarp * warpsPerBlock > MaxRegistersPerBlock ? 0
            : RegistersPerSm / SchedulersPerSm / regsPerWarp * SchedulersPerSm / warpsPerBlock;
        int byShared = sharedBytes > SharedPerBlock ? 0
            : SharedPerSm / (RoundUp(sharedBytes, SharedUnit) + SharedReservedPerBlock);
        var limits = new (string Name, int Blocks)[] { ("blocks", BlocksPerSm), ("threads", byThreads), ("registers", byRegisters), ("shared", byShared) };
        int blocks = limits.Min(l => l.Blocks);
        string limiter = string.Join("+", limits.Where(l => l.Blocks == blocks).Select(l => l.Name));
        return new Occupancy(threads, blocks, blocks * warpsPerBlock, (double)(blocks * warpsPerBlock) / maxWarps, limiter);
    }

    private static int RoundUp(int value, int unit) => (value + unit - 1) / unit * unit;
}

/// <summary>How many blocks of a kernel fit on one SM at once, the warps they hold, that as a share of the SM's
/// maximum, and what limits it (blocks, threads, registers or shared memory; several joined by '+').</summary>
internal sealed record Occupancy(int ThreadsPerBlock, int BlocksPerSm, int WarpsPerSm, double Fraction, string Limiter);
