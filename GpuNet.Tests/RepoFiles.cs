namespace GpuNet.Tests;

/// <summary>Files of the repository the tests run from (found by walking up from the test binaries to GpuNet.sln).</summary>
public static class RepoFiles
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "GpuNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no GpuNet.sln in {AppContext.BaseDirectory} or any folder above it");
    });

    /// <summary>The folder holding GpuNet.sln.</summary>
    public static string Root => RootPath.Value;

    /// <summary>The full path of <paramref name="relative"/> (e.g. "README.md") under <see cref="Root"/>.</summary>
    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);
}
