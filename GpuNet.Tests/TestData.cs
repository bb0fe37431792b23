using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Tests;

/// <summary>Seeded inputs and device buffer helpers for the tests. Each test owns its generator.</summary>
public static class TestData
{
    public static float[] Uniform(Random rng, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)rng.NextDouble();
        return a;
    }

    /// <summary>A device buffer holding <paramref name="data"/>.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Upload(Device d, float[] data)
    {
        var b = d.Allocate(data.Length);
        if (data.Length > 0) b.View.SubView(0, data.Length).CopyFromCPU(data);
        return b;
    }

    /// <summary>A device buffer of n elements, every one NaN, so that anything a kernel fails to write is caught.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> Poisoned(Device d, int n)
    {
        var poison = new float[n];
        Array.Fill(poison, float.NaN);
        return Upload(d, poison);
    }

    public static float[] Download(MemoryBuffer1D<float, Stride1D.Dense> b, int n)
    {
        var a = new float[n];
        if (n > 0) b.View.SubView(0, n).CopyToCPU(a);
        return a;
    }

    public static double[] ToDouble(float[] a) => Array.ConvertAll(a, x => (double)x);
}
