// Shape legend: see Gemm.cs. The fused step's GEMMs on the large-tile kernel (see GemmFused for what each computes):
// the same main loop as GemmLarge.Run, with the layer's element-wise work done as C is stored, the batch's rows read
// through the epoch's order, and the bias gradient summed beside the weight gradient.
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Whether a fused tile computes one k slice of its product (a compile-time choice).</summary>
public interface ISlicing
{
    /// <summary>True: the tile is one of <see cref="GemmLargeArgs.Slices"/> k slices; false: the whole product.</summary>
    bool Sliced { get; }
}

/// <summary>The whole product.</summary>
public struct WholeProduct : ISlicing
{
    /// <inheritdoc/>
    public bool Sliced => false;
}

/// <summary>One k slice of the product.</summary>
public struct KSlice : ISlicing
{
    /// <inheritdoc/>
    public bool Sliced => true;
}

public static partial class GemmLarge
{
    /// <summary>Z_l = σ(Z_{l−1}·W_lᵀ + b_l) (<see cref="GemmFused.Forward{TAct, TRows}"/>): A as stored (TransA 0), its
    /// rows through <typeparamref name="TRows"/>; B = W_l transposed (TransB 1). α = 1, β = 0, the whole of k.
    /// Launch: 1-D group of the tile's threads; 1-D grid of any size, walking the tiles of every product.</summary>
    public static void FusedForward<TTile, TAct, TRows>(GemmArgs g, GemmLargeArgs v, GemmFusion f)
        where TTile : struct, IGemmBlockTile where TAct : struct, IActivation where TRows : struct, IGemmRows
    {
        var aTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesM * default(TTile).WarpsM + 4));
        var bTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesN * default(TTile).WarpsN + 4));
        int total = Tiles<TTile>(g);
        for (int t = Grid.IdxX; t < total; t += Grid.DimX)
            FusedTile<TTile, AlongK, AlongK, BiasActivateEpilogue<TAct>, TRows, DirectRows, WholeProduct>(g, v, f, t, aTile, bTile);
    }

    /// <summary>The forward product split in k: A and B as <see cref="FusedForward"/> reads them, C the split's workspace
    /// (laid out as <see cref="GemmLargeArgs"/> says), which receives the <see cref="GemmLargeArgs.Slices"/> partial
    /// sums; <see cref="GemmSplitK.ReduceFused{TAct}"/> then adds them in a fixed order, adds the bias and applies σ.
    /// A kernel of its own, so that the whole-product kernel keeps within its registers. Launch as
    /// <see cref="FusedForward"/>.</summary>
    public static void FusedForwardSlices<TTile, TRows>(GemmArgs g, GemmLargeArgs v, GemmFusion f)
        where TTile : struct, IGemmBlockTile where TRows : struct, IGemmRows
    {
        var aTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesM * default(TTile).WarpsM + 4));
        var bTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesN * default(TTile).WarpsN + 4));
        int total = Tiles<TTile>(g) * v.Slices;
        for (int t = Grid.IdxX; t < total; t += Grid.DimX)
            FusedTile<TTile, AlongK, AlongK, PlainEpilogue, TRows, DirectRows, KSlice>(g, v, f, t, aTile, bTile);
    }

    /// <summary>Layer l's backward pass but for the first layer (<see cref="GemmFused.BackwardPair{TAct}"/>): the tiles
    /// of dW_l = δ_lᵀ·Z_{l−1} with db_l (A = δ TransA 1, B = Z TransB 0), then those of
    /// δ_{l−1} = (δ_l·W_l) ⊙ σ'(z_{l−1}) (A = δ TransA 0, B = W TransB 0). Launch as <see cref="FusedForward"/>.</summary>
    public static void FusedBackwardPair<TTile, TAct>(GemmArgs dW, GemmLargeArgs vW, GemmFusion fW, GemmArgs dX, GemmLargeArgs vX,
        GemmFusion fX) where TTile : struct, IGemmBlockTile where TAct : struct, IActivation
    {
        var aTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesM * default(TTile).WarpsM + 4));
        var bTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesN * default(TTile).WarpsN + 4));
        int first = Tiles<TTile>(dW), total = first + Tiles<TTile>(dX);
        for (int t = Grid.IdxX; t < total; t += Grid.DimX)
        {
            // Every thread of a group takes the same branch, so the barriers inside each product stay uniform.
            if (t < first) FusedTile<TTile, AcrossK, AcrossK, PlainEpilogue, DirectRows, DirectRows, WholeProduct>(dW, vW, fW, t, aTile, bTile);
            else FusedTile<TTile, AlongK, AcrossK, DerivativeEpilogue<TAct>, DirectRows, DirectRows, WholeProduct>(dX, vX, fX, t - first, aTile, bTile);
        }
    }

    /// <summary>The first layer's dW_1 = δ_1ᵀ·X with db_1 (<see cref="GemmFused.WeightGradient{TRows}"/>): A = δ
    /// (TransA 1), B = the batch's rows of X (TransB 0) through <typeparamref name="TRows"/>. Launch as
    /// <see cref="FusedForward"/>.</summary>
    public static void FusedWeightGradient<TTile, TRows>(GemmArgs g, GemmLargeArgs v, GemmFusion f)
        where TTile : struct, IGemmBlockTile where TRows : struct, IGemmRows
    {
        var aTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesM * default(TTile).WarpsM + 4));
        var bTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesN * default(TTile).WarpsN + 4));
        int total = Tiles<TTile>(g);
        for (int t = Grid.IdxX; t < total; t += Grid.DimX)
            FusedTile<TTile, AcrossK, AcrossK, PlainEpilogue, DirectRows, TRows, WholeProduct>(g, v, f, t, aTile, bTile);
    }

    /// <summary>Tiles of C over every product: Count · ⌈M/BM⌉ · ⌈N/BN⌉ (the host keeps it below 2³¹).</summary>
    private static int Tiles<TTile>(GemmArgs g) where TTile : struct, IGemmBlockTile
    {
        int bm = 8 * default(TTile).LanesM * default(TTile).WarpsM, bn = 8 * default(TTile).LanesN * default(TTile).WarpsN;
        return g.Count * ((g.M + bm - 1) / bm) * ((g.N + bn - 1) / bn);
    }

    /// <summary>Tile <paramref name="t"/> (column tiles fastest, then row tiles, then slices, then products): the product
    /// over the slice's k (all of k without a split), stored through <typeparamref name="TEpi"/> at C's entry z·S + s;
    /// the tiles of the first column also sum the bias gradient of their rows (never with a split).</summary>
    private static void FusedTile<TTile, TA, TB, TEpi, TARows, TBRows, TSplit>(GemmArgs g, GemmLargeArgs v, GemmFusion f, int t,
        ArrayView<float> aTile, ArrayView<float> bTile)
        where TTile : struct, IGemmBlockTile where TA : struct, IGemmOperand where TB : struct, IGemmOperand
        where TEpi : struct, IGemmEpilogue where TARows : struct, IGemmRows where TBRows : struct, IGemmRows where TSplit : struct, ISlicing
    {
        int bm = 8 * default(TTile).LanesM * default(TTile).WarpsM, bn = 8 * default(TTile).LanesN * default(TTile).WarpsN;
        int tilesN = (g.N + bn - 1) / bn, tilesM = (g.M + bm - 1) / bm;
        int rest = t / tilesN, tn = t - rest * tilesN;
        int zz = rest / tilesM, tm = rest - zz * tilesM;
        // Whole products (a compile-time choice) keep no slice index alive across the product.
        int z = default(TSplit).Sliced ? zz / v.Slices : zz, s = zz - z * v.Slices;
        int kBegin = default(TSplit).Sliced ? s * v.KChunk : 0, kEnd = default(TSplit).Sliced ? XMinInt(g.K, kBegin + v.KChunk) : g.K;
        int m0 = tm * bm, n0 = tn * bn, tid = Group.IdxX;
        int row0 = RowOrigin<TTile>(tid), col0 = ColumnOrigin<TTile>(tid);
        var c = Product<TTile, TA, TB, TARows, TBRows>(g, v, f, z, m0, n0, kBegin, kEnd, tid, row0, col0, aTile, bTile);
        FusedEpilogue<TTile, TEpi>(g, v, f, z, default(TSplit).Sliced ? zz : z, m0 + row0, n0 + col0, c);
        if (!default(TSplit).Sliced && f.HasBiasGrad != 0 && tn == 0) BiasGradientRows<TTile>(g, f, z, m0, tid);
    }

    /// <summary>db[r] = Σ_k op(A)[r, k] for the tile's rows, one row a thread, summed in k order in float64: the same
    /// sum, in the same order, as the CPU accelerator's fused kernel and the layer-by-layer column sum.</summary>
    private static void BiasGradientRows<TTile>(GemmArgs g, GemmFusion f, int z, int m0, int tid) where TTile : struct, IGemmBlockTile
    {
        int bm = 8 * default(TTile).LanesM * default(TTile).WarpsM;
        int threads = default(TTile).WarpsM * default(TTile).WarpsN * default(TTile).LanesM * default(TTile).LanesN;
        var a = g.A.SubView(z * g.StrideA, g.A.Length - z * g.StrideA);
        int end = XMinInt(g.M, m0 + bm), step = g.TransA == 0 ? 1 : g.Lda;
        for (int r = m0 + tid; r < end; r += threads)
        {
            int at = g.TransA == 0 ? r * g.Lda : r;
            double sum = 0.0;
            for (int p = 0; p < g.K; p++, at += step) sum += a[at];
            f.BiasGrad[z * f.BiasGradStride + f.BiasGradOffset + r] = (float)sum;
        }
    }

    /// <summary>Stores the thread's 8×8 block through the epilogue of product <paramref name="z"/> into C's entry
    /// <paramref name="entry"/> (z, or z·S + s for a slice).</summary>
    private static void FusedEpilogue<TTile, TEpi>(GemmArgs g, GemmLargeArgs v, GemmFusion f, int z, int entry, int row, int col, Acc8x8 c)
        where TTile : struct, IGemmBlockTile where TEpi : struct, IGemmEpilogue
    {
        int dr = 4 * default(TTile).LanesM, dc = 4 * default(TTile).LanesN;
        long cBase = entry * g.StrideC;
        var cz = g.C.SubView(cBase, g.C.Length - cBase);
        bool vec = v.VectorC != 0;
        var cz4 = vec ? g.C.Cast<Float4>().SubView(cBase / 4, g.C.Length / 4 - cBase / 4) : default;
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row, col, dc, c.R0A, c.R0B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + 1, col, dc, c.R1A, c.R1B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + 2, col, dc, c.R2A, c.R2B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + 3, col, dc, c.R3A, c.R3B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + dr, col, dc, c.R4A, c.R4B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + dr + 1, col, dc, c.R5A, c.R5B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + dr + 2, col, dc, c.R6A, c.R6B);
        FusedRow<TEpi>(g, f, z, cBase, cz, cz4, vec, row + dr + 3, col, dc, c.R7A, c.R7B);
    }

    private static void FusedRow<TEpi>(GemmArgs g, GemmFusion f, int z, long cBase, ArrayView<float> cz,
        ArrayView<Float4> cz4, bool vec, int row, int col, int dc, Float4 left, Float4 right) where TEpi : struct, IGemmEpilogue
    {
        if (row >= g.M) return;
        int off = row * g.Ldc;
        FusedQuad<TEpi>(g, f, z, cBase, cz, cz4, vec, off, col, left);
        FusedQuad<TEpi>(g, f, z, cBase, cz, cz4, vec, off, col + dc, right);
    }

    /// <summary>C[off + col .. off + col + 3] = epilogue(v), columns past N left alone; one 128-bit store where C
    /// allows it. The side operand's place is worked out for each element from the kernel's parameters, which keeps
    /// nothing more alive across the 64 accumulators than the plain kernel does (holding it in registers made ptxas
    /// spill under the 128-register bound).</summary>
    internal static void FusedQuad<TEpi>(GemmArgs g, GemmFusion f, int z, long cBase, ArrayView<float> cz, ArrayView<Float4> cz4,
        bool vec, int off, int col, Float4 v) where TEpi : struct, IGemmEpilogue
    {
        int i = off + col, n = g.N;
        if (vec && col + 3 < n)
        {
            cz4[i >> 2] = new Float4
            {
                X = Side<TEpi>(v.X, f, z, cBase + off, col), Y = Side<TEpi>(v.Y, f, z, cBase + off, col + 1),
                Z = Side<TEpi>(v.Z, f, z, cBase + off, col + 2), W = Side<TEpi>(v.W, f, z, cBase + off, col + 3),
            };
            return;
        }
        if (col < n) cz[i] = Side<TEpi>(v.X, f, z, cBase + off, col);
        if (col + 1 < n) cz[i + 1] = Side<TEpi>(v.Y, f, z, cBase + off, col + 1);
        if (col + 2 < n) cz[i + 2] = Side<TEpi>(v.Z, f, z, cBase + off, col + 2);
        if (col + 3 < n) cz[i + 3] = Side<TEpi>(v.W, f, z, cBase + off, col + 3);
    }

    private static float Side<TEpi>(float acc, GemmFusion f, int z, long cRow, int col) where TEpi : struct, IGemmEpilogue =>
        GemmSide.Apply<TEpi>(acc, GemmSide.View<TEpi>(f), GemmSide.Row<TEpi>(f, z, cRow) + col);
}
