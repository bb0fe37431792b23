using GpuNet.IO;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.IO;

/// <summary>Only regular files are read or replaced: a FIFO with no writer would block an open for ever, a pipe cannot
/// seek, a device has no size to check a header against, and renaming a new file over a device would replace it.</summary>
public class FileKindTests
{
    [Fact]
    public void TellsTheKindsApart()
    {
        using var dir = new TempDir();
        Assert.Equal(FileKind.Regular, FileKinds.Of(dir.WriteText("a.txt", "x")));
        Assert.Equal(FileKind.Directory, FileKinds.Of(dir.Path));
        Assert.Equal(FileKind.Pipe, FileKinds.Of(SpecialFiles.Fifo(dir.File("fifo"))));
        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of("/dev/null"));
        Assert.Equal(FileKind.Missing, FileKinds.Of(dir.File("none")));
        Assert.Equal(FileKind.Missing, FileKinds.Of(Path.Combine(dir.File("a.txt"), "below-a-file")));
    }

    /// <summary>Each reader, given a FIFO nobody writes to or a seekable device of no length, refuses it by name and
    /// returns at once.</summary>
    [Fact]
    public void ReadersRefuseFifosAndDevicesByNameWithoutHanging()
    {
        using var dir = new TempDir();
        string fifo = SpecialFiles.Fifo(dir.File("model.safetensors"));
        var readers = new (string What, Action<string> Read)[]
        {
            ("safetensors file", p => SafeTensors.Read(p)),
            ("model file", p => ModelFile.Read(p)),
            ("checkpoint", p => Checkpoint.Read(p)),
        };
        foreach (var path in new[] { fifo, "/dev/zero" })
            foreach (var (what, read) in readers)
            {
                var e = SpecialFiles.WithoutHanging(() => Record.Exception(() => read(path)));
                var refused = Assert.IsType<GpuNetException>(e);
                Assert.Contains($"{what} '{path}' is a {(path == fifo ? "pipe (FIFO)" : "character device")}, not a regular file", refused.Message);
            }
        var folder = Assert.IsType<GpuNetException>(Record.Exception(() => ModelFile.Read(dir.Path)));
        Assert.Contains($"model file '{dir.Path}' is a folder, not a regular file", folder.Message);
        var missing = Assert.IsType<FileNotFoundException>(Record.Exception(() => ModelFile.Read(dir.File("none.safetensors"))));
        Assert.Equal($"model file '{dir.File("none.safetensors")}' does not exist", missing.Message);
    }

    /// <summary>The command refuses a model file that is a FIFO before it reads any data (train's --init, gradcheck's and
    /// export's --model), in one line and at once.</summary>
    [Fact]
    public void CommandsRefuseAFifoModelBeforeReadingData()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var cli = new GpuNet.Tests.Cli.CliRunner();
        string data = cli.Dir.WriteText("xor.csv", "0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
        string fifo = SpecialFiles.Fifo(cli.File("init.safetensors"));
        foreach (var args in new[]
                 {
                     new[] { "train", "--init", fifo, "--data", $"csv:{data}", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors") },
                     ["gradcheck", "--model", fifo, "--data", $"csv:{data}", "--device", "cpu"],
                     ["export", "--model", fifo, "--onnx", cli.File("m.onnx")],
                 })
        {
            var (code, output, err) = SpecialFiles.WithoutHanging(() => cli.Run(args));
            Assert.Equal(1, code);
            Assert.Equal($"gpunet: error: model file '{fifo}' is a pipe (FIFO), not a regular file; GpuNet reads a model file from a file on disk (save it to one first)",
                err.Trim());
            Assert.DoesNotContain("data:", output);
        }
        Assert.False(File.Exists(cli.File("m.safetensors")) || File.Exists(cli.File("m.onnx")));
    }

    [Fact]
    public void ResumeRefusesAFifoByName()
    {
        using var dir = new TempDir();
        string fifo = SpecialFiles.Fifo(dir.File("ck"));
        var e = SpecialFiles.WithoutHanging(() => Record.Exception(() => CheckpointFolder.Resolve(fifo)));
        Assert.Equal($"'{fifo}' is a pipe (FIFO), not a checkpoint folder or file", Assert.IsType<GpuNetException>(e).Message);
    }

    /// <summary>A write to a FIFO (or a device) is refused before anything is created: the rename that makes writes
    /// atomic would put a regular file in its place.</summary>
    [Fact]
    public void AtomicWritesRefuseToReplaceAFifo()
    {
        using var dir = new TempDir();
        string fifo = SpecialFiles.Fifo(dir.File("out.csv"));
        var e = Assert.Throws<FileWriteException>(() => AtomicFile.Write(fifo, s => s.Write([1])));
        Assert.Equal($"cannot write '{fifo}': it is a pipe (FIFO), not a regular file; GpuNet writes a new file and renames it into place, " +
                     "which would replace it", e.Message);
        Assert.Contains("is a pipe (FIFO)", Assert.Throws<FileWriteException>(() => AtomicFile.CheckWritable(fifo)).Message);
        Assert.Equal(FileKind.Pipe, FileKinds.Of(fifo));
        Assert.Equal(["out.csv"], dir.Names());
    }
}
