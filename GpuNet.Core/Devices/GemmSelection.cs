using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>How one GEMM runs with one variant: the variant, which operands are read and written with 128-bit accesses,
/// and for the split-K variants into how many k slices of how many k each the product is cut.</summary>
/// <param name="Variant">A concrete variant (never <see cref="GemmVariant.Auto"/>).</param>
/// <param name="VectorA">A is read in chunks of four floats with 128-bit loads.</param>
/// <param name="VectorB">B likewise.</param>
/// <param name="VectorC">C is read (β ≠ 0) and written in rows of four with 128-bit accesses.</param>
/// <param name="Slices">k slices (1 = no split).</param>
/// <param name="KChunk">k extent of one slice (K when not split).</param>
public readonly record struct GemmPlan(GemmVariant Variant, bool VectorA, bool VectorB, bool VectorC, int Slices, int KChunk)
{
    /// <summary>Short description, e.g. <c>large128 v4:A,B,C</c> or <c>splitk64 ×8 scalar</c>.</summary>
    public override string ToString()
    {
        string name = Variant.ToString().ToLowerInvariant();
        if (!GemmSelection.IsLarge(Variant)) return name;
        var vec = new List<string>();
        if (VectorA) vec.Add("A");
        if (VectorB) vec.Add("B");
        if (VectorC) vec.Add("C");
        string split = Slices > 1 ? $" ×{Slices}" : "";
        return $"{name}{split} {(vec.Count == 0 ? "scalar" : "v4:" + string.Join(",", vec))}";
    }
}

/// <summary>
/// What the host decides before a GEMM of the large-tile family runs: whether each operand may be read with 128-bit
/// loads (ILGPU assumes every view starts 256-byte aligned and emits vector loads on that assumption, so the host
/// checks the real address), whether the 32-bit index arithmetic and the grid limits hold, and how far a split-K
/// variant splits k.
/// </summary>
public static class GemmSelection
{
    /// <summary>Most k slices a split-K variant cuts a product into.</summary>
    public const int MaxSlices = 16;

    /// <summary>Largest workspace of partial products a split-K launch uses, in floats (64 MiB).</summary>
    public const long MaxWorkspaceFloats = 16L << 20;

    /// <summary>A split-K slice covers at least this many tile steps.</summary>
    private const int MinStepsPerSlice = 4;

    /// <summary>Variants of the large-tile kernel family (<see cref="GemmLarge"/>).</summary>
    public static bool IsLarge(GemmVariant v) => v is GemmVariant.Large128 or GemmVariant.Large64 or GemmVariant.Large16
        or GemmVariant.SplitK128 or GemmVariant.SplitK64 or GemmVariant.SplitK16;

    /// <summary>Split-K variants (two launches: the sliced product, then the fixed-order sum).</summary>
    public static bool IsSplitK(GemmVariant v) => v is GemmVariant.SplitK128 or GemmVariant.SplitK64 or GemmVariant.SplitK16;

    /// <summary>The compile-time tile of a large-family variant.</summary>
    internal static Type TileType(GemmVariant v) => v switch
    {
        GemmVariant.Large128 or GemmVariant.SplitK128 => typeof(GemmTile128),
        GemmVariant.Large64 or GemmVariant.SplitK64 => typeof(GemmTile64x64),
        GemmVariant.Large16 or GemmVariant.SplitK16 => typeof(GemmTile16),
        _ => throw new ArgumentOutOfRangeException(nameof(v), v, "not a large-tile variant"),
    };

    /// <summary>Rows and columns of C one group computes, its threads, and the depth (k) of one step, for a
    /// large-family variant.</summary>
    public static (int Rows, int Cols, int Threads, int Depth) Tile(GemmVariant v) => v switch
    {
        GemmVariant.Large128 or GemmVariant.SplitK128 => Shape<GemmTile128>(),
        GemmVariant.Large64 or GemmVariant.SplitK64 => Shape<GemmTile64x64>(),
        GemmVariant.Large16 or GemmVariant.SplitK16 => Shape<GemmTile16>(),
        _ => throw new ArgumentOutOfRangeException(nameof(v), v, "not a large-tile variant"),
    };

    private static (int, int, int, int) Shape<T>() where T : struct, IGemmBlockTile
    {
        var t = default(T);
        return (8 * t.LanesM * t.WarpsM, 8 * t.LanesN * t.WarpsN, t.LanesM * t.LanesN * t.WarpsM * t.WarpsN, t.TileK);
    }

    /// <summary>True when a GEMM operand may be read in 128-bit chunks: its first element is 16-byte aligned (the real
    /// address, and the view's offset inside its buffer a multiple of 4 floats), and its row stride and (with more
    /// than one product) the stride between products are multiples of 4. An empty view is never read.</summary>
    public static bool Vector4(ArrayView<float> view, int ld, long stride, int count)
    {
        if (view.Length == 0) return true;
        if (ld % 4 != 0 || (count > 1 && stride % 4 != 0)) return false;
        var buffer = ((IArrayView)view).Buffer;
        long address = view.LoadEffectiveAddressAsPtr().ToInt64();
        // OpenCL buffers are handles, not addresses; their base alignment is the device's, at least 128 bytes.
        bool baseAligned = buffer.AcceleratorType == AcceleratorType.OpenCL || address % 16 == 0;
        return baseAligned && OffsetInBuffer(view) % 4 == 0;
    }

