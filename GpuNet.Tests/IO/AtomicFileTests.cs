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
        var e = Assert.Throws<FileWriteException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([1, 2]);
            throw new IOException("no space left");
        }));
        Assert.Equal($"cannot write '{path}': no space left", e.Message); // the path given, not the temporary file
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

    /// <summary>A folder that cannot be written is reported with the path the caller gave, by the write and by the
    /// checks made before a long run, and never with the name of the hidden temporary file.</summary>
    [Fact]
    public void AnUnwritableFolderIsReportedWithTheGivenPath()
    {
        using var folder = new UnwritableFolder();
        string path = folder.File("model.safetensors");
        foreach (var attempt in new Action[]
                 {
                     () => AtomicFile.Write(path, s => s.Write([1, 2, 3])),
                     () => AtomicFile.CheckWritable(path),
                     () => AtomicFile.CheckFolderWritable(Path.Combine(folder.Path, "ckpt")),
                 })
        {
            var e = Record.Exception(attempt);
            Assert.True(e is UnauthorizedAccessException or IOException, $"{folder.How}: {e}");
            Assert.StartsWith("cannot write", e!.Message);
            Assert.Contains(folder.Path, e.Message);
            Assert.DoesNotContain(".tmp-", e.Message);
            Assert.DoesNotContain(".probe-", e.Message);
            Assert.DoesNotContain("gpunet-probe", e.Message);
        }
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ChecksLeaveNothingBehind()
    {
        using var dir = new TempDir();
        AtomicFile.CheckWritable(dir.File("m.safetensors"));
        AtomicFile.CheckFolderWritable(dir.Path);
        AtomicFile.CheckFolderWritable(Path.Combine(dir.Path, "a", "b", "ckpt")); // created on the first checkpoint, not now
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void AFileWhereAFolderBelongsIsFoundByTheFolderCheck()
    {
        using var dir = new TempDir();
        string file = dir.WriteText("notes", "x");
        var e = Assert.Throws<FileWriteException>(() => AtomicFile.CheckFolderWritable(Path.Combine(file, "ckpt")));
        Assert.Equal($"cannot write into folder '{Path.Combine(file, "ckpt")}': '{file}' is a regular file, not a folder", e.Message);
        Assert.Contains($"cannot write '{dir.Path}/.': it is a folder", Assert.Throws<FileWriteException>(() => AtomicFile.CheckWritable(dir.Path + "/.")).Message);
    }

    [Fact]
    public void AMissingFolderIsNamedNotTheTemporaryFile()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "missing", "x.bin");
        var e = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, s => s.Write([1])));
        Assert.Equal($"cannot write '{path}': folder '{Path.Combine(dir.Path, "missing")}' does not exist", e.Message);
    }
}
