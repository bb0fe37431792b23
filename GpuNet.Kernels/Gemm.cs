// Shape legend for every kernel in this assembly:
//   R  restarts (networks of one shape trained side by side), B rows of a batch, I inputs and O outputs of a layer,
//   P  parameters of one network (its flat parameter block). A GEMM is M×N×K (K its inner dimension) over Count products.
// Matrices are row-major. A GEMM operand is "stored" with a row stride (ld) and a batch stride
// (0 = the same matrix for every batch entry, e.g. the input batch shared by every restart).
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>
/// Arguments of a strided batched GEMM: for every product z in [0, Count),
/// <c>C[z] = Alpha · op(A[z]) · op(B[z]) + Beta · C[z]</c> with op(A) of shape M×K and op(B) of shape K×N.
/// op(X) = X when the transpose flag is 0, Xᵀ when it is 1. When Beta is 0, C is not read
/// (so it may hold anything, NaN included).
/// </summary>
public struct GemmArgs
{
    /// <summary>Left operand storage: M×K row-major (TransA = 0) or K×M row-major (TransA = 1).</summary>
    public ArrayView<float> A;
    /// <summary>Right operand storage: K×N row-major (TransB = 0) or N×K row-major (TransB = 1).</summary>
    public ArrayView<float> B;
    /// <summary>Result, M×N row-major with row stride Ldc.</summary>
    public ArrayView<float> C;
    /// <summary>Rows of op(A) and C.</summary>
    public int M;
    /// <summary>Columns of op(B) and C.</summary>
    public int N;
    /// <summary>Inner dimension: columns of op(A), rows of op(B).</summary>
    public int K;
    /// <summary>Row strides of the stored A, B and C.</summary>
    public int Lda, Ldb, Ldc;
    /// <summary>Distances between consecutive batch entries (0 shares one matrix across the batch).</summary>
    public long StrideA, StrideB, StrideC;
    /// <summary>1 to use the transpose of the stored matrix.</summary>
    public int TransA, TransB;
    /// <summary>Scale factors.</summary>
    public float Alpha, Beta;
    /// <summary>Number of products (one per restart in training).</summary>
    public int Count;
}

/// <summary>Compile-time shape of the tiled GEMM: a group of GroupX × GroupY threads, each computing a
/// 4×4 register block, so one group computes a (4·GroupY) × (4·GroupX) tile of C; TileK is the depth of
/// one shared-memory step.</summary>
public interface IGemmTile
{
    /// <summary>Threads along N.</summary>
    int GroupX { get; }
    /// <summary>Threads along M.</summary>
    int GroupY { get; }
    /// <summary>Inner-dimension depth of one shared-memory tile.</summary>
    int TileK { get; }
}

/// <summary>GPU shape: 16×16 threads, 64×64 tile of C, depth 16 (8 KiB of shared memory).</summary>
public struct GemmTile64 : IGemmTile
{
    /// <inheritdoc/>
    public int GroupX => 16;
    /// <inheritdoc/>
    public int GroupY => 16;
    /// <inheritdoc/>
    public int TileK => 16;
}

/// <summary>Small shape for the CPU accelerator and tests: 2×2 threads, 8×8 tile of C, depth 4.</summary>
public struct GemmTile8 : IGemmTile
{
    /// <inheritdoc/>
    public int GroupX => 2;
    /// <inheritdoc/>
    public int GroupY => 2;
    /// <inheritdoc/>
    public int TileK => 4;
}

