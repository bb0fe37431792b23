using GpuNet.Devices;
using Xunit;
using Xunit.Abstractions;

namespace GpuNet.Tests.Kernels;

/// <summary>
/// What an sm_90 GPU would run, read without one: every kernel of the catalogue assembled by NVIDIA's ptxas and
/// disassembled by cuobjdump (<c>tools/install-cuda-tools.sh</c> installs both; <c>.ci/run</c> does so before the
/// tests). Where the tools are missing, every test here fails and says how to install them: a guard must never pass
/// without having looked.
/// </summary>
public class SassGuardTests(ITestOutputHelper output)
{
    /// <summary>
    /// The GEMM kernels the production targets (<see cref="GemmTarget"/>: inner-loop FFMA share ≥ 60 %, 128-bit shared
    /// loads, no spills, ≤ 48 KiB shared memory, ≥ 2 blocks per SM) apply to, with the figures each is held to now.
    /// A figure a kernel is not held to is still measured and written to the test output. A kernel built to meet every
    /// figure is listed with <see cref="GemmTarget.All"/>.
    /// </summary>
    internal static readonly (string Kernel, GemmTarget HeldTo)[] ProductionGemms =
    [
        // The large-tile kernels the GPU tuner chooses from, every transpose pair: built to meet every figure.
        ("GemmLarge.Run<GemmTile128,AlongK,AcrossK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile128,AlongK,AlongK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile128,AcrossK,AcrossK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile128,AcrossK,AlongK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile64x64,AlongK,AcrossK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile64x64,AlongK,AlongK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile64x64,AcrossK,AcrossK>", GemmTarget.All),
        ("GemmLarge.Run<GemmTile64x64,AcrossK,AlongK>", GemmTarget.All),
        // The fused step's GEMMs on the same tiles: the same main loop, the layer's element-wise work in the epilogue.
        .. FusedGemms("GemmTile128").Select(k => (k, GemmTarget.All)),
        .. FusedGemms("GemmTile64x64").Select(k => (k, GemmTarget.All)),
        // The 64×64 shared-memory tile kernel that came before, a tuning candidate still: scalar shared loads and a
        // 16-FFMA inner loop (37 % FFMA).
        ("Gemm.Tiled<GemmTile64>", GemmTarget.NoSpills | GemmTarget.Shared48K | GemmTarget.TwoBlocksPerSm),
    ];

    /// <summary>GEMM kernels kept as references and baselines, not held to the production targets (the large-tile
    /// kernel's 4-thread test tile among them).</summary>
    internal static readonly string[] ReferenceGemms =
    [
        "Gemm.Naive", "Gemm.Blocked", "Gemm.Tiled<GemmTile8>",
        "GemmLarge.Run<GemmTile16,AlongK,AcrossK>", "GemmLarge.Run<GemmTile16,AlongK,AlongK>",
        "GemmLarge.Run<GemmTile16,AcrossK,AcrossK>", "GemmLarge.Run<GemmTile16,AcrossK,AlongK>",
        .. FusedGemms("GemmTile16"),
    ];

    /// <summary>The fused step's large-tile GEMMs on <paramref name="tile"/> (their names): the forward product for each
    /// activation and row map, the backward pair for each activation, the forward's k slices and the first layer's
    /// weight gradient for each row map.</summary>
    private static IEnumerable<string> FusedGemms(string tile)
    {
        string[] activations = ["Identity", "Logistic", "Tanh", "Relu"], rows = ["DirectRows", "OrderedRows"];
        return [
            .. from map in rows from act in activations select $"GemmLarge.FusedForward<{tile},{act},{map}>",
            .. from act in activations select $"GemmLarge.FusedBackwardPair<{tile},{act}>",
            .. from map in rows select $"GemmLarge.FusedForwardSlices<{tile},{map}>",
            .. from map in rows select $"GemmLarge.FusedWeightGradient<{tile},{map}>",
        ];
    }

    /// <summary>GEMM kernels (their names): the Gemm and GemmLarge families. The split-K sum is a reduction.</summary>
    private static bool IsGemm(string name) =>
        name.StartsWith("Gemm.", StringComparison.Ordinal) || name.StartsWith("GemmLarge.", StringComparison.Ordinal);

    private static readonly Lazy<Dictionary<string, KernelSass>> Kernels = new(() =>
        KernelSass.AnalyzeAll(CudaTools.Require()).ToDictionary(k => k.Name));