    /// <summary>Floats between the start of the view's buffer and its first element.</summary>
    internal static long OffsetInBuffer(ArrayView<float> view) =>
        view.Length == 0 ? 0 : (view.LoadEffectiveAddressAsPtr().ToInt64() - ((IArrayView)view).Buffer.NativePtr.ToInt64()) / sizeof(float);

    /// <summary>Why <paramref name="v"/> cannot run <paramref name="g"/> on a device allowing
    /// <paramref name="maxThreads"/> threads a group, or null when it can.</summary>
    public static string? Unsuitable(GemmVariant v, in GemmArgs g, int maxThreads)
    {
        int threads = v switch
        {
            GemmVariant.Tiled64 => 256,
            GemmVariant.Tiled8 => 4,
            _ when IsLarge(v) => Tile(v).Threads,
            _ => 1,
        };
        if (threads > maxThreads) return $"needs {threads} threads a group; the device allows {maxThreads}";
        if (!IsLarge(v)) return null;
        var (bm, _, _, _) = Tile(v);
        if ((g.M + bm - 1) / bm > 65535) return $"M = {g.M} needs more than 65535 row tiles";
        int aRows = g.TransA == 0 ? g.M : g.K, aCols = g.TransA == 0 ? g.K : g.M;
        int bRows = g.TransB == 0 ? g.K : g.N, bCols = g.TransB == 0 ? g.N : g.K;
        if (Extent(aRows, aCols, g.Lda) > int.MaxValue || Extent(bRows, bCols, g.Ldb) > int.MaxValue
            || Extent(g.M, g.N, g.Ldc) > int.MaxValue)
            return "a product spans 2³¹ elements or more (the kernel indexes inside a product in 32 bits)";
        if ((long)g.Count * MaxSlices > int.MaxValue) return $"{g.Count} products are too many";
        return null;
    }

    // Highest element index one product reaches, plus a tile's overshoot of padding rows and columns.
    private static long Extent(int rows, int cols, int ld) => ((long)rows + 128) * Math.Max(ld, 1) + cols + 128;

    /// <summary>The plan for variant <paramref name="v"/> (concrete, suitable) on <paramref name="g"/>, on a device with
    /// <paramref name="multiprocessors"/> multiprocessors. <paramref name="slices"/> overrides the split-K count.</summary>
    public static GemmPlan Plan(GemmVariant v, in GemmArgs g, int multiprocessors, int? slices = null)
    {
        if (!IsLarge(v)) return new GemmPlan(v, false, false, false, 1, g.K);
        bool va = Vector4(g.A, g.Lda, g.StrideA, g.Count), vb = Vector4(g.B, g.Ldb, g.StrideB, g.Count);
        bool vc = Vector4(g.C, g.Ldc, g.StrideC, g.Count);
        int s = IsSplitK(v) ? slices ?? Slices(v, g, multiprocessors) : 1;
        int chunk = s <= 1 ? g.K : RoundUp((g.K + s - 1) / s, Tile(v).Depth);
        if (s > 1) s = (g.K + chunk - 1) / chunk;
        if (s <= 1) { s = 1; chunk = g.K; }
        return new GemmPlan(v, va, vb, vc, s, chunk);
    }

    /// <summary>Split count: doubling while the product has fewer than two groups per multiprocessor (eight for the
    /// 64-thread tile, which an SM holds many of), each slice keeps at least four tile steps, and the workspace stays
    /// within <see cref="MaxWorkspaceFloats"/>. Depends only on the shape and the device, so it is the same every run.</summary>
    internal static int Slices(GemmVariant v, in GemmArgs g, int multiprocessors)
    {
        var (bm, bn, threads, depth) = Tile(v);
        long groups = (long)((g.M + bm - 1) / bm) * ((g.N + bn - 1) / bn) * g.Count;
        long target = (threads >= 256 ? 2L : 8L) * Math.Max(1, multiprocessors);
        long perSlice = WorkspaceFloats(g, 1);
        int s = 1;
        while (s * 2 <= MaxSlices && groups * s * 2 <= target && g.K >= s * 2 * MinStepsPerSlice * depth
               && perSlice * s * 2 <= MaxWorkspaceFloats)
            s *= 2;
        return s;
    }

    /// <summary>Floats of workspace a split into <paramref name="slices"/> needs: [Count][slices][M][⌈N/4⌉·4].</summary>
    internal static long WorkspaceFloats(in GemmArgs g, int slices) => (long)g.Count * slices * g.M * WorkspaceLd(g.N);

    /// <summary>Row stride of the workspace: N rounded up to 4, so every row starts 16-byte aligned.</summary>
    internal static int WorkspaceLd(int n) => RoundUp(n, 4);

    private static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
