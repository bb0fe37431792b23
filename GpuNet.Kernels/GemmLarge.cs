// Shape legend: see Gemm.cs. C[z] = α·op(A[z])·op(B[z]) + β·C[z], op(A) M×K, op(B) K×N, z < Count.
// The stored operand X (A or B) is read as op(X) viewed from k: element (i, k) with i a row of C (for A) or a
// column of C (for B). Its storage runs along k (element at i·ld + k: A with TransA = 0, B with TransB = 1) or
// across k (element at k·ld + i: A with TransA = 1, B with TransB = 0).
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>Four consecutive floats. A float view cast to this type reads and writes them with one 128-bit access
/// (ld.global.v4 / ld.shared.v4), which needs the first float 16-byte aligned.</summary>
public struct Float4
{
    /// <summary>The four values, in memory order.</summary>
    public float X, Y, Z, W;
}

/// <summary>How a GEMM operand is stored, as a compile-time parameter of <see cref="GemmLarge"/>.</summary>
public interface IGemmOperand
{
    /// <summary>True when the stored rows run along k (element (i, k) at i·ld + k); false when they run across k
    /// (element (i, k) at k·ld + i).</summary>
    bool RowsAlongK { get; }
}

/// <summary>Stored rows along k: A with TransA = 0, B with TransB = 1.</summary>
public struct AlongK : IGemmOperand
{
    /// <inheritdoc/>
    public bool RowsAlongK => true;
}

/// <summary>Stored rows across k: A with TransA = 1, B with TransB = 0.</summary>
public struct AcrossK : IGemmOperand
{
    /// <inheritdoc/>
    public bool RowsAlongK => false;
}

/// <summary>Compile-time shape of <see cref="GemmLarge"/>: WarpsM × WarpsN warps, each of LanesM × LanesN threads, each
/// thread computing an 8×8 block of C. A warp covers (8·LanesM) × (8·LanesN) of C and the group
/// (8·LanesM·WarpsM) × (8·LanesN·WarpsN); TileK is the depth of one step. The shared operand tiles hold, per thread,
/// 1, 2, 4 or 8 chunks of four floats of each operand: (BM·TileK)/(4·threads) and (BN·TileK)/(4·threads) must be one of those.</summary>
public interface IGemmBlockTile
{
    /// <summary>Warps along M.</summary>
    int WarpsM { get; }
    /// <summary>Warps along N.</summary>
    int WarpsN { get; }
    /// <summary>Threads of a warp along M.</summary>
    int LanesM { get; }
    /// <summary>Threads of a warp along N.</summary>
    int LanesN { get; }
    /// <summary>Depth (k) of one tile step; a multiple of 4 (the step is unrolled by 2 and loaded in chunks of 4).</summary>
    int TileK { get; }
}

/// <summary>GPU shape: 2×4 warps of 8×4 threads, 128×128 tile of C, depth 8; 256 threads, 16.5 KiB of shared memory.</summary>
public struct GemmTile128 : IGemmBlockTile
{
    /// <inheritdoc/>
    public int WarpsM => 2;
    /// <inheritdoc/>
    public int WarpsN => 4;
    /// <inheritdoc/>
    public int LanesM => 8;
    /// <inheritdoc/>
    public int LanesN => 4;
    /// <inheritdoc/>
    public int TileK => 8;
}

/// <summary>Small GPU shape for skinny products: 1×2 warps of 8×4 threads, 64×64 tile of C, depth 8; 64 threads,
/// 8.5 KiB of shared memory.</summary>
public struct GemmTile64x64 : IGemmBlockTile
{
    /// <inheritdoc/>
    public int WarpsM => 1;
    /// <inheritdoc/>
    public int WarpsN => 2;
    /// <inheritdoc/>
    public int LanesM => 8;
    /// <inheritdoc/>
    public int LanesN => 4;
    /// <inheritdoc/>
    public int TileK => 8;
}

