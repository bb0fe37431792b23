namespace GpuNet.Kernels;

/// <summary>
/// The coordinates of a flat index i = (Outer·M + Middle)·N + Inner into a row-major array with rows of N elements
/// grouped M rows a block, kept up to date while i advances by a fixed step (a grid-stride loop): each
/// <see cref="Next"/> costs a few 32-bit additions and compares where recomputing the coordinates would divide (in
/// 64 bits, for a long index) for every element. <see cref="Start"/> divides once per thread, in 32 bits.
/// With M = 1, Outer = i / N and Middle stays 0.
/// </summary>
public struct IndexWalk
{
    /// <summary>i mod N.</summary>
    public int Inner;
    /// <summary>(i / N) mod M.</summary>
    public int Middle;
    /// <summary>i / (N·M).</summary>
    public int Outer;
    private int n, m, stepInner, stepMiddle, stepOuter;

    /// <summary>The coordinates of <paramref name="index"/> for rows of <paramref name="n"/> elements and blocks of
    /// <paramref name="m"/> rows, advancing by <paramref name="step"/> (both index and step non-negative ints).</summary>
    public static IndexWalk Start(int index, int step, int n, int m)
    {
        var w = new IndexWalk { n = n, m = m };
        int q = index / n;
        w.Inner = index - q * n;
        w.Middle = q % m;
        w.Outer = q / m;
        int qs = step / n;
        w.stepInner = step - qs * n;
        w.stepMiddle = qs % m;
        w.stepOuter = qs / m;
        return w;
    }

    /// <summary>The coordinates of i + step. Inner and Middle each carry at most once, since each step's own part
    /// is below its size.</summary>
    public readonly IndexWalk Next()
    {
        var w = this;
        w.Inner += stepInner;
        int carry = 0;
        if (w.Inner >= n) { w.Inner -= n; carry = 1; }
        w.Middle += stepMiddle + carry;
        carry = 0;
        if (w.Middle >= m) { w.Middle -= m; carry = 1; }
        w.Outer += stepOuter + carry;
        return w;
    }
}
