using GpuNet.Devices;
using ILGPU.Runtime.Cuda;

if (args.Length >= 1 && args[0] == "--ptx")
{
    // --ptx [NAME-FILTER] [OUT-DIR]: PTX for sm_90 of every kernel whose name contains the filter.
    string filter = args.Length > 1 ? args[1] : "";
    string? dir = args.Length > 2 ? args[2] : null;
    foreach (var (name, method) in KernelCatalog.All.Where(k => k.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
    {
        string ptx = KernelCatalog.CompilePtx(method, CudaArchitecture.SM_90, CudaInstructionSet.ISA_85);
        if (dir == null) Console.WriteLine($"// ===== {name}\n{ptx}");
        else
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, name.Replace('<', '_').Replace('>', '_').Replace(',', '_') + ".ptx"), ptx);
        }
    }
    return 0;
}
Console.WriteLine("usage: GpuNet.Bench --ptx [FILTER] [DIR]");
return 2;
