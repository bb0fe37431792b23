using System.Text.RegularExpressions;
using Xunit;

namespace GpuNet.Tests.Design;

/// <summary>
/// Core's namespaces import one way: the root (shared vocabulary and errors) ← Devices (devices, launchers, the kernel
/// registry) ← Distributed (processes of a job: the MPI binding) ← Compute (forward and backward passes, losses, optimizers) ← IO (file formats) ← Data ← Model ← Training.
/// The kernels (GpuNet.Kernels) are reached only from Devices and Compute. The sources are read: a using directive, an
/// alias or a qualified name that points up the order (or sideways into the kernels) fails this test, naming the file.
/// </summary>
public class LayeringTests
{
    private static readonly string[] Order = ["GpuNet.Devices", "GpuNet.Distributed", "GpuNet.Compute", "GpuNet.IO", "GpuNet.Data", "GpuNet.Model", "GpuNet.Training"];
    private static readonly string[] KernelUsers = ["GpuNet.Devices", "GpuNet.Compute"];

    private static readonly Regex Namespace = new(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline);
    private static readonly Regex Reference = new(@"\bGpuNet\.(Devices|Distributed|Compute|IO|Data|Model|Training|Kernels)\b");

    /// <summary>(file, its namespace, a namespace it refers to) for every reference in Core's code (comments and XML
    /// docs left out, since they do not make a dependency).</summary>
    private static IEnumerable<(string File, string From, string To)> Edges()
    {
        string core = RepoFiles.Path("GpuNet.Core");
        foreach (var file in Directory.EnumerateFiles(core, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(core, file).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal)) continue;
            string text = File.ReadAllText(file);
            string from = Namespace.Match(text).Groups[1].Value;
            var code = string.Join('\n', text.Split('\n').Select(l => l.TrimStart()).Where(l => !l.StartsWith("//", StringComparison.Ordinal)));
            foreach (var to in Reference.Matches(code).Select(m => m.Value).Distinct())
                if (to != from) yield return (relative, from, to);
        }
    }

    [Fact]
    public void CoreNamespacesImportOneWay()
    {
        var edges = Edges().ToList();
        // The reader sees the references that are there, so this cannot pass by reading nothing.
        Assert.Contains(edges, e => e.From == "GpuNet.Model" && e.To == "GpuNet.Compute");
        Assert.Contains(edges, e => e.From == "GpuNet.Compute" && e.To == "GpuNet.Kernels");
        foreach (var (file, from, to) in edges)
        {
            if (to == "GpuNet.Kernels")
            {
                Assert.True(KernelUsers.Contains(from), $"{file}: {from} uses the kernels directly; only {string.Join(" and ", KernelUsers)} may");
                continue;
            }
            int f = Array.IndexOf(Order, from), t = Array.IndexOf(Order, to);
            Assert.True(f >= 0, $"{file}: namespace {from} is not one of Core's layers ({string.Join(", ", Order)}); add it to the order");
            Assert.True(t < f, $"{file}: {from} refers to {to}, which comes after it in the layering {string.Join(" ← ", Order)}");
        }
    }

    [Fact]
    public void TheRootNamespaceDependsOnNoLayer()
    {
        foreach (var (file, from, to) in Edges())
            Assert.False(from == "GpuNet", $"{file}: the root namespace (shared vocabulary and errors) refers to {to}");
    }
}
