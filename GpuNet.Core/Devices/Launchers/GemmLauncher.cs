using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>Which GEMM kernel to run.</summary>
public enum GemmVariant
{
    /// <summary>Blocked (barrier-free) on the CPU accelerator; on GPUs the variant tuned for the product's shape class
    /// (<see cref="GemmTuner"/>); or the one pinned by <see cref="GemmLauncher.Pin"/> / <c>GPUNET_GEMM</c>.</summary>
    Auto,
    /// <summary>One dot product per output element (the reference kernel).</summary>
    Naive,
    /// <summary>Barrier-free 4×4 register blocks per thread (the CPU accelerator's kernel).</summary>
    Blocked,
    /// <summary>Shared-memory tiles, 2×2 threads × 4×4 register blocks (8×8 tile): small groups.</summary>
    Tiled8,
    /// <summary>Shared-memory tiles, 16×16 threads × 4×4 register blocks (64×64 tile): the first GPU kernel.</summary>
    Tiled64,
    /// <summary>Large-tile kernel (<see cref="GemmLarge"/>), 128×128 tiles of 256 threads with 8×8 per thread.</summary>
    Large128,
    /// <summary>Large-tile kernel with 64×64 tiles of 64 threads, for products with few tiles.</summary>
    Large64,
    /// <summary>Large-tile kernel with 16×16 tiles of 4 threads (small groups: tests, the CPU accelerator).</summary>
    Large16,
    /// <summary><see cref="Large128"/> with k split into slices summed in a fixed order (<see cref="GemmSplitK"/>).</summary>
    SplitK128,
    /// <summary><see cref="Large64"/> with k split into slices summed in a fixed order.</summary>
    SplitK64,
    /// <summary><see cref="Large16"/> with k split into slices summed in a fixed order.</summary>
    SplitK16,
}

/// <summary>Launches strided batched GEMMs (<see cref="GemmArgs"/>): checks every operand against its buffer, then picks
/// the kernel and its grid (how <see cref="GemmVariant.Auto"/> picks: <see cref="Resolve"/>).</summary>
public sealed partial class GemmLauncher : Launcher
{
    private GemmVariant defaultVariant;
    private readonly GemmLargeLauncher large;

    internal GemmLauncher(Device device) : base(device)
    {
        defaultVariant = device.IsCpu || Accelerator.MaxNumThreadsPerGroup < 256 ? GemmVariant.Blocked : GemmVariant.Large128;
        large = new GemmLargeLauncher(device);
    }

    /// <summary>The variant <see cref="GemmVariant.Auto"/> resolves to where no tuner decides (the CPU accelerator,
    /// <c>GPUNET_GEMM=fixed</c>, a product too large to tune); <see cref="Pin"/> overrides it.</summary>
    public GemmVariant DefaultVariant
    {
        get => defaultVariant;
        set => defaultVariant = value == GemmVariant.Auto ? throw new ArgumentException("the default GEMM must be a concrete variant") : value;
    }

    /// <summary>C[z] = α·op(A[z])·op(B[z]) + β·C[z] for every product z &lt; <see cref="GemmArgs.Count"/>.</summary>
    public void Run(in GemmArgs g, GemmVariant variant = GemmVariant.Auto)
    {
        Check(g);
        if (g.M == 0 || g.N == 0 || g.Count == 0) return;
        switch (variant == GemmVariant.Auto ? Resolve(g) : variant)
        {
            case GemmVariant.Naive:
                Kernel(KernelRegistry.GemmNaive)(Linear("Gemm.Naive", (long)g.Count * g.M * g.N), g);
                break;
            case GemmVariant.Blocked:
                Kernel(KernelRegistry.GemmBlocked)(Linear("Gemm.Blocked", (long)g.Count * ((g.M + 3) / 4) * ((g.N + 3) / 4)), g);
                break;
            case GemmVariant.Tiled8:
                Tiled(KernelRegistry.GemmTiled8, default(GemmTile8), g);
                break;
            case GemmVariant.Tiled64:
                Tiled(KernelRegistry.GemmTiled64, default(GemmTile64), g);
                break;
            case var v when GemmSelection.IsLarge(v):
                RunLarge(g, v);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "unknown GEMM variant");
        }
    }

    private void Tiled<TTile>(KernelEntry<Action<KernelConfig, GemmArgs>> kernel, TTile tile, in GemmArgs g) where TTile : struct, IGemmTile
    {
        int threads = tile.GroupX * tile.GroupY;
        if (threads > Accelerator.MaxNumThreadsPerGroup)
            throw new NotSupportedException(
                $"tiled GEMM needs {threads} threads a group; {Device.Info.Name} allows {Accelerator.MaxNumThreadsPerGroup}: use a smaller variant");
        int bm = 4 * tile.GroupY, bn = 4 * tile.GroupX;
        var grid = new Index3D((g.N + bn - 1) / bn, (g.M + bm - 1) / bm, Math.Min(g.Count, 65535));
        Kernel(kernel)(Count(kernel.Name, new KernelConfig(grid, new Index3D(tile.GroupX, tile.GroupY, 1))), g);
    }

    internal static void Check(in GemmArgs g)
    {
        if (g.M < 0 || g.N < 0 || g.K < 0 || g.Count < 0)
            throw new ArgumentException($"GEMM sizes must be non-negative (M={g.M}, N={g.N}, K={g.K}, count={g.Count})");
        int aRows = g.TransA == 0 ? g.M : g.K, aCols = g.TransA == 0 ? g.K : g.M;
        int bRows = g.TransB == 0 ? g.K : g.N, bCols = g.TransB == 0 ? g.N : g.K;
        CheckOperand("A", g.A.Length, aRows, aCols, g.Lda, g.StrideA, g.Count);
        CheckOperand("B", g.B.Length, bRows, bCols, g.Ldb, g.StrideB, g.Count);
        CheckOperand("C", g.C.Length, g.M, g.N, g.Ldc, g.StrideC, g.Count);
    }

    private static void CheckOperand(string name, long length, int rows, int cols, int ld, long stride, int count)
    {
        if (rows == 0 || cols == 0 || count == 0) return;
        if (ld < cols)
            throw new ArgumentException($"GEMM operand {name}: row stride {ld} is less than its {cols} columns");
        if (stride < 0)
            throw new ArgumentException($"GEMM operand {name}: negative stride {stride} between products");
        long need = (count - 1) * stride + (long)(rows - 1) * ld + cols;
        if (need > length)
            throw new ArgumentException(
                $"GEMM operand {name} is {rows}×{cols} (row stride {ld}, {count} products × stride {stride}) and needs {need} elements; its buffer holds {length}");
    }
}
