using GpuNet.Compute;
using GpuNet.Devices;
using GpuNet.Kernels;
using GpuNet.Model;
using GpuNet.Tests.Training;
using GpuNet.Training;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;
using Xunit.Abstractions;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Tests.Kernels;

/// <summary>The fused restarts kernels against their float64 reference (<see cref="RestartReference"/>), with the
/// buffers they must not read or write poisoned, their machine-independent guards (no local memory, no barrier in the
/// thread form), the launcher's checks and the rules of what fits.</summary>
public class RestartKernelTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, int, RestartForm> ReferenceCases()
    {
        var data = new TheoryData<string, int, int, RestartForm>();
        foreach (var d in TestDevices.Devices)
            for (int c = 0; c < 3; c++)
                foreach (var form in Enum.GetValues<RestartForm>())
                    foreach (int steps in new[] { 1, 20 })
                        data.Add(TestDevices.Name(d), c, steps, form);
        return data;
    }

    private static StepHarness.Case ReferenceCase(int i) => i switch
    {
        0 => PerRestartStepTests.SeedCase(3, 2, OptimizerOptions.Sgd()) with { Data = Xor1D(64), Rate = 0.5f },
        1 => PerRestartStepTests.CaseFor(Activation.Tanh, LossFunction.CrossEntropy, OptimizerOptions.WithMomentum(0.9f, nesterov: true), true, rows: 64, batch: 3),
        _ => PerRestartStepTests.CaseFor(Activation.Logistic, LossFunction.MeanSquaredError, OptimizerOptions.Adam() with { WeightDecay = 1e-2f }, false, rows: 64, batch: 3),
    };

    private static GpuNet.Data.Dataset Xor1D(int rows) => GpuNet.Data.Dataset.Regression(
        Enumerable.Range(0, rows).Select(i => (i % 4) / 3f).ToArray(), 1, Enumerable.Range(0, rows).Select(i => (i % 4) is 1 or 2 ? 1f : 0f).ToArray(), 1);

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void MatchesItsFloat64Reference(string device, int which, int steps, RestartForm form)
    {
        var d = TestDevices.Get(device);
        var c = ReferenceCase(which);
        var fused = StepHarness.PerRestart(d, c, steps, form);
        // The harness's first epoch: its seeded order, step sizes η/(1 + 0.01 t).
        var order = Enumerable.Range(0, c.Data.Count).ToArray();
        new Rng(c.Seed + 100, 1).Shuffle(order);
        var rates = Enumerable.Range(0, steps).Select(s => c.Rate / (1f + 0.01f * s)).ToArray();
        float[][] initial;
        using (var net = new GpuNet.Model.Network(d, c.Spec, c.Restarts, c.Seed))
            initial = Enumerable.Range(0, c.Restarts).Select(net.GetParameters).ToArray();
        var reference = RestartReference.Run(c.Spec, initial, c.Data.Features, c.Data.Targets, order, c.Batch, steps, rates, c.Loss, c.Optimizer,
            c.Data.Task == GpuNet.Data.TaskKind.Classification);
        double tolerance = Tolerances.RestartReference(steps);
        var expected = reference.Parameters.SelectMany(p => p).ToArray();
        double err = Tolerances.RelativeError(fused.Parameters, expected);
        output.WriteLine($"{device} case {which} {form}, {steps} steps: parameters {err:E2}");
        Assert.True(err <= tolerance, $"parameters: relative error {err:E2} > {tolerance:E2}");
        Tolerances.AssertClose(fused.Loss.Select(v => (float)v).ToArray(), reference.Loss, tolerance, "loss sums");
        if (c.Optimizer.Kind != OptimizerKind.Sgd)
            Tolerances.AssertClose(fused.State.First!, reference.First.SelectMany(m => m).ToArray(), tolerance, 1e-12, "first moments");
        Assert.Equal(reference.Hits, fused.Hits);
        Assert.Equal(steps, fused.State.Steps);
    }

    // ---------------------------------------------------------------- poisoned buffers, through the launcher itself

    /// <summary>Buffers of one launch of the running example (7 restarts, 8 rows of the one-input XOR, batch 2, 3 steps).</summary>
    private sealed class Launch : IDisposable
    {
        private readonly List<IDisposable> owned = [];
        public readonly NetworkLayout Layout = Networks.RunningExampleTests.Spec().Layout;
        public const int Restarts = 7, Rows = 8, Steps = 3, Batch = 2;
        public RestartArgs Args;
        public MemoryBuffer1D<float, Stride1D.Dense> Parameters, First, Second, Schedule;
        public MemoryBuffer1D<double, Stride1D.Dense> Loss;

        public Launch(Device d, float[] first, float[] second, float schedulePoison)
        {
            var spec = Networks.RunningExampleTests.Spec();
            int p = (int)spec.ParameterCount;
            var initial = Enumerable.Range(0, Restarts).SelectMany(r => spec.InitialParameters(5, r)).ToArray();
            Parameters = Own(TestData.Upload(d, initial));
            First = Own(TestData.Upload(d, first));
            Second = Own(TestData.Upload(d, second));
            var schedule = new float[3 * Steps + 5];
            Array.Fill(schedule, schedulePoison); // past the 3 × S values the launch reads
            for (int s = 0; s < Steps; s++) (schedule[s], schedule[Steps + s], schedule[2 * Steps + s]) = (0.1f, 1f - MathF.Pow(0.9f, s + 1), 1f - MathF.Pow(0.999f, s + 1));
            Schedule = Own(TestData.Upload(d, schedule));
            var mask = Own(TestData.Upload(d, spec.FlatMask()));
            var x = Own(TestData.Upload(d, Enumerable.Range(0, Rows).Select(i => (i % 4) / 3f).ToArray()));
            var y = Own(TestData.Upload(d, Enumerable.Range(0, Rows).Select(i => (i % 4) is 1 or 2 ? 1f : 0f).ToArray()));
            var order = Own(d.Allocate<int>(Rows));
            order.View.CopyFromCPU(new[] { 3, 1, 6, 0, 2, 7, 5, 4 });
            Loss = Own(d.Allocate<double>(Restarts));
            Loss.MemSetToZero();
            var hits = Own(d.Allocate<double>(Restarts));
            hits.MemSetToZero();
            var bad = Own(d.Allocate<long>(Restarts));
            bad.View.CopyFromCPU(Enumerable.Repeat(-1L, Restarts).ToArray());
            Args = new RestartArgs
            {
                Parameters = Parameters.View, Mask = mask.View, HasMask = 1, First = First.View, Second = Second.View, Features = x.View,
                Targets = y.View, Order = order.View, Shuffled = 1, Schedule = Schedule.View, LossSums = Loss.View, HitSums = hits.View,
                FirstBadSteps = bad.View, Restarts = Restarts, ParameterCount = p, DataRows = Rows, FirstRow = 0, Steps = Steps, Batch = Batch,
                Loss = RestartMath.SquaredError, Width0 = 1, Width1 = 2, Width2 = 2, Width3 = 1,
                Weights1 = (int)Layout.WeightOffset(1), Bias1 = (int)Layout.BiasOffset(1), Weights2 = (int)Layout.WeightOffset(2),
                Bias2 = (int)Layout.BiasOffset(2), Weights3 = (int)Layout.WeightOffset(3), Bias3 = (int)Layout.BiasOffset(3),
                Activation1 = RestartMath.Logistic, Activation2 = RestartMath.Logistic, Activation3 = RestartMath.Logistic,
                Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f,
            };
        }

        private T Own<T>(T b) where T : IDisposable
        {
            owned.Add(b);
            return b;
        }

        public void Dispose()
        {
            foreach (var b in owned) b.Dispose();
        }
    }

    private static float[] Filled(int n, float v)
    {
        var a = new float[n];
        Array.Fill(a, v);
        return a;
    }

    [Theory]
    [InlineData(RestartRule.Sgd)]
    [InlineData(RestartRule.Momentum)]
    [InlineData(RestartRule.Adam)]
    public void ReadsNothingItMustNotAndLeavesTheMissingEdgesMomentsAlone(RestartRule rule)
    {
        var d = TestDevices.Cpu;
        int n = Launch.Restarts * 13, missing = 6; // parameter 6 of each block is the edge 3 → 7
        foreach (var form in Enum.GetValues<RestartForm>())
        {
            float[] Run(float poison, out float[] first, out float[] second, out double[] loss)
            {
                // The moments a rule keeps start at 0 except the missing edge's; those it keeps none of are all poison.
                var m = Filled(n, RestartLimits.Moments(rule) > 0 ? 0f : poison);
                var v = Filled(n, RestartLimits.Moments(rule) > 1 ? 0f : poison);
                for (int r = 0; r < Launch.Restarts; r++) (m[r * 13 + missing], v[r * 13 + missing]) = (poison, poison);
                using var launch = new Launch(d, m, v, poison);
                d.Restarts.Train(0, rule, form, launch.Args);
                (first, second) = (TestData.Download(launch.First, n), TestData.Download(launch.Second, n));
                loss = launch.Loss.GetAsArray1D();
                return TestData.Download(launch.Parameters, n);
            }
            var clean = Run(0f, out _, out _, out var cleanLoss);
            var poisoned = Run(float.NaN, out var first, out var second, out var loss);
            Assert.Equal(clean, poisoned);
            Assert.Equal(cleanLoss, loss);
            Assert.All(loss, l => Assert.True(double.IsFinite(l) && l > 0));
            for (int r = 0; r < Launch.Restarts; r++)
            {
                Assert.Equal(0f, poisoned[r * 13 + missing]);
                Assert.True(float.IsNaN(first[r * 13 + missing]) && float.IsNaN(second[r * 13 + missing]), "the missing edge's moments were written");
            }
            if (RestartLimits.Moments(rule) < 2) Assert.All(second, v => Assert.True(float.IsNaN(v), "a moment buffer the rule keeps none of was written"));
            if (RestartLimits.Moments(rule) < 1) Assert.All(first, v => Assert.True(float.IsNaN(v)));
        }
    }

    [Fact]
    public void TheLauncherRefusesArgumentsThatDoNotFit()
    {
        var d = TestDevices.Cpu;
        using var launch = new Launch(d, new float[91], new float[91], 0f);
        var ok = launch.Args;
        var cases = new (string Expect, RestartArgs Args)[]
        {
            ("parameters hold", ok with { Restarts = 8 }),
            ("run past the 8 rows", ok with { FirstRow = 4 }),
            ("schedule", ok with { Steps = 5, Batch = 1 }),
            ("the order lists", ok with { DataRows = 9 }),
        };
        foreach (var (expect, args) in cases)
        {
            var e = Assert.Throws<ArgumentException>(() => d.Restarts.Train(0, RestartRule.Adam, RestartForm.ThreadPerRestart, args));
            Assert.Contains(expect, e.Message);
        }
        // A shape without a kernel for the rule: the 8-8-1 thread form holds SGD only.
        var none = Assert.Throws<ArgumentException>(() => d.Restarts.Train(RestartNetworks.Shapes.Length - 1, RestartRule.Adam, RestartForm.ThreadPerRestart, ok));
        Assert.Contains("no ThreadPerRestart kernel for restart shape 8-8-1 with Adam", none.Message);
    }

    // ---------------------------------------------------------------- what the compiled code may not contain

    public static TheoryData<string> RestartKernels()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in KernelCatalog.All.Where(k => k.Name.StartsWith("Restarts.", StringComparison.Ordinal))) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(RestartKernels))]
    public void ThePtxHasNoLocalMemoryAndTheThreadFormNoBarrierOrShuffle(string kernel)
    {
        var method = KernelCatalog.All.First(k => k.Name == kernel).Method;
        string ptx = KernelCatalog.CompilePtx(method, CudaArchitecture.SM_90, CudaInstructionSet.ISA_80);
        Assert.DoesNotContain(".local", ptx);
        Assert.DoesNotContain("bar.sync", ptx);
        Assert.DoesNotContain("barrier", ptx);
        if (kernel.StartsWith("Restarts.ThreadPerRestart", StringComparison.Ordinal)) Assert.DoesNotContain("shfl", ptx);
        else Assert.Contains("shfl.sync", ptx); // the warp's sums and the broadcast of lane 0's update
    }

    [Fact]
    public void EveryShapeHasAKernelForEveryRuleInSomeForm()
    {
        for (int s = 0; s < RestartNetworks.Shapes.Length; s++)
            foreach (var rule in Enum.GetValues<RestartRule>())
                Assert.True(Enum.GetValues<RestartForm>().Any(f => KernelRegistry.Restarts[s, rule, f] != null),
                    $"shape {string.Join("-", RestartNetworks.Shapes[s])} has no kernel for {rule}");
    }

    // ---------------------------------------------------------------- what fits

    [Theory]
    [InlineData("1-2-2-1", "1-2-2-1")] // the idea's running example
    [InlineData("2-2-2-1", "2-2-2-1")] // XOR, two hidden layers of 2
    [InlineData("2-2-1", "2-2-1")]     // XOR, one hidden layer of 2
    [InlineData("3-3-1", "4-4-4")]     // parity:3
    [InlineData("8-8-1", "8-8-1")]     // parity:8, boolean functions of 8 inputs
    [InlineData("3-8-1", "8-8-1")]     // the 256 boolean functions of 3 inputs
    [InlineData("4-3-4-2", "4-4-4-4")]
    public void TheIdeasNetworksFitEveryOptimizer(string network, string shape)
    {
        var w = network.Split('-').Select(int.Parse).ToArray();
        var spec = NetworkSpec.Dense(w, Activation.Tanh, Activation.Logistic);
        foreach (var rule in Enum.GetValues<RestartRule>())
        {
            var (s, why) = RestartPass.Fit(spec.Layout, rule);
            Assert.True(s >= 0, $"{network} with {rule}: {why}");
            Assert.Equal(shape, string.Join("-", RestartNetworks.Shapes[s]));
        }
    }

    [Fact]
    public void WhatDoesNotFitIsRefusedWithTheReason()
    {
        var (s, why) = RestartPass.Fit(NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity).Layout, RestartRule.Adam);
        Assert.Equal(-1, s);
        Assert.Contains("no restart shape holds a 64-64-10 network", why);
        Assert.Contains("8-8-1", why); // the shapes are listed
        var (deep, deepWhy) = RestartPass.Fit(NetworkSpec.Dense([2, 2, 2, 2, 1], Activation.Relu, Activation.Identity).Layout, RestartRule.Sgd);
        Assert.Equal(-1, deep);
        Assert.Contains("as many layers", deepWhy);
        // The 8-8-1 thread form holds SGD only; Adam runs in the warp form, which every device has.
        Assert.Equal(RestartForm.WarpPerRestart, RestartPass.ChooseForm(TestDevices.Cpu, RestartNetworks.Shapes.Length - 1, RestartRule.Adam, 1));
        Assert.Equal(RestartForm.ThreadPerRestart, RestartPass.ChooseForm(TestDevices.Cpu, RestartNetworks.Shapes.Length - 1, RestartRule.Sgd, 256));
    }
}
