using System.Diagnostics;
using GpuNet.Data;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>Data paths naming a FIFO, a device or standard input are refused by name at once, never read for ever.</summary>
public class SpecialFileTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);

    private static string Fifo(TempDir dir, string name)
    {
        string path = dir.File(name);
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return path;
    }

    /// <summary>Runs <paramref name="read"/> on a worker thread and fails if it does not end quickly (a blocked open).</summary>
    private static DataFormatException RefusedQuickly(Action read)
    {
        var task = Task.Run(read);
        Assert.True(Task.WhenAny(task, Task.Delay(Quick)).Result == task, "the read did not end: it blocks on the file");
        return Assert.IsType<DataFormatException>(task.Exception?.InnerException, exactMatch: false);
    }

    [Fact]
    public void AFifoWithNoWriterIsRefusedNotWaitedOn()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDir();
        string fifo = Fifo(dir, "pipe.csv");
        var e = RefusedQuickly(() => Csv.Load(fifo));
        Assert.Equal($"{fifo}: is a pipe (FIFO), not a regular file; data is read from regular files only (save it to a file first)", e.Message);
        RefusedQuickly(() => Csv.ReadMatrix(fifo, null));
        RefusedQuickly(() => Idx.ReadLabels(fifo));
    }

    [Theory]
    [InlineData("/dev/null", "a character device")]
    [InlineData("/dev/zero", "a character device")]
    public void DevicesAreRefused(string path, string kind)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(path)) return;
        Assert.Contains($"{path}: is {kind}, not a regular file", RefusedQuickly(() => Csv.Load(path)).Message);
        Assert.Contains($"{path}: is {kind}", RefusedQuickly(() => Idx.ReadImageBytes(path)).Message);
    }

    [Fact]
    public void StandardInputIsRefusedByNameInTheCommand()
    {
        if (!OperatingSystem.IsLinux()) return;
        // The child's standard input is a pipe that stays open and empty: reading it would wait for ever.
        var (code, _, err) = GpunetProcess.Run(new Dictionary<string, string>(), TimeSpan.FromSeconds(60),
            "train", "--data", "csv:/dev/stdin", "--epochs", "1", "--device", "cpu", "--model", Path.Combine(Path.GetTempPath(), $"gpunet-{Guid.NewGuid():N}.safetensors"));
        Assert.Equal(1, code);
        Assert.StartsWith("gpunet: error: /dev/stdin: is a pipe (FIFO), not a regular file", err.Trim());
    }

    [Fact]
    public void AnIdxFolderHoldingAFifoNamesIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDir();
        Idx.WriteImages(Path.Combine(dir.Path, Idx.TrainImagesName), new byte[4], 1, 2, 2);
        string fifo = Fifo(dir, Idx.TrainLabelsName);
        Idx.WriteImages(Path.Combine(dir.Path, Idx.TestImagesName), new byte[4], 1, 2, 2);
        Idx.WriteLabels(Path.Combine(dir.Path, Idx.TestLabelsName), [0]);
        Assert.StartsWith($"{fifo}: is a pipe (FIFO)", RefusedQuickly(() => Idx.LoadDirectory(dir.Path)).Message);
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--data", $"mnist-idx:{dir.Path}", "--epochs", "1", "--device", "cpu", "--model", cli.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.StartsWith($"gpunet: error: {fifo}: is a pipe (FIFO)", err);
    }
}
