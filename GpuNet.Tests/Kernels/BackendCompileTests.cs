using GpuNet.Devices;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace GpuNet.Tests.Kernels;

/// <summary>Every kernel compiled ahead of time for the GPU backends, with no GPU present, so that a
/// CUDA- or OpenCL-only compile failure shows on any machine.</summary>
public class BackendCompileTests
{
    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in KernelCatalog.All) data.Add(name);
        return data;
    }

    private static System.Reflection.MethodInfo Method(string name) => KernelCatalog.All.First(k => k.Name == name).Method;

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToPtxForSm90(string kernel)
    {
        string ptx = KernelCatalog.CompilePtx(Method(kernel), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        // ILGPU 1.5.3 asked for SM_90 emits ".target sm_80" PTX, which the driver compiles for sm_90 at load time.
        Assert.Matches(@"\.target sm_(80|90)", ptx);
        Assert.Contains(".entry", ptx);
        Assert.DoesNotContain(".local", ptx); // no register spills or local arrays in any kernel
    }

    /// <summary>The PTX itself has no fma: ILGPU emits a separate mul.f32 and add.f32 for each a·b + c. What is checked
    /// is that they carry no rounding modifier (mul.rn / add.rn would forbid contraction), so that ptxas is free to
    /// fuse them into FFMA; whether it does happens in the driver and is not visible here.</summary>
    [Fact]
    public void TiledGemmInnerLoopIsContractibleMulAddOnSharedMemoryWithTwoBarriers()
    {
        string ptx = KernelCatalog.CompilePtx(Method("Gemm.Tiled<GemmTile64>"), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        // 16 multiplies and 16 adds per step of the inner loop (the 4×4 register block), none pinned to a rounding.
        Assert.True(CountOccurrences(ptx, "mul.f32") >= 16 && CountOccurrences(ptx, "add.f32") >= 16, "no 4×4 multiply-add block");
        Assert.DoesNotContain("mul.rn.f32", ptx);
        Assert.DoesNotContain("add.rn.f32", ptx);
        Assert.Contains("ld.shared.f32", ptx);
        Assert.Equal(2, CountOccurrences(ptx, "bar.sync"));
        // 8 KiB of shared memory: two 64×16 float tiles of 4 KiB
        Assert.Equal(2, CountOccurrences(ptx, ".shared .align 4 .b8 __shared_alloca"));
        Assert.Equal(2, CountOccurrences(ptx, "[4096];"));
        Assert.DoesNotContain(".local", ptx); // the 16 accumulators stay in registers
    }

    /// <summary>The large-tile GEMM as PTX: 128-bit global loads of A and B (two each: the first step and the loop)
    /// and of C (16 rows of four, read when β ≠ 0), 128-bit shared loads of the fragments and, for rows across k, 128-bit
    /// shared stores; launch bounds of 256 threads and 2 groups per multiprocessor; one barrier before the first step and
    /// one per step; two double-buffered k-major tiles of
    /// 2 × 8 × (128 + 4) floats; no local memory; no rounding modifier that would keep ptxas from fusing FFMAs.</summary>
    [Theory]
    [InlineData("GemmLarge.Run<GemmTile128,AlongK,AlongK>", 0)]
    [InlineData("GemmLarge.Run<GemmTile128,AcrossK,AcrossK>", 2)]
    [InlineData("GemmLarge.Run<GemmTile128,AlongK,AcrossK>", 1)]
    public void LargeTileGemmUses128BitAccessesAndOneBarrierAStep(string kernel, int sharedVectorStores)
    {
        string ptx = KernelCatalog.CompilePtx(Method(kernel), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        Assert.Equal(2 + 2 + 16, CountOccurrences(ptx, "ld.global.v4.f32"));
        Assert.Contains(".maxntid 256, 1, 1", ptx); // launch bounds: at most 128 registers, so two groups fit an SM
        Assert.Contains(".minnctapersm 2", ptx);
        Assert.Equal(2 * sharedVectorStores, CountOccurrences(ptx, "st.shared.v4.f32"));
        Assert.Contains("ld.shared.v4.f32", ptx);
        Assert.Equal(2, CountOccurrences(ptx, "bar.sync"));
        Assert.Equal(2, CountOccurrences(ptx, "[8448];"));
        Assert.DoesNotContain(".local", ptx);
        Assert.DoesNotContain("mul.rn.f32", ptx);
        Assert.DoesNotContain("add.rn.f32", ptx);
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToOpenCLC(string kernel)
    {
        string source = KernelCatalog.CompileOpenCL(Method(kernel));
        Assert.Contains("kernel void", source);
    }

    private static int CountOccurrences(string text, string what)
    {
        int n = 0, i = 0;
        while ((i = text.IndexOf(what, i, StringComparison.Ordinal)) >= 0) { n++; i += what.Length; }
        return n;
    }
}
