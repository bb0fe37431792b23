using GpuNet.Compute;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Scale;

/// <summary>Device specs, device sets and the choice of step for several devices: what is accepted, and what is
/// refused with which words.</summary>
public class PlacementTests
{
    [Theory]
    [InlineData("0,0", "'0,0' lists device 0 twice; each device can hold one replica")]
    [InlineData("1, 2,1", "'1, 2,1' lists device 1 twice")]
    [InlineData("0,x", "'x' in '0,x' is not a device index")]
    [InlineData("cpu:0", "'cpu:0': cpu:N opens N CPU accelerators, N from 1 to 16")]
    [InlineData("cpu:17", "N from 1 to 16")]
    [InlineData("cpu:two", "cpu:N opens N CPU accelerators")]
    [InlineData("tpu", "unknown device 'tpu': use auto, cuda, opencl, cpu, an index, a list of indices (0,1), all or cpu:N")]
    public void MalformedSpecsAreRefusedNamingThePart(string spec, string message)
    {
        Assert.Contains(message, Assert.Throws<ArgumentException>(() => DeviceSpec.Parse(spec)).Message);
    }

    [Theory]
    [InlineData("auto", true, null, 0)]
    [InlineData(" CUDA ", true, null, 0)]
    [InlineData("all", false, null, 0)]
    [InlineData("2", false, "2", 0)]
    [InlineData("3,1", false, "3,1", 0)]
    [InlineData("cpu:3", false, null, 3)]
    public void SpecsAreRead(string spec, bool kindOnly, string? indices, int cpus)
    {
        var s = DeviceSpec.Parse(spec);
        Assert.Equal((kindOnly, indices, cpus), (s.IsKindOnly, s.Indices == null ? null : string.Join(",", s.Indices), s.CpuCount));
    }

    [Fact]
    public void CpuNOpensTheCpuAcceleratorNTimes()
    {
        using var set = Gpu.OpenSet("cpu:2");
        Assert.Equal(2, set.Count);
        Assert.NotSame(set[0], set[1]);
        Assert.All(set, d => Assert.Equal(DeviceKind.Cpu, d.Info.Kind));
        Assert.StartsWith("2 × [", set.ToString());
        using var all = Gpu.OpenSet("all");
        Assert.Equal(Gpu.List().Count(d => d.Kind == Gpu.List()[Gpu.AutoIndex()].Kind), all.Count);
    }

    [Fact]
    public void AnIndexThatIsNotThereIsNamed()
    {
        var e = Assert.Throws<DeviceNotFoundException>(() => Gpu.OpenSet($"0,{Gpu.List().Count + 5}"));
        Assert.StartsWith($"device index {Gpu.List().Count + 5} does not exist. Available: ", e.Message);
    }

    /// <summary>Two CPU accelerators of different shapes pick different kernel variants, as two GPU models would: they
    /// cannot hold replicas of one network.</summary>
    [Fact]
    public void DevicesOfDifferentModelsOrTheSameOneTwiceAreRefused()
    {
        var mixed = Assert.Throws<ArgumentException>(() => new Placement([TestDevices.Cpu, TestDevices.GpuShaped])).Message;
        Assert.Contains($"(cpu: {TestDevices.Cpu.Info.Name}) and -1 (cpu: {TestDevices.GpuShaped.Info.Name}) differ", mixed);
        Assert.Contains("replicas must run on one kind and model of device", mixed);
        Assert.Contains("is given twice", Assert.Throws<ArgumentException>(() => new Placement([TestDevices.Cpu, TestDevices.Cpu])).Message);
    }

