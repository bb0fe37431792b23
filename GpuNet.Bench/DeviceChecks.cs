using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GpuNet.Devices;
using GpuNet.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench;

/// <summary>
/// The kernel checks a GPU run makes before it times anything, for a machine where the test suite cannot run (no
/// .NET SDK): every GEMM variant the device can launch, for every transpose pair, awkward shapes, a shared operand
/// (batch stride 0) and sub-views at offsets of 1, 2 and 3 floats (misaligned for vector loads); and every element-wise,
/// loss, sum, optimizer and gather kernel GpuNet launches there, each against a float64 host reference on seeded
/// inputs, outputs poisoned with NaN first and padding checked untouched. <c>--smoke</c> is the 5-second version: open
/// the device, one GEMM, synchronise, check.
/// </summary>
internal sealed partial class DeviceChecks(Device device, TextWriter log)
{
    public sealed record CheckJson(string Name, double RelError, double Tolerance, bool Passed, string? Note);
    public sealed record ChecksJson(string Tool, int Version, string Date, string Device, string? Driver, List<CheckJson> Checks,
        int Failed, double Seconds);

    private readonly List<CheckJson> results = [];
    private readonly Random rng = new(2024);

    /// <summary>float32 unit round-off.</summary>
    private const double U = 5.96e-8;

    /// <summary>Element-wise kernels (exp, tanh, log and a few products in float32): a few ulps each, so 1e-5 of the
    /// norm; a wrong term or index is off by O(1).</summary>
    private const double ElementTolerance = 1e-5;

    public int RunSmoke(string? jsonPath) => Finish(jsonPath, Stopwatch.StartNew(), () =>
    {
        var clock = Stopwatch.StartNew();
        CheckGemm(device.Gemm.DefaultVariant, 512, 512, 512, false, false, batch: 1, offset: 0, sharedB: false);
        device.Synchronize();
        log.WriteLine($"smoke: {device.Info.Name}: one 512³ GEMM ({device.Gemm.DefaultVariant}) launched, synchronised and checked in {clock.Elapsed.TotalSeconds:F1} s");
    });

    public int RunAll(string? jsonPath) => Finish(jsonPath, Stopwatch.StartNew(), () =>
    {
        GemmChecks();
        ElementwiseChecks();
    });

