// Shape legend: see Gemm.cs. The workspace W holds the k slices of a split product: [Count][Slices][M][ldw] floats,
// ldw a multiple of 4 (so every row starts 16-byte aligned).
using ILGPU;

namespace GpuNet.Kernels;

/// <summary>The second half of a split-K GEMM: <see cref="GemmLarge.Run{TTile, TA, TB}"/> with
/// <see cref="GemmLargeArgs.Slices"/> = S writes S partial products into a workspace; this sums them.</summary>
public static class GemmSplitK
{
    /// <summary>
    /// C[z][m][n] = α·Σ_{s = 0..S−1} W[z][s][m][n] + β·C[z][m][n], the slices added in increasing s (a fixed order:
    /// the result does not depend on scheduling). C is not read when β = 0. Each thread sums four consecutive columns
    /// with 128-bit workspace loads. Launch: 1-D group; grid (≥ ⌈N/(4·group)⌉, rows walked over Y, products over Z);
    /// Count·S·M·ldw must stay below 2³¹.
    /// </summary>
    public static void Reduce(ArrayView<float> work, GemmArgs g, GemmLargeArgs split, int ldw)
    {
        int col = 4 * (Grid.IdxX * Group.DimX + Group.IdxX);
        if (col >= g.N) return;
        var w4 = work.Cast<Float4>();
        int slices = split.Slices, m = g.M;
        int row4 = ldw / 4, slice4 = m * row4;
        bool vec = split.VectorC != 0;
        for (int z = Grid.IdxZ; z < g.Count; z += Grid.DimZ)
        {
            var cz = g.C.SubView(z * g.StrideC, g.C.Length - z * g.StrideC);
            var cz4 = vec ? g.C.Cast<Float4>().SubView(z * g.StrideC / 4, g.C.Length / 4 - z * g.StrideC / 4) : default;
            for (int r = Grid.IdxY; r < m; r += Grid.DimY)
            {
                int at = z * slices * slice4 + r * row4 + col / 4;
                var sum = w4[at];
                for (int s = 1; s < slices; s++)
                {
                    var v = w4[at + s * slice4];
                    sum.X += v.X; sum.Y += v.Y; sum.Z += v.Z; sum.W += v.W;
                }
                GemmLarge.StoreQuad(g, cz, cz4, vec, r * g.Ldc, col, sum);
            }
        }
    }
}
