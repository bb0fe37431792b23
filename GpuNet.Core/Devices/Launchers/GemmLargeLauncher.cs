using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>
/// Launches the large-tile GEMM family (<see cref="GemmLarge"/> and the split-K sum <see cref="GemmSplitK"/>) for
/// <see cref="GemmLauncher"/>: each (tile, A, B) instantiation is a <see cref="KernelRegistry"/> entry; a split-K launch
/// keeps a workspace of partial products on the device (at most <see cref="GemmSelection.MaxWorkspaceFloats"/> floats,
/// grown when a larger product needs it, freed with the device).
/// </summary>
internal sealed class GemmLargeLauncher : Launcher, IDisposable
{
    private static readonly Type[] Tiles = [typeof(GemmTile128), typeof(GemmTile64x64), typeof(GemmTile16)];

    /// <summary>The tiles the fused step's large-tile kernels are instantiated for (the same as the plain kernel's).</summary>
    internal static IReadOnlyList<Type> FusedTiles => Tiles;

    /// <summary>The index of a large-family variant's tile in <see cref="FusedTiles"/> (and in the plain kernel's
    /// instantiations): no allocation, it runs at every launch.</summary>
    internal static int TileIndex(GemmVariant variant) => Array.IndexOf(Tiles, GemmSelection.TileType(variant));
    private MemoryBuffer1D<float, Stride1D.Dense>? workspace;
    private readonly object gate = new();

    public GemmLargeLauncher(Device device) : base(device)
    {
    }

    /// <summary>Operand type of A by TransA, and of B by TransB.</summary>
    private static readonly Type[] OperandA = [typeof(AlongK), typeof(AcrossK)], OperandB = [typeof(AcrossK), typeof(AlongK)];

    /// <summary>Every (tile, A, B) instantiation, in the order of <see cref="KernelRegistry.GemmLargeRun"/>: three tiles,
    /// four transpose pairs each.</summary>
    public static IEnumerable<(Type Tile, Type A, Type B)> Instantiations()
    {
        foreach (var tile in Tiles)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    yield return (tile, OperandA[ta], OperandB[tb]);
    }

    /// <summary>The launch bounds a tile is compiled with: the 128×128 tile asks for 256 threads and 2 groups per
    /// multiprocessor (PTX <c>.maxntid</c>, <c>.minnctapersm</c>), so that ptxas keeps it within 128 registers.</summary>
    public static KernelSpecialization Bounds(Type tile) =>
        tile == typeof(GemmTile128) ? new KernelSpecialization(256, 2) : KernelSpecialization.Empty;

    /// <summary>Enqueues <paramref name="g"/> as <paramref name="plan"/> says (one launch, or two for a split).</summary>
    public void Run(in GemmArgs g, in GemmPlan plan)
    {
        int t = TileIndex(plan.Variant);
        var entry = KernelRegistry.GemmLargeRun[4 * t + 2 * g.TransA + g.TransB];
        var kernel = Kernel(entry);
        var (bm, bn, threads, _) = GemmSelection.Tile(plan.Variant);
        string name = $"{entry.Name} ({GemmTuner.Name(plan.Variant)})";
        if (plan.Slices <= 1)
        {
            kernel(Count(name, Config(g.M, g.N, g.Count, bm, bn, threads)), g, Args(plan, 1, Math.Max(g.K, 1), plan.VectorC));
            return;
        }
        lock (gate)
        {
            var work = Workspace(GemmSelection.WorkspaceFloats(g, plan.Slices));
            int ldw = GemmSelection.WorkspaceLd(g.N);
            var partial = g with { C = work, Ldc = ldw, StrideC = (long)g.M * ldw, Alpha = 1f, Beta = 0f };
            kernel(Count($"{name}, {plan.Slices} k slices", Config(g.M, g.N, g.Count * plan.Slices, bm, bn, threads)),
                partial, Args(plan, plan.Slices, plan.KChunk, vectorC: true));
            Kernel(KernelRegistry.GemmSplitKReduce)(Count($"{KernelRegistry.GemmSplitKReduce.Name} ({plan.Slices} slices)", ReduceConfig(g)),
                work, g, Args(plan, plan.Slices, plan.KChunk, plan.VectorC), ldw);
        }
    }