    [Fact]
    public void TheStepIsChosenByDevicesProcessesAndRestarts()
    {
        var spec = NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity);
        Assert.Equal(StepKind.Fused, TrainingSteps.Choose(StepKind.Auto, spec, 1, 8).Kind);
        Assert.Equal(StepKind.PerRestart, TrainingSteps.Choose(StepKind.Auto, spec, 4, 8).Kind); // a small network on one device
        Assert.Contains("per-restart runs on one device", Assert.Throws<ArgumentException>(() => TrainingSteps.Choose(StepKind.PerRestart, spec, 4, 8, devices: 2)).Message);
        Assert.Equal((StepKind.Spread, "4 restarts over 2 devices, no all-reduce; each device runs the fused step"), TrainingSteps.Choose(StepKind.Auto, spec, 4, 8, devices: 2));
        Assert.Equal(StepKind.Replicated, TrainingSteps.Choose(StepKind.Auto, spec, 1, 8, devices: 2).Kind);
        Assert.Equal((StepKind.Replicated, "one replica on each of 2 processes × 1 device, gradients all-reduced; each runs the fused step on its slice"),
            TrainingSteps.Choose(StepKind.Auto, spec, 4, 8, processes: 2));
        Assert.Equal(StepKind.Replicated, TrainingSteps.Choose(StepKind.Replicated, spec, 4, 8, devices: 2).Kind);
    }

    [Theory]
    [InlineData(StepKind.Auto, 1, 3, 1, 2, "a batch of 2 rows cannot be split over 3 replicas: each takes a slice of every batch; use batches of 3 rows or more")]
    [InlineData(StepKind.Replicated, 4, 2, 2, 3, "a batch of 3 rows cannot be split over 4 replicas")]
    [InlineData(StepKind.Layered, 1, 2, 1, 8, "layered runs on one device; 2 devices take replicated or spread")]
    [InlineData(StepKind.Fused, 1, 1, 2, 8, "fused runs on one device; 2 processes × 1 device take replicated or spread")]
    [InlineData(StepKind.Spread, 4, 1, 2, 8, "spread shares the restarts among the devices of one process")]
    [InlineData(StepKind.Spread, 1, 2, 1, 8, "1 restart cannot be spread over 2 devices")]
    public void StepsThatCannotRunAreRefused(StepKind kind, int restarts, int devices, int processes, int batch, string message)
    {
        var spec = NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity);
        var e = Assert.Throws<ArgumentException>(() => TrainingSteps.Choose(kind, spec, restarts, batch, devices, processes));
        Assert.Contains(message, e.Message);
    }

    /// <summary>The memory plan counts what the first device of several holds: a replica's step on slices of ⌈B/T⌉
    /// rows, or a spread step's share of ⌈R/D⌉ restarts with their own weights and moments; each is the one-device
    /// step's bytes at that size.</summary>
    [Fact]
    public void TheMemoryPlanCountsTheFirstDevicesPartOfSeveral()
    {
        var spec = NetworkSpec.Dense([6, 9, 3], Activation.Tanh, Activation.Identity);
        var options = new TrainOptions { BatchSize = 10, Optimizer = OptimizerOptions.Adam() };
        long StepBytes(MemoryPlan plan) => plan.Items.Single(i => i.What == "training step").Bytes;
        var one = MemoryPlan.For(spec, 5, options, trainRows: 40);
        Assert.Equal(FusedStep.Bytes(spec.Layout, 5, 40, 10), StepBytes(one));
        var replicated = MemoryPlan.For(spec, 1, options, 40, devices: 2, processes: 2);
        Assert.Equal(FusedStep.Bytes(spec.Layout, 1, 40, 3), StepBytes(replicated)); // ⌈10 / 4⌉ rows a slice
        var spread = MemoryPlan.For(spec, 5, options, 40, devices: 2);
        Assert.Equal(FusedStep.Bytes(spec.Layout, 3, 40, 10), StepBytes(spread)); // ⌈5 / 2⌉ restarts on the first device
        long share = spread.Items.Single(i => i.What.StartsWith("spread share", StringComparison.Ordinal)).Bytes;
        Assert.Equal(DeviceParameters.Bytes(spec.Layout, 3, false) + OptimizerOptions.Adam().MomentBytes(3L * spec.Layout.ParameterCount), share);
    }

    [Fact]
    public void ThePlacementMustStartWithTheNetworksDevice()
    {
        var devices = ScaleDevices.Take(2);
        using var net = new Network(devices[1], NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity));
        Assert.Contains("the placement's first device must be that one", Assert.Throws<ArgumentException>(() => new Trainer(net, null, new Placement(devices))).Message);
    }

    [Fact]
    public void ARankTakesTheDeviceOfItsLocalRank()
    {
        using (var cpu = Gpu.OpenForLocalRank("cpu", 3)) Assert.Equal(DeviceKind.Cpu, cpu.Info.Kind); // ranks on a host share it
        Assert.Contains("under MPI each process takes the device of its local rank", Assert.Throws<ArgumentException>(() => Gpu.OpenForLocalRank("0,1", 0)).Message);
        if (Gpu.List().All(d => d.Kind != DeviceKind.Cuda))
            Assert.StartsWith("no cuda device on this machine", Assert.Throws<DeviceNotFoundException>(() => Gpu.OpenForLocalRank("cuda", 0)).Message);
        else
            Assert.Contains("start at most one process per GPU on each host", Assert.Throws<ArgumentException>(() => Gpu.OpenForLocalRank("cuda", 99)).Message);
    }
}