    private int Finish(string? jsonPath, Stopwatch clock, Action checks)
    {
        string? error = null;
        try { checks(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error = $"{e.GetType().Name}: {e.Message}";
            results.Add(new CheckJson("device error", double.NaN, 0, false, error));
        }
        int failed = results.Count(r => !r.Passed);
        string? driver = device.Accelerator is CudaAccelerator cuda ? cuda.DriverVersion.ToString() : null;
        if (jsonPath != null)
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(new ChecksJson("gpunet-checks", 1,
                DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), device.Info.Name, driver, results, failed,
                clock.Elapsed.TotalSeconds), Json.Options));
        log.WriteLine(failed == 0 ? $"checks: all {results.Count} passed in {clock.Elapsed.TotalSeconds:F1} s"
            : $"checks: {failed} of {results.Count} FAILED" + (error == null ? "" : $" ({error})"));
        return failed == 0 ? 0 : 1;
    }

    private void Record(string name, double err, double tolerance, string? note = null)
    {
        bool ok = err <= tolerance; // NaN fails
        results.Add(new CheckJson(name, err, tolerance, ok, note));
        log.WriteLine($"{(ok ? "ok  " : "FAIL")} {name,-58} error {err:E2} (tolerance {tolerance:E1}){(note == null ? "" : " " + note)}");
    }

    // ---------------------------------------------------------------- GEMM

    private static readonly (int M, int N, int K)[] GemmShapes = [(1, 1, 1), (7, 13, 5), (33, 65, 17), (130, 67, 129), (64, 64, 64)];

    private void GemmChecks()
    {
        foreach (var variant in Enum.GetValues<GemmVariant>().Where(v => v != GemmVariant.Auto))
        {
            try
            {
                for (int s = 0; s < GemmShapes.Length; s++)
                    foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                    {
                        var (m, n, k) = GemmShapes[s];
                        if (device.IsCpu && variant == GemmVariant.Tiled8 && m * n * k > 40_000) continue; // barrier-bound on the CPU
                        CheckGemm(variant, m, n, k, ta, tb, batch: s % 2 == 0 ? 1 : 3, offset: s % 4, sharedB: s == 3);
                    }
            }
            catch (NotSupportedException e) { log.WriteLine($"skip {variant}: {e.Message}"); }
        }
    }

    /// <summary>C = op(A)·op(B) for a batch, every operand a sub-view <paramref name="offset"/> floats into its buffer,
    /// C with one padding column; B shared by the batch (stride 0) when <paramref name="sharedB"/>.</summary>
    private void CheckGemm(GemmVariant variant, int m, int n, int k, bool ta, bool tb, int batch, int offset, bool sharedB)
    {
        int aCols = ta ? m : k, bCols = tb ? k : n, ldc = n + 1;
        long sizeA = (long)m * k, sizeB = (long)k * n, sizeC = (long)m * ldc;
        var a = Random(offset + batch * sizeA);
        var b = Random(offset + (sharedB ? 1 : batch) * sizeB);
        using var da = Upload(a);
        using var db = Upload(b);
        using var dc = Upload(Nan(offset + batch * sizeC));
        device.Gemm.Run(new GemmArgs
        {
            A = da.View.SubView(offset, batch * sizeA), B = db.View.SubView(offset, b.Length - offset), C = dc.View.SubView(offset, batch * sizeC),
            M = m, N = n, K = k, Lda = aCols, Ldb = bCols, Ldc = ldc, StrideA = sizeA, StrideB = sharedB ? 0 : sizeB, StrideC = sizeC,
            TransA = ta ? 1 : 0, TransB = tb ? 1 : 0, Alpha = 1, Beta = 0, Count = batch,
        }, variant);
        var got = dc.GetAsArray1D();
        var expected = new double[got.Length];
        Array.Fill(expected, double.NaN);
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    long a0 = offset + z * sizeA, b0 = offset + (sharedB ? 0 : z * sizeB);
                    for (int p = 0; p < k; p++)
                        sum += (double)a[a0 + (ta ? (long)p * aCols + i : (long)i * aCols + p)] * b[b0 + (tb ? (long)j * bCols + p : (long)p * bCols + j)];
                    expected[offset + z * sizeC + (long)i * ldc + j] = sum;
                }
        Record($"gemm {variant} {m}x{n}x{k} {(ta ? "T" : "N")}{(tb ? "T" : "N")} batch {batch}{(sharedB ? " shared B" : "")} offset {offset}",
            Compare(got, expected), 2.0 * k * U + 1e-6);
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>‖got − expected‖ / ‖expected‖ over the elements expected finite; infinite when an element expected NaN
    /// (padding, outside the output) was written or a computed one is not finite.</summary>
    private static double Compare(float[] got, double[] expected)
    {
        double num = 0, den = 0;
        for (int i = 0; i < got.Length; i++)
        {
            if (double.IsNaN(expected[i])) { if (!float.IsNaN(got[i])) return double.PositiveInfinity; continue; }
            double d = got[i] - expected[i];
            if (!double.IsFinite(d)) return double.PositiveInfinity;
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }

    private float[] Random(long n, float lo = -1f, float hi = 1f)
    {
        var x = new float[n];
        for (long i = 0; i < n; i++) x[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return x;
    }

    private static float[] Nan(long n)
    {
        var x = new float[n];
        Array.Fill(x, float.NaN);
        return x;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Upload(float[] data)
    {
        var buffer = device.Allocate(Math.Max(data.Length, 1));
        if (data.Length > 0) buffer.View.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }
}
