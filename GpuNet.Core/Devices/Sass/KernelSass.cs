using System.Reflection;
using System.Text.RegularExpressions;
using GpuNet.Kernels;
using ILGPU.Runtime.Cuda;

namespace GpuNet.Devices;

/// <summary>
/// One kernel of <see cref="KernelCatalog"/> as an sm_90 GPU would run it: ptxas's resources, theoretical occupancy at
/// the group size GpuNet launches it with on a GPU, 64-bit integer divisions in its PTX, and its hot loop (for a GEMM,
/// the innermost loop with the most FFMA; for the others, the innermost loop with the most global loads and stores)
/// with that loop's instruction mix and, outside the GEMMs, a bandwidth estimate. Both the <c>--sass</c> report and the
/// SASS guard tests read kernels through this one type.
/// </summary>
internal sealed partial record KernelSass(
    string Name, bool IsGemm, int ThreadsPerGroup, KernelResources Resources, Occupancy Occupancy,
    IReadOnlyList<string> Divisions64, int Instructions, int Loops, SassLoop? HotLoop, InstructionMix? HotLoopMix,
    BandwidthEstimate? Bandwidth)
{
    /// <summary>The target the SASS is read for.</summary>
    public const string Arch = "sm_90";

    /// <summary>Threads a group of linear (1-D) launches on a GPU: the launchers' group size there.</summary>
    public const int GpuLinearGroup = 256;

    /// <summary>The GPU whose limits the occupancy is computed for.</summary>
    public static SmLimits Gpu => SmLimits.H200;

    [GeneratedRegex(@"\b(?:div|rem)\.[su]64\b[^;]*;")]
    private static partial Regex Division64();

    /// <summary>Compiles and reads one kernel.</summary>
    public static KernelSass Analyze(string name, MethodInfo kernel, CudaTools tools)
    {
        string ptx = KernelCatalog.CompilePtx(kernel, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        var (report, sass) = tools.Compile(ptx, Arch);
        var resources = KernelResources.Parse(report);
        var listing = SassListing.Parse(sass);
        bool gemm = kernel.DeclaringType == typeof(Gemm) || kernel.DeclaringType == typeof(GemmLarge);
        int threads = ThreadsOnGpu(kernel);
        var occupancy = Gpu.Occupancy(threads, resources.Registers, resources.SharedBytes);
        var divisions = Division64().Matches(ptx).Select(m => m.Value.Trim()).ToList();
        var hot = FindHotLoop(listing, gemm);
        var mix = hot == null ? null : InstructionMix.Of(hot.Issued);
        var bandwidth = hot == null || gemm ? null : BandwidthEstimate.Of(hot, occupancy, Gpu);
        return new KernelSass(name, gemm, threads, resources, occupancy, divisions, InstructionMix.Of(listing.Instructions).Total,
            listing.Loops.Count, hot, mix, bandwidth);
    }

    /// <summary>Every kernel of the catalogue whose name contains <paramref name="filter"/>, in catalogue order,
    /// compiled in parallel.</summary>
    public static IReadOnlyList<KernelSass> AnalyzeAll(CudaTools tools, string filter = "")
    {
        var kernels = KernelCatalog.All.Where(k => k.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        var result = new KernelSass[kernels.Count];
        Parallel.For(0, kernels.Count, i => result[i] = Analyze(kernels[i].Name, kernels[i].Method, tools));
        return result;
    }

    /// <summary>The group size GpuNet launches a kernel with on a GPU: a tiled GEMM's GroupX·GroupY, a large-tile GEMM's
    /// warps × lanes, a reduction
    /// shape's X·Y, else the launchers' linear group (<see cref="GpuLinearGroup"/>). A kernel family with another
    /// compile-time group shape adds its interface here.</summary>
    public static int ThreadsOnGpu(MethodInfo kernel)
    {
        foreach (var arg in kernel.IsGenericMethod ? kernel.GetGenericArguments() : [])
        {
            object shape = Activator.CreateInstance(arg)!;
            if (shape is IGemmTile tile) return tile.GroupX * tile.GroupY;
            if (shape is IGemmBlockTile block) return block.WarpsM * block.WarpsN * block.LanesM * block.LanesN;
            if (shape is IReduceShape reduce) return reduce.X * reduce.Y;
        }
        return GpuLinearGroup;
    }

    private static SassLoop? FindHotLoop(SassListing listing, bool gemm)
    {
        static int Memory(SassLoop l) => l.Body.Count(i => i.IsGlobalLoad || i.IsGlobalStore);
        var candidates = listing.InnermostLoops.ToList();
        if (candidates.Count == 0) return null;
        return gemm
            ? candidates.OrderByDescending(l => l.Body.Count(i => i.Mnemonic == "FFMA")).ThenByDescending(l => l.Body.Count).First()
            : candidates.OrderByDescending(Memory).ThenByDescending(l => l.Body.Count).First();
    }
}
