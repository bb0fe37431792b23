// Shape legend: see Gemm.cs. The fused products of a training step, each C[z] = op(A[z])·op(B[z]) (α = 1, β = 0) with
// the element-wise work of the layer done as C is stored, and the rows of the input batch read through the epoch's
// order instead of a gathered copy.
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>The operands a fused GEMM reads besides A and B (see <see cref="GemmFused"/>).</summary>
public struct GemmFusion
{
    /// <summary>Forward: the bias of product z at Bias[z·BiasStride + BiasOffset + n].</summary>
    public ArrayView<float> Bias;
    /// <summary>Where the bias of the first product starts, and the distance to the next product's (P).</summary>
    public long BiasOffset, BiasStride;
    /// <summary>δ GEMM: the layer's outputs z, laid out as C, whose σ' multiplies the product.</summary>
    public ArrayView<float> Aux;
    /// <summary>Weight-gradient GEMM: the bias gradient of product z at BiasGrad[z·BiasGradStride + BiasGradOffset + m],
    /// Σ_k op(A)[m, k] (the column sums of δ over the batch), written when <see cref="HasBiasGrad"/> is 1.</summary>
    public ArrayView<float> BiasGrad;
    /// <summary>Where the first product's bias gradient goes, and the distance to the next product's.</summary>
    public long BiasGradOffset, BiasGradStride;
    /// <summary>1 to write <see cref="BiasGrad"/>.</summary>
    public int HasBiasGrad;
    /// <summary>The epoch's row order: batch row i is the data's row Order[FirstRow + i] (where an index map says so).</summary>
    public ArrayView<int> Order;
    /// <summary>The batch's first position in <see cref="Order"/>.</summary>
    public int FirstRow;
}

/// <summary>How a fused GEMM turns a finished dot product into the stored value.</summary>
public interface IGemmEpilogue
{
    /// <summary>The value stored at C[z, m, n] (flat index <paramref name="c"/>) for the dot product <paramref name="acc"/>.</summary>
    float Apply(float acc, GemmFusion f, int z, int n, long c);
}

/// <summary>C = σ(acc + b[n]): a layer's forward pass (the bias added after the product, as the layer-by-layer path
/// adds it).</summary>
public struct BiasActivateEpilogue<TAct> : IGemmEpilogue where TAct : struct, IActivation
{
    /// <inheritdoc/>
    public float Apply(float acc, GemmFusion f, int z, int n, long c) =>
        default(TAct).Forward(acc + f.Bias[z * f.BiasStride + f.BiasOffset + n]);
}

/// <summary>C = acc · σ'(z) with z at the same place as C: δ_{l−1} = (δ_l·W_l) ⊙ σ'(z_{l−1}).</summary>
public struct DerivativeEpilogue<TAct> : IGemmEpilogue where TAct : struct, IActivation
{
    /// <inheritdoc/>
    public float Apply(float acc, GemmFusion f, int z, int n, long c) => acc * default(TAct).DerivativeFromOutput(f.Aux[c]);
}

/// <summary>C = acc: the weight gradient.</summary>
public struct PlainEpilogue : IGemmEpilogue
{
    /// <inheritdoc/>
    public float Apply(float acc, GemmFusion f, int z, int n, long c) => acc;
}

/// <summary>Which stored row an operand index reads: the input batch's rows come from the data through the epoch's
/// order; everything else is read where it is.</summary>
public interface IGemmRows
{
    /// <summary>The stored row of index <paramref name="i"/>.</summary>
    int Row(GemmFusion f, int i);
}

/// <summary>Row i is row i.</summary>
public struct DirectRows : IGemmRows
{
    /// <inheritdoc/>
    public int Row(GemmFusion f, int i) => i;
}

/// <summary>Row i is the data's row Order[FirstRow + i].</summary>
public struct OrderedRows : IGemmRows
{
    /// <inheritdoc/>
    public int Row(GemmFusion f, int i) => f.Order[f.FirstRow + i];
}