    private static KernelSass Sass(string name) => Kernels.Value[name];

    public static TheoryData<string> AllKernels() => Names(_ => true);

    public static TheoryData<string> NonGemmKernels() => Names(n => !IsGemm(n));

    /// <summary>Grid-stride element-wise kernels that handle several positions an iteration.</summary>
    public static TheoryData<string> UnrolledKernels() => Names(n =>
        n.StartsWith("Activations.BiasActivate", StringComparison.Ordinal) || n.StartsWith("Activations.Backward", StringComparison.Ordinal)
        || n.StartsWith("Activations.Apply", StringComparison.Ordinal) || n == "Gather.Rows"
        || n is "Optimizers.Sgd" or "Optimizers.Momentum" or "Optimizers.Adam");

    public static TheoryData<string> RestartKernels() => Names(n => n.StartsWith("Restarts.", StringComparison.Ordinal));

    public static TheoryData<string> SumKernels() => Names(n => n.StartsWith("Reductions.", StringComparison.Ordinal));

    public static TheoryData<string> GemmKernels()
    {
        var data = new TheoryData<string>();
        foreach (var (kernel, _) in ProductionGemms) data.Add(kernel);
        return data;
    }

    private static TheoryData<string> Names(Func<string, bool> keep)
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in KernelCatalog.All)
            if (keep(name)) data.Add(name);
        return data;
    }

    [Fact]
    public void TheToolsAreInstalled()
    {
        var tools = CudaTools.TryFind(out string problem);
        Assert.True(tools != null, problem);
        output.WriteLine($"{tools!.Ptxas}: {tools.VersionLine}");
        Assert.True(tools.Release >= new Version(11, 8), $"ptxas {tools.Release} does not know sm_90; CUDA 11.8 or later is needed");
    }

    [Theory]
    [MemberData(nameof(AllKernels))]
    public void NoKernelSpillsOrUsesAStackAndEachFitsItsGpuGroup(string kernel)
    {
        var k = Sass(kernel);
        output.WriteLine($"{kernel}: {k.Resources}, {k.Occupancy}");
        Assert.True(k.Resources.SpillBytes == 0, $"{kernel} spills {k.Resources.SpillBytes} bytes ({k.Resources})");
        Assert.True(k.Resources.StackBytes == 0, $"{kernel} has a {k.Resources.StackBytes}-byte stack frame");
        Assert.True(k.Occupancy.BlocksPerSm >= 1,
            $"{kernel} cannot launch with {k.ThreadsPerGroup} threads a group: {k.Resources.Registers} registers, {k.Resources.SharedBytes} B shared");
    }

    [Theory]
    [MemberData(nameof(NonGemmKernels))]
    public void NoElementwiseLossGatherOrReductionKernelDividesIn64Bits(string kernel)
    {
        var k = Sass(kernel);
        Assert.True(k.Divisions64.Count == 0, $"{kernel} divides in 64 bits: {string.Join(" | ", k.Divisions64)}");
        if (k.HotLoop is { } loop)
        {
            output.WriteLine($"{kernel}: hot loop {loop.Head:x}–{loop.Tail:x}, {k.HotLoopMix!.Total} instructions, integer divisions {loop.IntegerDivisions}");
            Assert.Equal(0, loop.IntegerDivisions.Bits64);
            Assert.Equal(0, loop.EveryIterationCalls);
        }
    }

    /// <summary>Four positions an iteration, loaded before any is stored: at least four 4-byte loads outstanding.</summary>
    [Theory]
    [MemberData(nameof(UnrolledKernels))]
    public void UnrolledKernelsKeepFourLoadsInFlight(string kernel)
    {
        var b = Sass(kernel).Bandwidth!;
        output.WriteLine($"{kernel}: {b}");
        Assert.True(b.LoadBytesInFlight >= 16, $"{kernel} keeps {b.LoadBytesInFlight} load bytes in flight per thread, not ≥ 16");
    }

    /// <summary>The sums unroll four rows an iteration; ptxas issues at least three of the loads before the first add.</summary>
    [Theory]
    [MemberData(nameof(SumKernels))]
    public void SumsKeepSeveralLoadsInFlight(string kernel)
    {
        var b = Sass(kernel).Bandwidth!;
        output.WriteLine($"{kernel}: {b}");
        Assert.True(b.LoadBytesInFlight >= 12, $"{kernel} keeps {b.LoadBytesInFlight} load bytes in flight per thread, not ≥ 12");
    }

    /// <summary>The fused step's large-tile GEMMs on the GPU tiles.</summary>
    public static TheoryData<string> FusedGemmKernels() =>
        Names(n => n.StartsWith("GemmLarge.Fused", StringComparison.Ordinal) && !n.Contains("GemmTile16", StringComparison.Ordinal));

    /// <summary>A fused GEMM keeps its plain form's inner loop (FFMA share within 3 points; the epilogue, the row
    /// lookups and the bias-gradient sum stay outside it) and, like the element-wise kernels it replaces, never divides
    /// in 64 bits.</summary>
    [Theory]
    [MemberData(nameof(FusedGemmKernels))]
    public void FusedGemmKeepsThePlainFormsInnerLoopAndDividesIn32Bits(string kernel)
    {
        var k = Sass(kernel);
        string tile = kernel.Contains("GemmTile128", StringComparison.Ordinal) ? "GemmTile128" : "GemmTile64x64";
        var plain = Sass($"GemmLarge.Run<{tile},AlongK,AcrossK>").HotLoopMix!;
        var mix = k.HotLoopMix;
        Assert.NotNull(mix);
        output.WriteLine($"{kernel}: FFMA share {mix.FfmaShare:P1} ({mix.Ffma} of {mix.Total}); plain {plain.FfmaShare:P1}; {k.Resources}");
        Assert.True(mix.FfmaShare >= plain.FfmaShare - 0.03, $"{kernel}: inner-loop FFMA share {mix.FfmaShare:P1}, the plain kernel's {plain.FfmaShare:P1}");
        Assert.True(k.Divisions64.Count == 0, $"{kernel} divides in 64 bits: {string.Join(" | ", k.Divisions64)}");
    }

    /// <summary>The fused restarts kernels keep a whole restart in registers: no local memory anywhere (spills or an
    /// indexed array), no barrier in either form, and no shuffle in the thread form, whose threads share nothing.</summary>
    [Theory]
    [MemberData(nameof(RestartKernels))]
    public void RestartKernelsUseNoLocalMemoryNoBarrierAndTheThreadFormNoShuffle(string kernel)
    {
        var k = Sass(kernel);
        var whole = k.Whole!;
        output.WriteLine($"{kernel}: {k.Resources}, {whole.Total} instructions, {whole.Shuffles} SHFL, {k.Occupancy}");
        Assert.Equal(0, whole.LocalAccesses);
        Assert.Equal(0, whole.Barriers);
        if (kernel.StartsWith("Restarts.ThreadPerRestart", StringComparison.Ordinal)) Assert.Equal(0, whole.Shuffles);
        else Assert.True(whole.Shuffles > 0, $"{kernel}: the warp form sums its lanes with shuffles, but its SASS has none");
    }

    [Theory]
    [MemberData(nameof(GemmKernels))]
    public void ProductionGemmMeetsTheFiguresItIsHeldTo(string kernel)
    {
        var held = ProductionGemms.Single(g => g.Kernel == kernel).HeldTo;
        var checks = GemmLoopTargets.Check(Sass(kernel));
        foreach (var c in checks)
            output.WriteLine($"{kernel}: {c.Requirement}: {c.Value}: {(c.Met ? "met" : "not met")}{(held.HasFlag(c.Target) ? "" : " (reported, not yet held)")}");
        var failed = checks.Where(c => held.HasFlag(c.Target) && !c.Met).Select(c => $"{c.Requirement}: {c.Value}").ToList();
        Assert.True(failed.Count == 0, $"{kernel} misses: {string.Join("; ", failed)}");
    }

    /// <summary>A GEMM kernel added to the catalogue is either held to the production targets or named a reference,
    /// so a new kernel cannot escape the guard unnoticed.</summary>
    [Fact]
    public void EveryGemmKernelIsHeldToTheTargetsOrNamedAReference()
    {
        var gemms = KernelCatalog.All.Select(k => k.Name).Where(IsGemm).ToList();
        var listed = ProductionGemms.Select(g => g.Kernel).Concat(ReferenceGemms).ToList();
        Assert.Empty(gemms.Except(listed));
        Assert.Empty(listed.Except(gemms));
    }
}