/// <summary>Test shape for small groups (the CPU accelerator): 1 warp of 2×2 threads, 16×16 tile of C, depth 8.</summary>
public struct GemmTile16 : IGemmBlockTile
{
    /// <inheritdoc/>
    public int WarpsM => 1;
    /// <inheritdoc/>
    public int WarpsN => 1;
    /// <inheritdoc/>
    public int LanesM => 2;
    /// <inheritdoc/>
    public int LanesN => 2;
    /// <inheritdoc/>
    public int TileK => 8;
}

/// <summary>Per-launch settings of <see cref="GemmLarge"/>: how k is split, and which operands are accessed 128 bits at a
/// time. A flag may be 1 only where the operand's first element is 16-byte aligned and its row stride and stride between products
/// are multiples of 4 floats (ILGPU emits the 128-bit accesses assuming so; the host checks it).</summary>
public struct GemmLargeArgs
{
    /// <summary>Number of k slices (1 = no split). With S &gt; 1, grid entry zz of the Z walk computes slice
    /// s = zz mod S of product z = zz / S over k in [s·KChunk, min(K, (s + 1)·KChunk)) and writes it to
    /// C + zz·StrideC: the caller points C at a workspace and sums the slices (<see cref="GemmSplitK.Reduce"/>).</summary>
    public int Slices;
    /// <summary>k extent of one slice, a multiple of the tile depth (at least K when <see cref="Slices"/> is 1).</summary>
    public int KChunk;
    /// <summary>1: chunks of four consecutive stored elements of A are read with one 128-bit load.</summary>
    public int VectorA;
    /// <summary>1: likewise for B.</summary>
    public int VectorB;
    /// <summary>1: full rows of four of C are read (β ≠ 0) and written with 128-bit accesses.</summary>
    public int VectorC;
}