/// <summary>
/// The fused step's GEMMs, register-blocked like <see cref="Gemm.Blocked"/> (each thread a 4×4 block of C, the same
/// dot products in the same order, so the layer-by-layer path's bits) and barrier-free: the CPU accelerator's kernels.
/// α = 1 and β = 0; block indices are 32-bit. Launch: any 1-D grid and group; a grid-stride loop over the 4×4 blocks.
/// </summary>
public static class GemmFused
{
    /// <summary>Z_l = σ(Z_{l−1}·W_lᵀ + b_l): A = Z_{l−1} (TransA 0, its rows through <typeparamref name="TRows"/>: the
    /// epoch's order for the first layer), B = W_l (TransB 1).</summary>
    public static void Forward<TAct, TRows>(GemmArgs g, GemmFusion f) where TAct : struct, IActivation where TRows : struct, IGemmRows
    {
        int start = Grid.GlobalIndex.X, stride = Grid.DimX * Group.DimX, total = Blocks(g);
        for (int idx = start; idx < total; idx += stride) Block<BiasActivateEpilogue<TAct>, TRows, DirectRows>(g, f, idx);
    }

    /// <summary>Layer l's backward pass but for the first layer, in one launch: dW_l = δ_lᵀ·Z_{l−1} with db_l (the
    /// first problem) and δ_{l−1} = (δ_l·W_l) ⊙ σ'(z_{l−1}) (the second), σ being layer l−1's function.</summary>
    public static void BackwardPair<TAct>(GemmArgs dW, GemmFusion fW, GemmArgs dX, GemmFusion fX) where TAct : struct, IActivation
    {
        int start = Grid.GlobalIndex.X, stride = Grid.DimX * Group.DimX, first = Blocks(dW), total = first + Blocks(dX);
        for (int idx = start; idx < total; idx += stride)
        {
            if (idx < first) Block<PlainEpilogue, DirectRows, DirectRows>(dW, fW, idx);
            else Block<DerivativeEpilogue<TAct>, DirectRows, DirectRows>(dX, fX, idx - first);
        }
    }

    /// <summary>The first layer's weight gradient dW_1 = δ_1ᵀ·X with db_1, the batch's rows of X (B, TransB 0, along k)
    /// read through <typeparamref name="TRows"/>.</summary>
    public static void WeightGradient<TRows>(GemmArgs g, GemmFusion f) where TRows : struct, IGemmRows
    {
        int start = Grid.GlobalIndex.X, stride = Grid.DimX * Group.DimX, total = Blocks(g);
        for (int idx = start; idx < total; idx += stride) Block<PlainEpilogue, DirectRows, TRows>(g, f, idx);
    }

    private static int Blocks(GemmArgs g) => g.Count * ((g.M + 3) / 4) * ((g.N + 3) / 4);

