using System.Reflection;
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
    /// <summary>(name, method) of every launched kernel: <see cref="KernelRegistry.All"/>, which the launchers load from.</summary>
    public static IReadOnlyList<(string Name, MethodInfo Method)> All { get; } =
        KernelRegistry.All.Select(k => (k.Name, k.Method)).ToArray();

    /// <summary>PTX of one kernel for <paramref name="architecture"/> (e.g. SM_90), compiled without a GPU.</summary>
    public static string CompilePtx(MethodInfo kernel, CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var backend = new PTXBackend(Gpu.Context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var bounds = KernelRegistry.All.FirstOrDefault(k => k.Method == kernel)?.Specialization ?? KernelSpecialization.Empty;
        var compiled = (PTXCompiledKernel)backend.Compile(entry, bounds);
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
