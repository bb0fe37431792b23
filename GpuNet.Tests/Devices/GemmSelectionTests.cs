using GpuNet.Devices;
using GpuNet.Kernels;
using Xunit;

namespace GpuNet.Tests.Devices;

/// <summary>What the host decides before a large-tile GEMM runs: 128-bit access per operand, suitability, split counts,
/// and how <see cref="GemmVariant.Auto"/> resolves without a tuner.</summary>
public class GemmSelectionTests
{
    private static Device Cpu => TestDevices.Cpu;

    [Fact]
    public void VectorAccessNeedsAnAlignedStartRowStrideAndBatchStride()
    {
        using var buffer = Cpu.Allocate(64);
        var v = buffer.View.SubView(0, 64);
        Assert.True(GemmSelection.Vector4(v, 8, 16, 2));
        for (int offset = 1; offset < 4; offset++)
            Assert.False(GemmSelection.Vector4(v.SubView(offset, 32), 8, 16, 2), $"offset {offset}");
        Assert.True(GemmSelection.Vector4(v.SubView(4, 32), 8, 16, 2));
        Assert.False(GemmSelection.Vector4(v, 6, 16, 2));  // row stride
        Assert.False(GemmSelection.Vector4(v, 8, 18, 2));  // stride between products
        Assert.True(GemmSelection.Vector4(v, 8, 18, 1));   // ... which one product never uses
        Assert.True(GemmSelection.Vector4(v, 8, 0, 5));    // shared by every entry
        Assert.True(GemmSelection.Vector4(v.SubView(1, 0), 3, 3, 2)); // empty: never read
    }

    [Fact]
    public void AVariantIsUnsuitableWhenItsGroupDoesNotFitOrItsIndicesWouldNotFit32Bits()
    {
        var g = new GemmArgs { M = 100, N = 100, K = 100, Lda = 100, Ldb = 100, Ldc = 100, Count = 1 };
        Assert.Null(GemmSelection.Unsuitable(GemmVariant.Large128, g, 1024));
        Assert.Contains("256 threads", GemmSelection.Unsuitable(GemmVariant.Large128, g, 64));
        Assert.Null(GemmSelection.Unsuitable(GemmVariant.Large64, g, 64));
        Assert.Null(GemmSelection.Unsuitable(GemmVariant.Large16, g, 4));
        var huge = g with { M = 70_000, Lda = 40_000 };
        Assert.Contains("2³¹", GemmSelection.Unsuitable(GemmVariant.Large128, huge, 1024));
        Assert.Null(GemmSelection.Unsuitable(GemmVariant.Tiled64, huge, 1024)); // 64-bit indices
    }

    /// <summary>The split count doubles while the product has too few groups for the device and each slice keeps four
    /// tile steps; it depends on nothing but the shape and the multiprocessor count.</summary>
    [Fact]
    public void SplitKCutsSkinnyProductsAndLeavesLargeOnesWhole()
    {
        // Batch 128 × 784→256 forward on an H200's 132 multiprocessors: 2 × 4 tiles of 64×64, K = 784.
        var fwd = new GemmArgs { M = 128, N = 256, K = 784, Lda = 784, Ldb = 784, Ldc = 256, TransB = 1, Count = 1 };
        var plan = GemmSelection.Plan(GemmVariant.SplitK64, fwd, 132);
        Assert.Equal((14, 56), (plan.Slices, plan.KChunk)); // 16 asked, 56-deep chunks (a multiple of 8) need 14
        Assert.Equal(plan, GemmSelection.Plan(GemmVariant.SplitK64, fwd, 132));
        // SGEMM 4096³: 1024 tiles of 128×128 already fill the device.
        var square = new GemmArgs { M = 4096, N = 4096, K = 4096, Lda = 4096, Ldb = 4096, Ldc = 4096, Count = 1 };
        Assert.Equal(1, GemmSelection.Plan(GemmVariant.SplitK128, square, 132).Slices);
        // Too little k to share: 4 steps a slice at least.
        Assert.Equal(1, GemmSelection.Plan(GemmVariant.SplitK64, fwd with { K = 60 }, 132).Slices);
        Assert.Equal(2, GemmSelection.Plan(GemmVariant.SplitK64, fwd with { K = 64 }, 132).Slices);
        for (int k = 1; k < 300; k += 7)
        {
            var p = GemmSelection.Plan(GemmVariant.SplitK16, fwd with { K = k }, 2, slices: 5);
            Assert.True(p.KChunk % 8 == 0 || p.Slices == 1, $"K={k}: {p}");
            Assert.True(p.Slices * p.KChunk >= k && (p.Slices - 1) * p.KChunk < k, $"K={k}: {p}");
        }
    }

    [Fact]
    public void SplitKWorkspaceStaysBounded()
    {
        // Many small products: the workspace, not the tile count, limits the split.
        var g = new GemmArgs { M = 64, N = 64, K = 100_000, Lda = 100_000, Ldb = 64, Ldc = 64, Count = 2000 };
        int s = GemmSelection.Slices(GemmVariant.SplitK64, g, 100_000);
        Assert.True(GemmSelection.WorkspaceFloats(g, s) <= GemmSelection.MaxWorkspaceFloats, $"{s} slices");
        Assert.True(s >= 1);
    }

    [Fact]
    public void TheCpuAcceleratorNeverTunesAndRunsTheBlockedKernel()
    {
        var g = new GemmArgs { M = 5, N = 5, K = 5, Lda = 5, Ldb = 5, Ldc = 5, Count = 1 };
        // A device of its own: the pin below must not reach other tests.
        using var d = Gpu.OpenCpu(2, 2, 1);
        Assert.Null(d.Gemm.Tuner);
        Assert.False(d.Gemm.Autotune);
        d.Gemm.Autotune = true;
        Assert.False(d.Gemm.Autotune);
        Assert.Equal(GemmVariant.Blocked, d.Gemm.Resolve(g));
        d.Gemm.Pin = GemmVariant.Large16;
        Assert.Equal(GemmVariant.Large16, d.Gemm.Resolve(g));
        Assert.Equal(GemmVariant.Large16, d.Gemm.Plan(g).Variant);
    }

    [Fact]
    public void GpunetGemmPinsAVariantOrTurnsTuningOff()
    {
        Assert.Equal((GemmVariant.Auto, false), GemmLauncher.ParseSetting(null));
        Assert.Equal((GemmVariant.Auto, false), GemmLauncher.ParseSetting(" auto "));
        Assert.Equal((GemmVariant.Auto, true), GemmLauncher.ParseSetting("fixed"));
        Assert.Equal((GemmVariant.SplitK64, false), GemmLauncher.ParseSetting("SplitK64"));
        Assert.Equal((GemmVariant.Large128, false), GemmLauncher.ParseSetting("large128"));
        foreach (var bad in new[] { "large", "3", "tiled64x" })
        {
            var ex = Assert.Throws<GpuNetException>(() => GemmLauncher.ParseSetting(bad));
            Assert.Contains($"GPUNET_GEMM='{bad}'", ex.Message);
            Assert.Contains("large128", ex.Message);
        }
    }
}