/// <summary>
/// The large-tile GEMM (see <see cref="GemmArgs"/>): each group computes a BM×BN tile of C from TileK-deep steps
/// through shared memory, each thread an 8×8 block held in 64 registers. Per step a thread reads its 8 values of
/// op(A) and 8 of op(B) from shared memory with four 128-bit loads for 64 fused multiply-adds. The operand tiles are
/// stored k-major ([k][m] and [k][n]) with rows padded by 4 floats, so that stores of chunks running along k are
/// free of bank conflicts. Steps are double-buffered through registers: the next step's chunks are loaded from
/// global memory before the current step is computed and stored to the other buffer after it, with one barrier a
/// step. Transposes are compile-time parameters (<see cref="IGemmOperand"/>), load widths uniform launch flags
/// (<see cref="GemmLargeArgs"/>); index arithmetic inside
/// a product is 32-bit, so each product's stored extent must stay below 2³¹ elements.
/// Launch: 1-D group of WarpsM·WarpsN·LanesM·LanesN threads; grid (⌈N/BN⌉, ⌈M/BM⌉, ≤ min(Count·Slices, 65535)).
/// </summary>
public static class GemmLarge
{
    /// <summary>C[z] = α·op(A[z])·op(B[z]) + β·C[z] (or one k slice of it: <see cref="GemmLargeArgs"/>).</summary>
    public static void Run<TTile, TA, TB>(GemmArgs g, GemmLargeArgs split)
        where TTile : struct, IGemmBlockTile where TA : struct, IGemmOperand where TB : struct, IGemmOperand
    {
        // Two buffers of [TileK][BM + 4] and [TileK][BN + 4] floats.
        var aTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesM * default(TTile).WarpsM + 4));
        var bTile = SharedMemory.Allocate<float>(2 * default(TTile).TileK * (8 * default(TTile).LanesN * default(TTile).WarpsN + 4));
        int bm = 8 * default(TTile).LanesM * default(TTile).WarpsM, bn = 8 * default(TTile).LanesN * default(TTile).WarpsN;
        int lanes = default(TTile).LanesM * default(TTile).LanesN;
        int tid = Group.IdxX;
        int warp = tid / lanes, lane = tid - warp * lanes;
        int warpM = warp / default(TTile).WarpsN, warpN = warp - warpM * default(TTile).WarpsN;
        int laneM = lane % default(TTile).LanesM, laneN = lane / default(TTile).LanesM;
        // First row and column of this thread's two 4-row and two 4-column groups, inside the tile.
        int row0 = warpM * 8 * default(TTile).LanesM + 4 * laneM;
        int col0 = warpN * 8 * default(TTile).LanesN + 4 * laneN;
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bn;
        int slices = split.Slices, total = g.Count * slices;
        for (int zz = Grid.IdxZ; zz < total; zz += Grid.DimZ)
        {
            int z = zz / slices, s = zz - z * slices;
            int kBegin = s * split.KChunk;
            int kEnd = XMinInt(g.K, kBegin + split.KChunk);
            var c = Product<TTile, TA, TB>(g, split, z, m0, n0, kBegin, kEnd, tid, row0, col0, aTile, bTile);
            Epilogue<TTile>(g, split, zz, m0 + row0, n0 + col0, c);
        }
    }

    /// <summary>The 8×8 block of Σ_k op(A)·op(B) over [kBegin, kEnd) for this thread.</summary>
    private static Acc8x8 Product<TTile, TA, TB>(GemmArgs g, GemmLargeArgs split, int z, int m0, int n0, int kBegin, int kEnd, int tid,
        int row0, int col0, ArrayView<float> aTile, ArrayView<float> bTile)
        where TTile : struct, IGemmBlockTile where TA : struct, IGemmOperand where TB : struct, IGemmOperand
    {
        int bk = default(TTile).TileK;
        int threads = default(TTile).WarpsM * default(TTile).WarpsN * default(TTile).LanesM * default(TTile).LanesN;
        int bm = 8 * default(TTile).LanesM * default(TTile).WarpsM, bn = 8 * default(TTile).LanesN * default(TTile).WarpsN;
        int sa = bm + 4, sb = bn + 4;
        var a = Operand<TA>.Open(g.A, z * g.StrideA, g.Lda, g.M, m0, kBegin, kEnd, tid, threads, bm, bk, sa, split.VectorA != 0);
        var b = Operand<TB>.Open(g.B, z * g.StrideB, g.Ldb, g.N, n0, kBegin, kEnd, tid, threads, bn, bk, sb, split.VectorB != 0);
        var a4 = aTile.Cast<Float4>();
        var b4 = bTile.Cast<Float4>();
        var acc = default(Acc8x8);
        int steps = (kEnd - kBegin + bk - 1) / bk;
        if (steps <= 0) return acc;

        var sA = a.Load(0);
        var sB = b.Load(0);
        a.Store(aTile, a4, 0, sA);
        b.Store(bTile, b4, 0, sB);
        Group.Barrier();
        // Float4 offsets of this thread's fragments in buffer 0 at k = 0.
        int fa = row0 / 4, fb = col0 / 4;
        int halfA = default(TTile).LanesM, halfB = default(TTile).LanesN; // 4·Lanes floats apart
        int bufA = bk * sa / 4, bufB = bk * sb / 4, rowA = sa / 4, rowB = sb / 4;
        for (int step = 0; step < steps; step++)
        {
            int cur = step & 1;
            bool more = step + 1 < steps;
            if (more)
            {
                sA = a.Load(step + 1);
                sB = b.Load(step + 1);
            }
            int pa = fa + cur * bufA, pb = fb + cur * bufB;
            // Two k values an iteration, unrolled by hand: ILGPU keeps loops as they are written. Deeper unrolling
            // lets ptxas hoist more fragment loads than 2 groups of 256 threads have registers for.
            for (int kk = 0; kk < bk; kk += 2)
            {
                var fa4 = a4.SubView(pa, rowA + halfA + 1);
                var fb4 = b4.SubView(pb, rowB + halfB + 1);
                acc = Acc8x8.Step(acc, fa4[0], fa4[halfA], fb4[0], fb4[halfB]);
                acc = Acc8x8.Step(acc, fa4[rowA], fa4[rowA + halfA], fb4[rowB], fb4[rowB + halfB]);
                pa += 2 * rowA;
                pb += 2 * rowB;
            }
            if (more)
            {
                a.Store(aTile, a4, (cur ^ 1) * bk * sa, sA);
                b.Store(bTile, b4, (cur ^ 1) * bk * sb, sB);
            }
            Group.Barrier();
        }
        return acc;
    }

    private static void Epilogue<TTile>(GemmArgs g, GemmLargeArgs split, int zz, int row, int col, Acc8x8 c)
        where TTile : struct, IGemmBlockTile
    {
        int dr = 4 * default(TTile).LanesM, dc = 4 * default(TTile).LanesN;
        var cz = g.C.SubView(zz * g.StrideC, g.C.Length - zz * g.StrideC);
        bool vec = split.VectorC != 0;
        var cz4 = vec ? g.C.Cast<Float4>().SubView(zz * g.StrideC / 4, g.C.Length / 4 - zz * g.StrideC / 4) : default;
        StoreRow(g, cz, cz4, vec, row, col, dc, c.R0A, c.R0B);
        StoreRow(g, cz, cz4, vec, row + 1, col, dc, c.R1A, c.R1B);
        StoreRow(g, cz, cz4, vec, row + 2, col, dc, c.R2A, c.R2B);
        StoreRow(g, cz, cz4, vec, row + 3, col, dc, c.R3A, c.R3B);
        StoreRow(g, cz, cz4, vec, row + dr, col, dc, c.R4A, c.R4B);
        StoreRow(g, cz, cz4, vec, row + dr + 1, col, dc, c.R5A, c.R5B);
        StoreRow(g, cz, cz4, vec, row + dr + 2, col, dc, c.R6A, c.R6B);
        StoreRow(g, cz, cz4, vec, row + dr + 3, col, dc, c.R7A, c.R7B);
    }

    private static void StoreRow(GemmArgs g, ArrayView<float> cz, ArrayView<Float4> cz4, bool vec, int row, int col, int dc,
        Float4 left, Float4 right)
    {
        if (row >= g.M) return;
        int off = row * g.Ldc;
        StoreQuad(g, cz, cz4, vec, off, col, left);
        StoreQuad(g, cz, cz4, vec, off, col + dc, right);
    }

    /// <summary>C[off + col .. off + col + 3] = α·v + β·C (C not read when β = 0), columns past N left alone.</summary>
    internal static void StoreQuad(GemmArgs g, ArrayView<float> cz, ArrayView<Float4> cz4, bool vec, int off, int col, Float4 v)
    {
        int i = off + col;
        float alpha = g.Alpha, beta = g.Beta;
        if (vec && col + 3 < g.N)
        {
            // The same expressions as the scalar stores below, so that ptxas fuses them alike: either width gives the
            // same bits.
            var r = new Float4 { X = alpha * v.X, Y = alpha * v.Y, Z = alpha * v.Z, W = alpha * v.W };
            if (beta != 0f)
            {
                var o = cz4[i >> 2];
                r = new Float4
                {
                    X = alpha * v.X + beta * o.X, Y = alpha * v.Y + beta * o.Y, Z = alpha * v.Z + beta * o.Z, W = alpha * v.W + beta * o.W,
                };
            }
            cz4[i >> 2] = r;
            return;
        }
        int n = g.N;
        if (col < n) cz[i] = beta == 0f ? alpha * v.X : alpha * v.X + beta * cz[i];
        if (col + 1 < n) cz[i + 1] = beta == 0f ? alpha * v.Y : alpha * v.Y + beta * cz[i + 1];
        if (col + 2 < n) cz[i + 2] = beta == 0f ? alpha * v.Z : alpha * v.Z + beta * cz[i + 2];
        if (col + 3 < n) cz[i + 3] = beta == 0f ? alpha * v.W : alpha * v.W + beta * cz[i + 3];
    }

    private static int XMinInt(int a, int b) => a < b ? a : b;

    /// <summary>One thread's share of loading one operand: 1, 2, 4 or 8 chunks of four stored elements per tile
    /// step, each with its offset in the stored product and its place in the shared tile.</summary>
    private struct Operand<TOp> where TOp : struct, IGemmOperand
    {
        private ArrayView<float> x;
        private ArrayView<Float4> x4;
        private int chunks, stepGlobal, bk, sharedRow;
        private bool vector;
        private Chunk p0, p1, p2, p3, p4, p5, p6, p7;

        public static Operand<TOp> Open(ArrayView<float> view, long zOffset, int ld, int extent, int origin, int kBegin,
            int kEnd, int tid, int threads, int tileExtent, int bk, int sharedRow, bool vector)
        {
            return new Operand<TOp>
            {
                x = view.SubView(zOffset, view.Length - zOffset),
                // The vector loads address the product in Float4 units, so that the 16-byte alignment ILGPU
                // assumes for the view carries over to every chunk (a float sub-view would lose it).
                x4 = vector ? view.Cast<Float4>().SubView(zOffset / 4, view.Length / 4 - zOffset / 4) : default,
                vector = vector,
                bk = bk, sharedRow = sharedRow,
                chunks = tileExtent * bk / (4 * threads),
                stepGlobal = default(TOp).RowsAlongK ? bk : bk * ld,
                p0 = Locate(tid, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p1 = Locate(tid + threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p2 = Locate(tid + 2 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p3 = Locate(tid + 3 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p4 = Locate(tid + 4 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p5 = Locate(tid + 5 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p6 = Locate(tid + 6 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
                p7 = Locate(tid + 7 * threads, ld, extent, origin, kBegin, kEnd, tileExtent, bk, sharedRow),
            };
        }

        /// <summary>Chunk f of the tile: its offset in the stored product at the slice's first step, its float
        /// offset in a shared buffer, and the bounds that say how many of its elements exist at a given step.</summary>
        private static Chunk Locate(int f, int ld, int extent, int origin, int kBegin, int kEnd, int tileExtent, int bk,
            int sharedRow)
        {
            int local, k;
            if (default(TOp).RowsAlongK)
            {
                int perRow = bk / 4;
                local = f / perRow;
                k = 4 * (f - local * perRow);
            }
            else
            {
                int perRow = tileExtent / 4;
                k = f / perRow;
                local = 4 * (f - k * perRow);
            }
            int i = origin + local, kg = kBegin + k;
            bool rowsAlongK = default(TOp).RowsAlongK;
            return new Chunk
            {
                Global = rowsAlongK ? i * ld + kg : kg * ld + i,
                Shared = k * sharedRow + local,
                // Along k: elements left in the row at step 0 (none past the last row). Across k: elements of the
                // row inside the matrix, and k left before kEnd.
                Left = rowsAlongK ? (i < extent ? kEnd - kg : int.MinValue / 2) : kEnd - kg,
                Width = rowsAlongK ? 4 : XMax(0, XMinInt(4, extent - i)),
            };
        }

        /// <summary>This thread's chunks at tile step <paramref name="step"/> (zero outside the matrix).</summary>
        public readonly Chunks Load(int step)
        {
            int dg = step * stepGlobal, dk = step * bk;
            // The chunk count is a compile-time constant (1, 2, 4 or 8): the unused loads vanish.
            var r = new Chunks { C0 = LoadChunk(p0, dg, dk) };
            if (chunks > 1) r.C1 = LoadChunk(p1, dg, dk);
            if (chunks > 2) { r.C2 = LoadChunk(p2, dg, dk); r.C3 = LoadChunk(p3, dg, dk); }
            if (chunks > 4)
            {
                r.C4 = LoadChunk(p4, dg, dk); r.C5 = LoadChunk(p5, dg, dk);
                r.C6 = LoadChunk(p6, dg, dk); r.C7 = LoadChunk(p7, dg, dk);
            }
            return r;
        }

        private readonly Float4 LoadChunk(Chunk p, int dg, int dk) => LoadChunk(p.Global + dg, p.Valid(dk, default(TOp).RowsAlongK));

        private readonly Float4 LoadChunk(int off, int valid)
        {
            if (vector && valid >= 4) return x4[off >> 2];
            var v = default(Float4);
            if (valid > 0) v.X = x[off];
            if (valid > 1) v.Y = x[off + 1];
            if (valid > 2) v.Z = x[off + 2];
            if (valid > 3) v.W = x[off + 3];
            return v;
        }

        /// <summary>Writes this thread's chunks into the shared buffer starting at float <paramref name="buffer"/>.</summary>
        public readonly void Store(ArrayView<float> tile, ArrayView<Float4> tile4, int buffer, Chunks s)
        {
            StoreChunk(tile, tile4, buffer + p0.Shared, s.C0);
            if (chunks > 1) StoreChunk(tile, tile4, buffer + p1.Shared, s.C1);
            if (chunks > 2)
            {
                StoreChunk(tile, tile4, buffer + p2.Shared, s.C2);
                StoreChunk(tile, tile4, buffer + p3.Shared, s.C3);
            }
            if (chunks > 4)
            {
                StoreChunk(tile, tile4, buffer + p4.Shared, s.C4);
                StoreChunk(tile, tile4, buffer + p5.Shared, s.C5);
                StoreChunk(tile, tile4, buffer + p6.Shared, s.C6);
                StoreChunk(tile, tile4, buffer + p7.Shared, s.C7);
            }
        }

        private readonly void StoreChunk(ArrayView<float> tile, ArrayView<Float4> tile4, int at, Float4 v)
        {
            if (default(TOp).RowsAlongK)
            {
                // Four k values of one row of op(X): one column of the k-major tile.
                tile[at] = v.X;
                tile[at + sharedRow] = v.Y;
                tile[at + 2 * sharedRow] = v.Z;
                tile[at + 3 * sharedRow] = v.W;
            }
            else tile4[at >> 2] = v;
        }
    }

    /// <summary>One chunk of four stored elements that a thread loads every tile step.</summary>
    private struct Chunk
    {
        /// <summary>Offset of its first element in the stored product at the first step; float offset in a shared buffer.</summary>
        public int Global, Shared;
        /// <summary>k left before the slice's end at the first step; elements of the chunk inside the matrix along
        /// its row (4 for chunks that run along k).</summary>
        public int Left, Width;

        /// <summary>How many of the chunk's four elements exist dk into the slice.</summary>
        public readonly int Valid(int dk, bool rowsAlongK)
        {
            int left = Left - dk;
            if (rowsAlongK) return left < 0 ? 0 : left;
            return left > 0 ? Width : 0;
        }
    }

    private static int XMax(int a, int b) => a > b ? a : b;

    /// <summary>The chunks one thread carries from global to shared memory in one tile step.</summary>
    private struct Chunks
    {
        public Float4 C0, C1, C2, C3, C4, C5, C6, C7;
    }
}

/// <summary>An 8×8 block of C in registers: rows 0–3 and 4–7 of the thread's block, each as two groups of four
/// columns (A: the first group, B: the second).</summary>
internal struct Acc8x8
{
    public Float4 R0A, R0B, R1A, R1B, R2A, R2B, R3A, R3B, R4A, R4B, R5A, R5B, R6A, R6B, R7A, R7B;

    /// <summary>One k step: c[r][j] += a[r]·b[j] for the 8 values a = (a0, a1) of op(A) and b = (b0, b1) of op(B).</summary>
    public static Acc8x8 Step(Acc8x8 c, Float4 a0, Float4 a1, Float4 b0, Float4 b1)
    {
        c.R0A = Fma(a0.X, b0, c.R0A); c.R0B = Fma(a0.X, b1, c.R0B);
        c.R1A = Fma(a0.Y, b0, c.R1A); c.R1B = Fma(a0.Y, b1, c.R1B);
        c.R2A = Fma(a0.Z, b0, c.R2A); c.R2B = Fma(a0.Z, b1, c.R2B);
        c.R3A = Fma(a0.W, b0, c.R3A); c.R3B = Fma(a0.W, b1, c.R3B);
        c.R4A = Fma(a1.X, b0, c.R4A); c.R4B = Fma(a1.X, b1, c.R4B);
        c.R5A = Fma(a1.Y, b0, c.R5A); c.R5B = Fma(a1.Y, b1, c.R5B);
        c.R6A = Fma(a1.Z, b0, c.R6A); c.R6B = Fma(a1.Z, b1, c.R6B);
        c.R7A = Fma(a1.W, b0, c.R7A); c.R7B = Fma(a1.W, b1, c.R7B);
        return c;
    }

    private static Float4 Fma(float a, Float4 b, Float4 c) =>
        new() { X = a * b.X + c.X, Y = a * b.Y + c.Y, Z = a * b.Z + c.Z, W = a * b.W + c.W };
}
