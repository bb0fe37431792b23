using GpuNet.Cli;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Scale;

/// <summary>
/// <c>gpunet train --device</c> with several devices, in-process on CPU accelerators (<c>cpu:N</c>): which step runs and
/// why, what is printed and written (a checkpoint once, not once per device), a Ctrl-C and its resume, and every bad
/// choice refused in one line before anything is written.
/// </summary>
public class DeviceOptionTests
{
    private static string[] Sine(string dir, string model, string device, params string[] extra) =>
    [
        "train", "--data", "sine", "--hidden", "8", "--activation", "tanh", "--epochs", "4", "--batch", "8", "--lr", "0.01",
        "--seed", "2", "--device", device, "--model", Path.Combine(dir, model), .. extra,
    ];

    [Fact]
    public void SeveralDevicesTrainAndSayHow()
    {
        using var cli = new CliRunner();
        string spread = cli.Ok(Sine(cli.Dir.Path, "spread.safetensors", "cpu:2", "--restarts", "3"));
        Assert.Contains("devices: 2 × [", spread);
        Assert.Contains("step: spread (3 restarts over 2 devices, no all-reduce; each device runs the fused step)", spread);
        var json = cli.Json(Sine(cli.Dir.Path, "replicated.safetensors", "cpu:2"));
        Assert.Equal("replicated", json.GetProperty("step").GetString());
        Assert.StartsWith("2 × [", json.GetProperty("device").GetString());
        // The restarts spread over two devices are trained exactly as on one with the step each device runs: the same file.
        cli.Ok(Sine(cli.Dir.Path, "one.safetensors", "cpu", "--restarts", "3", "--step", "fused"));
        Assert.Equal(File.ReadAllBytes(cli.File("one.safetensors")), File.ReadAllBytes(cli.File("spread.safetensors")));
    }

    /// <summary>Ctrl-C during epoch 3 on two replicas: one checkpoint (the devices do not each write one), and the
    /// resumed run ends with the bits of the run never interrupted.</summary>
    [Fact]
    public void CtrlCWritesOneCheckpointAndTheResumeEndsAsTheStraightRun()
    {
        using var cli = new CliRunner();
        cli.Ok(Sine(cli.Dir.Path, "straight.safetensors", "cpu:2"));
        using var cancel = new CancellationTokenSource();
        var stdout = new CancelOn("epoch 3/", cancel);
        int code = CommandLine.Run(Sine(cli.Dir.Path, "cut.safetensors", "cpu:2"), stdout, new StringWriter(), cancel.Token);
        Assert.Equal(CommandLine.Interrupted, code);
        Assert.Single(Directory.GetFiles(cli.File("cut.checkpoint")));
        Assert.False(File.Exists(cli.File("cut.safetensors")));
        cli.Ok("train", "--resume", cli.File("cut.checkpoint"));
        Assert.Equal(File.ReadAllBytes(cli.File("straight.safetensors")), File.ReadAllBytes(cli.File("cut.safetensors")));
    }

    [Theory]
    [InlineData(2, "--device: '0,0' lists device 0 twice; each device can hold one replica", "--device", "0,0")]
    [InlineData(2, "--device: 'cpu:0': cpu:N opens N CPU accelerators, N from 1 to 16", "--device", "cpu:0")]
    [InlineData(2, "--batch 1: every one of the 2 replicas takes a slice of each batch; use --batch 2 or more", "--device", "cpu:2", "--batch", "1")]
    [InlineData(2, "--step layered: layered runs on one device; 2 devices take replicated or spread", "--device", "cpu:2", "--step", "layered")]
    [InlineData(2, "--step fused: fused runs on one device; 2 devices take replicated or spread", "--device", "cpu:2", "--step", "fused")]
    [InlineData(2, "--step spread: 1 restart cannot be spread over 2 devices", "--device", "cpu:2", "--step", "spread")]
    [InlineData(1, "device index 99 does not exist. Available: ", "--device", "0,99")]
    public void BadDeviceChoicesAreRefusedBeforeAnythingIsWritten(int exit, string message, params string[] options)
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run(["train", "--data", "sine", "--epochs", "1", "--model", cli.File("m.safetensors"), .. options]);
        Assert.Equal(exit, code);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Empty(cli.Dir.Names());
    }

    /// <summary>Collects stdout and cancels once a line starts with <paramref name="prefix"/>.</summary>
    private sealed class CancelOn(string prefix, CancellationTokenSource cancel) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value != null && value.StartsWith(prefix, StringComparison.Ordinal)) cancel.Cancel();
        }
    }
}
