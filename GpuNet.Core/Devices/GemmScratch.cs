using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuNet.Devices;

/// <summary>
/// Device operands of the shape of one GEMM, filled with seeded values in [−1, 1), on which the tuner checks and times
/// its candidates without touching the caller's buffers. Each operand keeps the caller's row stride, stride between products and
/// offset modulo 4 floats inside its buffer, so the same load widths are chosen as for the caller's product.
/// </summary>
internal sealed class GemmScratch : IDisposable
{
    private readonly List<MemoryBuffer1D<float, Stride1D.Dense>> buffers = [];
    private readonly float[] cStart;
    private readonly ArrayView<float> c;
    private readonly Device device;

    /// <summary>Most floats scratch operands may hold together (256 MiB); a larger product is not tuned.</summary>
    public const long MaxFloats = 64L << 20;

    /// <exception cref="DeviceMemoryException">The device has no room for them (nothing stays allocated).</exception>
    public GemmScratch(Device device, in GemmArgs g)
    {
        int aRows = g.TransA == 0 ? g.M : g.K, aCols = g.TransA == 0 ? g.K : g.M;
        int bRows = g.TransB == 0 ? g.K : g.N, bCols = g.TransB == 0 ? g.N : g.K;
        this.device = device;
        ulong seed = 0x9E3779B97F4A7C15UL;
        try
        {
            var a = Operand(device, g.A, Need(aRows, aCols, g.Lda, g.StrideA, g.Count), ref seed, out _);
            var b = Operand(device, g.B, Need(bRows, bCols, g.Ldb, g.StrideB, g.Count), ref seed, out _);
            c = Operand(device, g.C, Need(g.M, g.N, g.Ldc, g.StrideC, g.Count), ref seed, out cStart);
            Args = g with { A = a, B = b, C = c };
        }
        catch (DeviceMemoryException)
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The caller's product on the scratch operands.</summary>
    public GemmArgs Args { get; }

    /// <summary>Floats the scratch operands of <paramref name="g"/> take.</summary>
    public static long Floats(in GemmArgs g)
    {
        int aRows = g.TransA == 0 ? g.M : g.K, aCols = g.TransA == 0 ? g.K : g.M;
        int bRows = g.TransB == 0 ? g.K : g.N, bCols = g.TransB == 0 ? g.N : g.K;
        return Need(aRows, aCols, g.Lda, g.StrideA, g.Count) + Need(bRows, bCols, g.Ldb, g.StrideB, g.Count)
            + Need(g.M, g.N, g.Ldc, g.StrideC, g.Count) + 12;
    }

    /// <summary>Sets C back to its starting values (what β multiplies).</summary>
    public void ResetC() => c.SubView(0, cStart.Length).CopyFromCPU(cStart);

    /// <summary>Copies C to the host (waits for the device, and counts it).</summary>
    public float[] ReadC()
    {
        device.Counters.Synced();
        var host = new float[cStart.Length];
        c.SubView(0, host.Length).CopyToCPU(host);
        return host;
    }

    private static long Need(int rows, int cols, int ld, long stride, int count) =>
        rows == 0 || cols == 0 ? 0 : (count - 1) * stride + (long)(rows - 1) * ld + cols;

    private ArrayView<float> Operand(Device device, ArrayView<float> like, long length, ref ulong seed, out float[] values)
    {
        int shift = (int)(GemmSelection.OffsetInBuffer(like) & 3);
        var buffer = device.Allocate(length + shift);
        buffers.Add(buffer);
        values = new float[length];
        for (long i = 0; i < length; i++) values[i] = Next(ref seed);
        var view = buffer.View.SubView(shift, Math.Max(length, 0));
        view.CopyFromCPU(values);
        return view;
    }

    // SplitMix64 to [−1, 1): the values only need to be reproducible and of one scale.
    private static float Next(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (float)((z >> 40) * (2.0 / (1UL << 24)) - 1.0);
    }

    public void Dispose()
    {
        foreach (var b in buffers) b.Dispose();
    }
}
