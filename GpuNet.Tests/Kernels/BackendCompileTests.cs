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

    [Fact]
    public void TiledGemmInnerLoopIsFusedMultiplyAddOnSharedMemoryWithTwoBarriers()
    {
        string ptx = KernelCatalog.CompilePtx(Method("Gemm.Tiled<GemmTile64>"), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        // ILGPU emits mul.f32 + add.f32 without a rounding modifier, which ptxas contracts into FFMA;
        // 16 of each per step of the inner loop (the 4×4 register block).
        Assert.True(CountOccurrences(ptx, "mul.f32") >= 16 && CountOccurrences(ptx, "add.f32") >= 16, "no 4×4 multiply-add block");
        Assert.DoesNotContain("mul.rn.f32", ptx);
        Assert.Contains("ld.shared.f32", ptx);
        Assert.Equal(2, CountOccurrences(ptx, "bar.sync"));
        // 8 KiB of shared memory: two 64×16 float tiles of 4 KiB
        Assert.Equal(2, CountOccurrences(ptx, ".shared .align 4 .b8 __shared_alloca"));
        Assert.Equal(2, CountOccurrences(ptx, "[4096];"));
        Assert.DoesNotContain(".local", ptx); // the 16 accumulators stay in registers
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
