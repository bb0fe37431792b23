using GpuNet.Devices;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests.Devices;

/// <summary>The SASS analysis (parsers, loops, instruction mix, loads in flight, occupancy, targets) on fixed inputs in
/// the tools' own formats, so it is checked on any machine, with or without the CUDA tools.</summary>
public class SassAnalysisTests
{
    // ptxas -v output for one kernel, as ptxas 11.8 prints it.
    private const string PtxasReport = """
        ptxas info    : 0 bytes gmem
        ptxas info    : Compiling entry function 'Kernel_Tiled' for 'sm_90'
        ptxas info    : Function properties for Kernel_Tiled
            8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads
        ptxas info    : Used 40 registers, 8192 bytes smem, 400 bytes cmem[0]
        """;

    // A cuobjdump -sass listing in its own layout: a setup block, a loop 0x0040..0x0120 (the backward BRA) holding two
    // independent global loads, an FFMA pair, a 128-bit shared load, a float-division slow path jumped over by a
    // predicated branch and an unconditional call of a division routine, then EXIT, the routine, and the closing
    // self-branch.
    private const string Listing = """
        	code for sm_90
        		Function : Kernel_Test
        	.headerflags    @"EF_CUDA_SM90 EF_CUDA_PTX_SM(EF_CUDA_SM90)"
                /*0000*/                   LDC R1, c[0x0][0x28] ;                          /* 0x00000a00ff017b82 */
                                                                                           /* 0x000e240000000800 */
                /*0010*/                   S2R R0, SR_TID.X ;                              /* 0x0000000000007919 */
                /*0020*/                   MOV R2, RZ ;                                    /* 0x000000ff00027202 */
                /*0030*/                   MOV R3, RZ ;                                    /* 0x000000ff00037202 */
                /*0040*/                   LDG.E R12, [R2.64] ;                            /* 0x00000004020c7981 */
                /*0050*/                   LDG.E.128 R4, [R2.64+0x10] ;                    /* 0x0000100402047981 */
                /*0060*/                   LDS.128 R16, [R0] ;                             /* 0x0000000000107984 */
                /*0070*/                   FFMA R9, R12, R12, R9 ;                         /* 0x0000000c0c097223 */
                /*0080*/                   FFMA R9, R4, R7, R9 ;                           /* 0x0000000704097223 */
                /*0090*/                   FCHK P0, R9, R16 ;                              /* 0x0000001009007302 */
                /*00a0*/              @!P0 BRA 0xc0 ;                                      /* 0x0000000000008947 */
                /*00b0*/                   CALL.REL.NOINC 0x160 ;                          /* 0x0000000000287944 */
                /*00c0*/                   CALL.REL.NOINC 0x160 ;                          /* 0x0000000000247944 */
                /*00d0*/                   STG.E [R2.64], R9 ;                             /* 0x0000000902007986 */
                /*00e0*/                   NOP ;                                           /* 0x0000000000007918 */
                /*00f0*/                   IADD3 R0, R0, 0x1, RZ ;                         /* 0x0000000100007810 */
                /*0100*/                   ISETP.GE.AND P1, PT, R0, 0x10, PT ;             /* 0x000000100000780c */
                /*0110*/                   NOP ;                                           /* 0x0000000000007918 */
                /*0120*/              @!P1 BRA 0x40 ;                                      /* 0x0000000000c49947 */
                /*0130*/                   EXIT ;                                          /* 0x000000000000794d */
                /*0140*/                   NOP ;                                           /* 0x0000000000007918 */
                /*0150*/                   NOP ;                                           /* 0x0000000000007918 */
                /*0160*/                   I2F.U64.RP R5, R6 ;                             /* 0x0000000600057312 */
                /*0170*/                   MUFU.RCP R5, R5 ;                               /* 0x0000000500057308 */
                /*0180*/                   RET.REL.NODEC R8 0x0 ;                          /* 0x0000000008007950 */
                /*0190*/                   BRA 0x190 ;                                     /* 0xfffffff000007947 */
        		..........
        """;

    [Fact]
    public void PtxasReportGivesRegistersStackSpillsAndSharedMemory()
    {
        var r = KernelResources.Parse(PtxasReport);
        Assert.Equal(new KernelResources(40, 8, 4, 12, 8192), r);
        Assert.Equal(16, r.SpillBytes);
        Assert.Equal(new KernelResources(12, 0, 0, 0, 0), KernelResources.Parse("ptxas info    : Used 12 registers, 352 bytes cmem[0]"));
        var e = Assert.Throws<FormatException>(() => KernelResources.Parse("ptxas fatal   : Unresolved extern function"));
        Assert.Contains("Used N registers", e.Message);
    }