    /// <summary>One 4×4 block of C: the dot products as <see cref="Gemm.Blocked"/> forms them, stored through the
    /// epilogue; the blocks of the first column also form the bias gradient of their rows.</summary>
    private static void Block<TEpi, TARows, TBRows>(GemmArgs g, GemmFusion f, int idx)
        where TEpi : struct, IGemmEpilogue where TARows : struct, IGemmRows where TBRows : struct, IGemmRows
    {
        int m = g.M, n = g.N, k = g.K;
        int colBlocks = (n + 3) / 4, rowBlocks = (m + 3) / 4;
        int rest = idx / colBlocks, cb = idx - rest * colBlocks;
        int z = rest / rowBlocks, rb = rest - z * rowBlocks;
        int r0 = rb * 4, c0 = cb * 4;
        long aRowStep = g.TransA == 0 ? g.Lda : 1, aStep = g.TransA == 0 ? 1 : g.Lda;
        long bColStep = g.TransB == 0 ? 1 : g.Ldb, bStep = g.TransB == 0 ? g.Ldb : 1;
        // Rows and columns past the edge are clamped to the last one (their results are not stored).
        long aBase = z * g.StrideA, bBase = z * g.StrideB;
        long a0 = aBase + ARow<TARows>(g, f, Min(r0, m - 1)) * aRowStep, a1 = aBase + ARow<TARows>(g, f, Min(r0 + 1, m - 1)) * aRowStep;
        long a2 = aBase + ARow<TARows>(g, f, Min(r0 + 2, m - 1)) * aRowStep, a3 = aBase + ARow<TARows>(g, f, Min(r0 + 3, m - 1)) * aRowStep;
        long b0 = bBase + Min(c0, n - 1) * bColStep, b1 = bBase + Min(c0 + 1, n - 1) * bColStep;
        long b2 = bBase + Min(c0 + 2, n - 1) * bColStep, b3 = bBase + Min(c0 + 3, n - 1) * bColStep;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int p = 0; p < k; p++)
        {
            long ap = p * aStep, bp = BK<TBRows>(g, f, p) * bStep;
            float x0 = g.A[a0 + ap], x1 = g.A[a1 + ap], x2 = g.A[a2 + ap], x3 = g.A[a3 + ap];
            float y0 = g.B[b0 + bp], y1 = g.B[b1 + bp], y2 = g.B[b2 + bp], y3 = g.B[b3 + bp];
            c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
            c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
            c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
            c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        long cBase = z * g.StrideC;
        StoreRow<TEpi>(g, f, z, cBase, r0, c0, c00, c01, c02, c03);
        StoreRow<TEpi>(g, f, z, cBase, r0 + 1, c0, c10, c11, c12, c13);
        StoreRow<TEpi>(g, f, z, cBase, r0 + 2, c0, c20, c21, c22, c23);
        StoreRow<TEpi>(g, f, z, cBase, r0 + 3, c0, c30, c31, c32, c33);
        if (f.HasBiasGrad != 0 && cb == 0)
            for (int r = r0; r < r0 + 4 && r < m; r++) BiasGradient(g, f, z, r);
    }

    /// <summary>db[r] = Σ_k op(A)[r, k], summed in k order in float64, as the layer-by-layer column sum does on the CPU.</summary>
    private static void BiasGradient(GemmArgs g, GemmFusion f, int z, int r)
    {
        long aRowStep = g.TransA == 0 ? g.Lda : 1, aStep = g.TransA == 0 ? 1 : g.Lda;
        long at = z * g.StrideA + r * aRowStep;
        double sum = 0.0;
        for (int p = 0; p < g.K; p++, at += aStep) sum += g.A[at];
        f.BiasGrad[z * f.BiasGradStride + f.BiasGradOffset + r] = (float)sum;
    }

    // A's stored row of op(A)'s row i (the map applies where A's rows are the batch's: TransA 0).
    private static long ARow<TRows>(GemmArgs g, GemmFusion f, int i) where TRows : struct, IGemmRows =>
        g.TransA == 0 ? default(TRows).Row(f, i) : i;

    // B's stored row of op(B)'s k (the map applies where B's rows along k are the batch's: TransB 0).
    private static long BK<TRows>(GemmArgs g, GemmFusion f, int p) where TRows : struct, IGemmRows =>
        g.TransB == 0 ? default(TRows).Row(f, p) : p;

    private static int Min(int a, int b) => a < b ? a : b;

    private static void StoreRow<TEpi>(GemmArgs g, GemmFusion f, int z, long cBase, int row, int col,
        float v0, float v1, float v2, float v3) where TEpi : struct, IGemmEpilogue
    {
        if (row >= g.M) return;
        long rowBase = cBase + (long)row * g.Ldc;
        if (col < g.N) g.C[rowBase + col] = default(TEpi).Apply(v0, f, z, col, rowBase + col);
        if (col + 1 < g.N) g.C[rowBase + col + 1] = default(TEpi).Apply(v1, f, z, col + 1, rowBase + col + 1);
        if (col + 2 < g.N) g.C[rowBase + col + 2] = default(TEpi).Apply(v2, f, z, col + 2, rowBase + col + 2);
        if (col + 3 < g.N) g.C[rowBase + col + 3] = default(TEpi).Apply(v3, f, z, col + 3, rowBase + col + 3);
    }
}