    /// <summary>The fused forward GEMM split in k (for <see cref="FusedGemmLauncher"/>): <paramref name="product"/>, a
    /// <see cref="GemmLarge.FusedForwardSlices{TTile, TRows}"/> instantiation on the plan's tile, writes the slices into
    /// the workspace, then the fixed-order sum adds them and applies the bias and σ (two launches).</summary>
    internal void FusedForwardSplit(KernelEntry<Action<KernelConfig, GemmArgs, GemmLargeArgs, GemmFusion>> product, Activation act,
        in GemmArgs g, in GemmFusion f, in GemmPlan plan)
    {
        var reduce = KernelRegistry.GemmSplitKReduceFused[act];
        int threads = GemmSelection.Tile(plan.Variant).Threads;
        long tiles = FusedTileCount(g, plan.Variant, plan.Slices);
        lock (gate)
        {
            var work = Workspace(GemmSelection.WorkspaceFloats(g, plan.Slices));
            int ldw = GemmSelection.WorkspaceLd(g.N);
            var partial = g with { C = work, Ldc = ldw, StrideC = (long)g.M * ldw };
            Kernel(product)(Count($"{product.Name} ({GemmTuner.Name(plan.Variant)}, {plan.Slices} k slices)", FusedConfig(tiles, threads)),
                partial, Args(plan, plan.Slices, plan.KChunk, vectorC: true), f);
            Kernel(reduce)(Count($"{reduce.Name} ({plan.Slices} slices)", ReduceConfig(g)), work, g, Args(plan, plan.Slices, plan.KChunk, plan.VectorC), ldw, f);
        }
    }

    /// <summary>Tiles of C a fused large-tile kernel walks on <paramref name="variant"/>'s tile: Count · S · ⌈M/BM⌉ · ⌈N/BN⌉
    /// over every product and each of its <paramref name="slices"/> k slices. The kernels count them in 32 bits, and
    /// the backward pair adds two such counts, so each stays below 2³⁰.</summary>
    /// <exception cref="ArgumentException">The count is 2³⁰ or more.</exception>
    internal static long FusedTileCount(in GemmArgs g, GemmVariant variant, int slices = 1)
    {
        var (bm, bn, _, _) = GemmSelection.Tile(variant);
        long tiles = (long)g.Count * slices * ((g.M + bm - 1) / bm) * ((g.N + bn - 1) / bn);
        return tiles < int.MaxValue / 2 ? tiles : throw new ArgumentException($"fused GEMM of {tiles} tiles: the kernels count tiles in 32 bits");
    }

    /// <summary>A fused large-tile launch: one group per tile up to 2¹⁶ groups (the kernels walk the rest).</summary>
    internal static KernelConfig FusedConfig(long tiles, int threads) => new((int)Math.Clamp(tiles, 1, 1 << 16), threads);

    /// <summary>The kernel's view of <paramref name="plan"/>: its load widths, <paramref name="slices"/> k slices of
    /// <paramref name="chunk"/>, and C's store width.</summary>
    internal static GemmLargeArgs Args(in GemmPlan plan, int slices, int chunk, bool vectorC) => new()
    {
        Slices = slices, KChunk = chunk, VectorA = plan.VectorA ? 1 : 0, VectorB = plan.VectorB ? 1 : 0, VectorC = vectorC ? 1 : 0,
    };

    private static KernelConfig Config(int m, int n, int entries, int bm, int bn, int threads) =>
        new(new Index3D((n + bn - 1) / bn, (m + bm - 1) / bm, Math.Min(entries, 65535)), new Index3D(threads, 1, 1));

    private KernelConfig ReduceConfig(in GemmArgs g)
    {
        int group = Math.Min(Accelerator.MaxNumThreadsPerGroup, 256);
        int quads = (g.N + 3) / 4;
        int rows = Math.Min(g.M, Device.IsCpu ? 2 : 1024);
        return new KernelConfig(new Index3D((quads + group - 1) / group, rows, Math.Min(g.Count, 65535)), new Index3D(group, 1, 1));
    }

    private ArrayView<float> Workspace(long floats)
    {
        if (workspace == null || workspace.Length < floats)
        {
            // Launches already enqueued may still use the old workspace.
            if (workspace != null)
            {
                Device.Synchronize();
                workspace.Dispose();
            }
            workspace = Device.Allocate(Math.Max(floats, 1));
        }
        return workspace.View;
    }

    public void Dispose()
    {
        lock (gate)
        {
            workspace?.Dispose();
            workspace = null;
        }
    }
}