    [Fact]
    public void ListingParsesInstructionsPredicatesAndTargets()
    {
        var listing = SassListing.Parse(Listing);
        Assert.Equal(26, listing.Instructions.Count);
        var bra = listing.Instructions.Single(i => i.Address == 0x120);
        Assert.Equal(("!P1", "BRA", 0x40), (bra.Predicate, bra.Mnemonic, bra.Target));
        var wide = listing.Instructions.Single(i => i.Address == 0x50);
        Assert.Equal(("LDG", 128), (wide.Mnemonic, wide.AccessBits));
        Assert.Equal([4, 5, 6, 7], wide.RegistersWritten());
        Assert.Equal([2, 3], wide.RegistersRead());
        var store = listing.Instructions.Single(i => i.Address == 0xd0);
        Assert.Empty(store.RegistersWritten());
        Assert.Equal([2, 3, 9], store.RegistersRead());
        Assert.Throws<FormatException>(() => SassListing.Parse("no instructions here"));
        Assert.Throws<FormatException>(() => SassListing.Parse(Listing + "\n\t\tFunction : Another\n"));
    }

    [Fact]
    public void LoopsComeFromBackwardBranchesAndCountOnlyUnconditionalCalls()
    {
        var listing = SassListing.Parse(Listing);
        var loop = Assert.Single(listing.Loops); // the closing self-branch is no loop
        Assert.Equal((0x40, 0x120), (loop.Head, loop.Tail));
        Assert.Same(loop, listing.InnermostLoops.Single());
        Assert.Equal(1, loop.EveryIterationCalls);
        Assert.Equal(3, loop.Called.Count); // one routine of 3 instructions, reached by the unconditional call only
        Assert.Equal((0, 1), loop.IntegerDivisions);
        var mix = InstructionMix.Of(loop.Issued);
        // 15 body instructions without its 2 NOPs, plus the routine's 3.
        Assert.Equal(16, mix.Total);
        Assert.Equal(2, mix.Ffma);
        Assert.Equal((1, 1), (mix.SharedLoads, mix.SharedLoads128));
        Assert.Equal((2, 1, 1), (mix.GlobalLoads, mix.GlobalLoads128, mix.GlobalStores));
        Assert.Equal((20, 4), (mix.GlobalLoadBytes, mix.GlobalStoreBytes));
        Assert.Equal(2.0 / 16, mix.FfmaShare, 12);
        Assert.Equal(7.0, mix.OthersPerFfma, 12);
    }

    [Fact]
    public void LoadsInFlightCountLoadsIssuedBeforeTheFirstUse()
    {
        var loop = SassListing.Parse(Listing).Loops[0];
        // Both loads (4 + 16 bytes) are issued before the FFMA at 0x70 reads R12.
        Assert.Equal(20, BandwidthEstimate.LoadsInFlight(loop.Body));
        // A load whose address comes from another load's result waits for it: one at a time.
        var chained = new[] { Ins(0, "LDG.E", "R4, [R2.64]"), Ins(0x10, "LDG.E", "R6, [R4.64]"), Ins(0x20, "FADD", "R7, R6, R6") };
        Assert.Equal(4, BandwidthEstimate.LoadsInFlight(chained));
        var independent = new[] { Ins(0, "LDG.E", "R4, [R2.64]"), Ins(0x10, "LDG.E", "R6, [R8.64]"), Ins(0x20, "FADD", "R7, R6, R4") };
        Assert.Equal(8, BandwidthEstimate.LoadsInFlight(independent));
    }

    private static SassInstruction Ins(int address, string opcode, string operands) => new(address, null, opcode, operands);

    [Fact]
    public void NestedLoopsHaveOneInnermost()
    {
        var text = string.Join('\n', new[]
        {
            "/*0000*/ MOV R0, RZ ;", "/*0010*/ MOV R1, RZ ;", "/*0020*/ FFMA R2, R2, R2, R2 ;", "/*0030*/ @P0 BRA 0x10 ;",
            "/*0040*/ @P1 BRA 0x20 ;", "/*0050*/ @P2 BRA 0x0 ;", "/*0060*/ EXIT ;",
        }.Select(l => "        " + l));
        var listing = SassListing.Parse(text);
        Assert.Equal([(0x0, 0x50), (0x10, 0x30), (0x20, 0x40)], listing.Loops.Select(l => (l.Head, l.Tail)));
        // Neither the 0x10–0x30 nor the 0x20–0x40 loop holds the other: both are innermost.
        Assert.Equal([0x10, 0x20], listing.InnermostLoops.Select(l => l.Head));
    }

