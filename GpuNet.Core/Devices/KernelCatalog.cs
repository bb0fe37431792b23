using System.Reflection;
using GpuNet.Kernels;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuNet.Devices;

/// <summary>
/// Every kernel GpuNet launches (each generic kernel in every instantiation it is launched with), and
/// ahead-of-time compilation to PTX and OpenCL C with no device present, so that backend-only failures
/// show on any machine and the generated code can be read.
/// </summary>
public static class KernelCatalog
{
    /// <summary>(name, method) of every launched kernel.</summary>
    public static IReadOnlyList<(string Name, MethodInfo Method)> All { get; } = Build();

    private static IReadOnlyList<(string, MethodInfo)> Build()
    {
        var list = new List<(string, MethodInfo)>();
        void Add(Type type, string name, params Type[] generic)
        {
            var m = type.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
                ?? throw new MissingMethodException(type.Name, name);
            if (generic.Length > 0) m = m.MakeGenericMethod(generic);
            string label = generic.Length == 0 ? $"{type.Name}.{name}" : $"{type.Name}.{name}<{string.Join(",", generic.Select(g => g.Name))}>";
            list.Add((label, m));
        }
        Add(typeof(Gemm), nameof(Gemm.Naive));
        Add(typeof(Gemm), nameof(Gemm.Blocked));
        Add(typeof(Gemm), nameof(Gemm.Tiled), typeof(GemmTile8));
        Add(typeof(Gemm), nameof(Gemm.Tiled), typeof(GemmTile64));
        foreach (var (tile, a, b) in GemmLargeLauncher.Instantiations()) Add(typeof(GemmLarge), nameof(GemmLarge.Run), tile, a, b);
        Add(typeof(GemmSplitK), nameof(GemmSplitK.Reduce));
        Type[] acts = [typeof(Identity), typeof(Logistic), typeof(Tanh), typeof(Relu)];
        foreach (var a in acts)
        {
            Add(typeof(Activations), nameof(Activations.BiasActivate), a);
            Add(typeof(Activations), nameof(Activations.Backward), a);
            Add(typeof(Activations), nameof(Activations.Apply), a);
            Add(typeof(Losses), nameof(Losses.SquaredError), a);
            Add(typeof(Losses), nameof(Losses.AbsoluteError), a);
        }
        Add(typeof(Activations), nameof(Activations.SoftmaxRows));
        Add(typeof(Losses), nameof(Losses.SoftmaxCrossEntropy));
        Add(typeof(Losses), nameof(Losses.BinaryCrossEntropy));
        Add(typeof(Losses), nameof(Losses.Correct));
        Add(typeof(Losses), nameof(Losses.FlagNonFinite));
        foreach (var shape in new[] { typeof(Reduce2x2), typeof(Reduce32x8) })
        {
            Add(typeof(Reductions), nameof(Reductions.ColumnSum), shape);
            Add(typeof(Reductions), nameof(Reductions.ColumnSumAccumulate), shape);
        }
        Add(typeof(Reductions), nameof(Reductions.ColumnSumDirect));
        Add(typeof(Reductions), nameof(Reductions.ColumnSumAccumulateDirect));
        Add(typeof(Optimizers), nameof(Optimizers.Sgd));
        Add(typeof(Optimizers), nameof(Optimizers.Momentum));
        Add(typeof(Optimizers), nameof(Optimizers.Adam));
        Add(typeof(Optimizers), nameof(Optimizers.ZeroMasked));
        Add(typeof(Gather), nameof(Gather.Rows));
        return list;
    }

    /// <summary>PTX of one kernel for <paramref name="architecture"/> (e.g. SM_90), compiled without a GPU.</summary>
    public static string CompilePtx(MethodInfo kernel, CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var backend = new PTXBackend(Gpu.Context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, GemmLargeLauncher.Specialization(kernel));
        return compiled.PTXAssembly;
    }

    /// <summary>OpenCL C of one kernel for an OpenCL 2.0 device with generic address spaces and float64,
    /// compiled without a device.</summary>
    public static string CompileOpenCL(MethodInfo kernel)
    {
        using var backend = new CLBackend(Gpu.Context, new CLCapabilityContext(true, true, true, true, true),
            CLDeviceVendor.Nvidia, CLCVersion.CL20);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (CLCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.Source;
    }
}