/// <summary>General matrix products (see <see cref="GemmArgs"/>).</summary>
public static class Gemm
{
    /// <summary>
    /// Reference kernel: one thread computes one element of C at a time by a plain dot product,
    /// walking all Batch·M·N elements in a grid-stride loop (column fastest, so writes coalesce).
    /// Launch: explicitly grouped, any 1-D grid and group. Barrier-free, so it is also the fast path on
    /// the CPU accelerator.
    /// </summary>
    public static void Naive(GemmArgs g)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        long total = (long)g.Count * g.M * g.N;
        int m = g.M, n = g.N, k = g.K;
        for (long idx = start; idx < total; idx += stride)
        {
            int col = (int)(idx % n);
            long rowBatch = idx / n;
            int row = (int)(rowBatch % m);
            int z = (int)(rowBatch / m);
            long aBase = z * g.StrideA, bBase = z * g.StrideB;
            // Element (row, p) of op(A) and (p, col) of op(B), as (offset, step along p).
            long aOff = aBase + (g.TransA == 0 ? (long)row * g.Lda : row);
            long aStep = g.TransA == 0 ? 1 : g.Lda;
            long bOff = bBase + (g.TransB == 0 ? col : (long)col * g.Ldb);
            long bStep = g.TransB == 0 ? g.Ldb : 1;
            float acc = 0f;
            for (int p = 0; p < k; p++)
                acc += g.A[aOff + p * aStep] * g.B[bOff + p * bStep];
            long cIdx = z * g.StrideC + (long)row * g.Ldc + col;
            g.C[cIdx] = g.Beta == 0f ? g.Alpha * acc : g.Alpha * acc + g.Beta * g.C[cIdx];
        }
    }

    /// <summary>
    /// Barrier-free register-blocked kernel: each thread computes a 4×4 block of C (contiguous rows and columns)
    /// with 16 accumulators, reading 4 + 4 operand values per step of the inner loop instead of 2 per product.
    /// Blocks are walked in a grid-stride loop (column blocks fastest). No shared memory and no barriers: the fast
    /// path on the CPU accelerator, where barriers are expensive and each thread is an OS thread.
    /// Launch: explicitly grouped, any 1-D grid and group.
    /// </summary>
    public static void Blocked(GemmArgs g)
    {
        long start = Grid.GlobalIndex.X;
        long stride = (long)Grid.DimX * Group.DimX;
        int m = g.M, n = g.N, k = g.K;
        int rowBlocks = (m + 3) / 4, colBlocks = (n + 3) / 4;
        long total = (long)g.Count * rowBlocks * colBlocks;
        long aRowStep = g.TransA == 0 ? g.Lda : 1, aStep = g.TransA == 0 ? 1 : g.Lda;
        long bColStep = g.TransB == 0 ? 1 : g.Ldb, bStep = g.TransB == 0 ? g.Ldb : 1;
        for (long idx = start; idx < total; idx += stride)
        {
            int cb = (int)(idx % colBlocks);
            long rest = idx / colBlocks;
            int rb = (int)(rest % rowBlocks);
            int z = (int)(rest / rowBlocks);
            int r0 = rb * 4, c0 = cb * 4;
            // Rows and columns past the edge are clamped to the last one (their results are not stored).
            long a0 = z * g.StrideA + XMathMin(r0, m - 1) * aRowStep, a1 = z * g.StrideA + XMathMin(r0 + 1, m - 1) * aRowStep;
            long a2 = z * g.StrideA + XMathMin(r0 + 2, m - 1) * aRowStep, a3 = z * g.StrideA + XMathMin(r0 + 3, m - 1) * aRowStep;
            long b0 = z * g.StrideB + XMathMin(c0, n - 1) * bColStep, b1 = z * g.StrideB + XMathMin(c0 + 1, n - 1) * bColStep;
            long b2 = z * g.StrideB + XMathMin(c0 + 2, n - 1) * bColStep, b3 = z * g.StrideB + XMathMin(c0 + 3, n - 1) * bColStep;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            for (int p = 0; p < k; p++)
            {
                long ap = p * aStep, bp = p * bStep;
                float x0 = g.A[a0 + ap], x1 = g.A[a1 + ap], x2 = g.A[a2 + ap], x3 = g.A[a3 + ap];
                float y0 = g.B[b0 + bp], y1 = g.B[b1 + bp], y2 = g.B[b2 + bp], y3 = g.B[b3 + bp];
                c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
                c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
                c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
            }
            long cBase = z * g.StrideC;
            StoreRow(g, cBase, r0, c0, 1, c00, c01, c02, c03);
            StoreRow(g, cBase, r0 + 1, c0, 1, c10, c11, c12, c13);
            StoreRow(g, cBase, r0 + 2, c0, 1, c20, c21, c22, c23);
            StoreRow(g, cBase, r0 + 3, c0, 1, c30, c31, c32, c33);
        }
    }

    private static long XMathMin(int a, int b) => a < b ? a : b;

    /// <summary>
    /// Production kernel: shared-memory tiles of op(A) (BM×TileK) and op(B) (TileK×BN), each thread
    /// accumulating a 4×4 block of C in registers (rows ty + i·GroupY, columns tx + j·GroupX, so that
    /// stores coalesce and shared reads are conflict-free). Any M, N, K: tiles are zero-padded.
    /// Launch: group (GroupX, GroupY); grid (⌈N/BN⌉, ⌈M/BM⌉, ≤ min(Batch, 65535)); the grid's Z
    /// dimension strides over the batch.
    /// </summary>
    public static void Tiled<TTile>(GemmArgs g) where TTile : struct, IGemmTile
    {
        const int R = 4; // register block edge
        int gx = default(TTile).GroupX, gy = default(TTile).GroupY, bk = default(TTile).TileK;
        int bm = R * gy, bn = R * gx, threads = gx * gy;
        var aTile = SharedMemory.Allocate<float>(R * default(TTile).GroupY * default(TTile).TileK);
        var bTile = SharedMemory.Allocate<float>(R * default(TTile).GroupX * default(TTile).TileK);

        int tx = Group.IdxX, ty = Group.IdxY;
        int tid = ty * gx + tx;
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bn;
        int zStart = Grid.IdxZ, zStride = Grid.DimZ;
        int M = g.M, N = g.N, K = g.K, lda = g.Lda, ldb = g.Ldb;
        bool transA = g.TransA != 0, transB = g.TransB != 0;

        for (int z = zStart; z < g.Count; z += zStride)
        {
            long aBase = z * g.StrideA, bBase = z * g.StrideB;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;

            for (int k0 = 0; k0 < K; k0 += bk)
            {
                // Load order follows the stored layout so that neighbouring threads read neighbouring
                // addresses; the tile itself is always kept as [kk][m] and [kk][n].
                for (int e = tid; e < bm * bk; e += threads)
                {
                    int mm, kk;
                    if (transA) { mm = e % bm; kk = e / bm; } else { kk = e % bk; mm = e / bk; }
                    int gm = m0 + mm, gk = k0 + kk;
                    float v = 0f;
                    if (gm < M && gk < K)
                        v = transA ? g.A[aBase + (long)gk * lda + gm] : g.A[aBase + (long)gm * lda + gk];
                    aTile[kk * bm + mm] = v;
                }
                for (int e = tid; e < bn * bk; e += threads)
                {
                    int nn, kk;
                    if (transB) { kk = e % bk; nn = e / bk; } else { nn = e % bn; kk = e / bn; }
                    int gn = n0 + nn, gk = k0 + kk;
                    float v = 0f;
                    if (gn < N && gk < K)
                        v = transB ? g.B[bBase + (long)gn * ldb + gk] : g.B[bBase + (long)gk * ldb + gn];
                    bTile[kk * bn + nn] = v;
                }
                Group.Barrier();

                for (int kk = 0; kk < bk; kk++)
                {
                    int ar = kk * bm + ty, br = kk * bn + tx;
                    float a0 = aTile[ar], a1 = aTile[ar + gy], a2 = aTile[ar + 2 * gy], a3 = aTile[ar + 3 * gy];
                    float b0 = bTile[br], b1 = bTile[br + gx], b2 = bTile[br + 2 * gx], b3 = bTile[br + 3 * gx];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                Group.Barrier();
            }

            long cBase = z * g.StrideC;
            int r0 = m0 + ty, col0 = n0 + tx;
            StoreRow(g, cBase, r0, col0, gx, c00, c01, c02, c03);
            StoreRow(g, cBase, r0 + gy, col0, gx, c10, c11, c12, c13);
            StoreRow(g, cBase, r0 + 2 * gy, col0, gx, c20, c21, c22, c23);
            StoreRow(g, cBase, r0 + 3 * gy, col0, gx, c30, c31, c32, c33);
        }
    }

    private static void StoreRow(GemmArgs g, long cBase, int row, int col, int step,
        float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        long rowBase = cBase + (long)row * g.Ldc;
        Store(g, rowBase, col, v0);
        Store(g, rowBase, col + step, v1);
        Store(g, rowBase, col + 2 * step, v2);
        Store(g, rowBase, col + 3 * step, v3);
    }

    private static void Store(GemmArgs g, long rowBase, int col, float acc)
    {
        if (col >= g.N) return;
        long i = rowBase + col;
        g.C[i] = g.Beta == 0f ? g.Alpha * acc : g.Alpha * acc + g.Beta * g.C[i];
    }
}
