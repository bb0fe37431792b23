using System.Text;
using GpuNet.IO;
using Xunit;

namespace GpuNet.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void WritesNewFile()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        AtomicFile.Write(path, s => s.Write([1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], dir.Names());
    }

    [Fact]
    public void ReplacesExistingFile()
    {
        using var dir = new TempDir();
        string path = dir.File("out.bin");
        File.WriteAllBytes(path, new byte[1000]);
        AtomicFile.Write(path, s => s.Write([7]));
        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], dir.Names());
    }

    [Fact]
    public void WriterMayDisposeTheStream()
    {
        using var dir = new TempDir();
        string path = dir.File("out.csv");
        AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false));
            w.Write("a,b\n1,2\n");
        });
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(path));
        Assert.Equal(["out.csv"], dir.Names());
    }

    [Fact]
    public void FailureHalfWayLeavesOldFileAndNoTemp()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        var old = new byte[4096];
        new Random(7).NextBytes(old);
        File.WriteAllBytes(path, old);

        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[10_000]);
            s.Flush();
            throw new InvalidOperationException("disk on fire");
        }));
        Assert.Equal("disk on fire", e.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], dir.Names());
    }

    [Fact]
    public void FailureWithoutOldFileLeavesNothing()
    {
        using var dir = new TempDir();
        string path = dir.File("new.bin");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1, 2]);
            throw new IOException("no space left");
        }));
        Assert.Empty(dir.Names());
    }

    [Fact]
    public void MissingFolderThrowsAndCreatesNothing()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "missing", "x.bin");
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, s => s.Write([1])));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void RejectsPathWithoutFileName()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => AtomicFile.Write(dir.Path + Path.DirectorySeparatorChar, s => { }));
    }
}