    /// <summary>The figures CUDA's occupancy calculator gives for sm_90 (64 K registers an SM in 4 partitions, 256-register
    /// warp units; 228 KiB shared an SM with 1 KiB reserved a block; 2048 threads, 32 blocks).</summary>
    [Theory]
    [InlineData(256, 40, 8192, 6, "registers")]        // the 64×64 tiled GEMM: 40 registers → 48 warps
    [InlineData(256, 32, 0, 8, "threads+registers")]  // 32 registers: a full SM either way
    [InlineData(1024, 32, 8192, 2, "threads+registers")]
    [InlineData(1024, 64, 0, 1, "registers")]          // 64 × 1024 = the whole register file
    [InlineData(1024, 65, 0, 0, "registers")]          // one more and the block cannot launch
    [InlineData(256, 255, 0, 1, "registers")]
    [InlineData(4, 16, 0, 32, "blocks")]               // tiny groups: the 32-block limit
    [InlineData(128, 16, 48 * 1024, 4, "shared")]      // 4 × (48 + 1) KiB fit in 228 KiB
    [InlineData(128, 16, 228 * 1024, 0, "shared")]     // more than a block may have
    public void OccupancyFollowsTheSm90Limits(int threads, int registers, int shared, int blocks, string limiter)
    {
        var o = SmLimits.H200.Occupancy(threads, registers, shared);
        Assert.Equal(blocks, o.BlocksPerSm);
        Assert.Equal(limiter, o.Limiter);
        Assert.Equal(blocks * ((threads + 31) / 32), o.WarpsPerSm);
        Assert.Equal(o.WarpsPerSm / 64.0, o.Fraction, 12);
    }

    [Fact]
    public void BandwidthEstimateTakesTheLowerCeiling()
    {
        var loop = SassListing.Parse(Listing).Loops[0];
        var gpu = SmLimits.H200;
        var full = gpu.Occupancy(256, 32, 0);
        var b = BandwidthEstimate.Of(loop, full, gpu);
        // issue: 33.5 T instructions/s × 24 bytes / 16 instructions; latency: 270 336 threads × 20 bytes / 600 ns × 24/20.
        Assert.Equal(gpu.ThreadInstructionsPerSecond * 24 / 16, b.IssueBoundBytesPerSecond, 1e3);
        Assert.Equal(132 * 2048 * 24 / 600e-9, b.LatencyBoundBytesPerSecond, 1e3);
        Assert.Equal(1.0, b.Fraction);
        Assert.Equal("dram", b.Limiter);
        // 1000 threads in all: the latency ceiling falls far below DRAM bandwidth.
        var few = BandwidthEstimate.Of(loop, full, gpu, threads: 1000);
        Assert.Equal("latency", few.Limiter);
        Assert.Equal(1000 * 24 / 600e-9 / gpu.DramBytesPerSecond, few.Fraction, 12);
    }

    [Fact]
    public void GemmTargetsNameEachFigureAndTheKernelsValue()
    {
        var loop = SassListing.Parse(Listing).Loops[0];
        var mix = InstructionMix.Of(loop.Issued);
        var gpu = SmLimits.H200;
        var k = new KernelSass("Gemm.Test", true, 256, new KernelResources(40, 0, 0, 0, 8192), gpu.Occupancy(256, 40, 8192),
            [], 30, 1, loop, mix, null);
        var checks = GemmLoopTargets.Check(k).ToDictionary(c => c.Target);
        Assert.False(checks[GemmTarget.FfmaShare].Met);
        Assert.Equal("12.5 % (2 of 16)", checks[GemmTarget.FfmaShare].Value);
        Assert.True(checks[GemmTarget.SharedLoads128].Met);
        Assert.True(checks[GemmTarget.NoSpills].Met);
        Assert.True(checks[GemmTarget.Shared48K].Met);
        Assert.True(checks[GemmTarget.TwoBlocksPerSm].Met);
        var spilling = k with { Resources = new KernelResources(255, 64, 32, 32, 50_000), Occupancy = gpu.Occupancy(256, 255, 50_000) };
        var bad = GemmLoopTargets.Check(spilling).Where(c => !c.Met).Select(c => c.Target).ToList();
        Assert.Equal([GemmTarget.FfmaShare, GemmTarget.NoSpills, GemmTarget.Shared48K, GemmTarget.TwoBlocksPerSm], bad);
    }

    /// <summary>The coordinates a grid-stride loop follows by additions equal those recomputed by division, for rows of
    /// 1, primes and powers of two, blocks of 1 and more rows, and steps below, equal to and far above the row size.</summary>
    [Fact]
    public void IndexWalkFollowsDivision()
    {
        var rng = new Random(9);
        foreach (int n in new[] { 1, 2, 3, 10, 17, 256, 784 })
            foreach (int m in new[] { 1, 5, 128 })
                foreach (int step in new[] { 1, n, n * m, 7, 256, 33_792 + n })
                {
                    int start = rng.Next(0, 5000);
                    var at = IndexWalk.Start(start, step, n, m);
                    for (long i = start, s = 0; s < 300; s++, i += step, at = at.Next())
                    {
                        var expected = ((int)(i % n), (int)(i / n % m), (int)(i / ((long)n * m)));
                        Assert.True(expected == (at.Inner, at.Middle, at.Outer), $"n={n} m={m} step={step} at {i}: {(at.Inner, at.Middle, at.Outer)} vs {expected}");
                    }
                }
    }
}
