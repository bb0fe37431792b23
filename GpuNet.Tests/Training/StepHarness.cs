using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Tests.Training;

/// <summary>Runs a given number of steps of one training step implementation from a seeded network, in seeded epoch
/// orders, with a step size that changes every step, and reads back everything the step writes.</summary>
internal static class StepHarness
{
    /// <summary>What a run left in the trainer's buffers.</summary>
    public sealed record Outcome(float[] Parameters, OptimizerState State, double[] Loss, double[] Hits, long[] FirstBad);

    /// <summary>A case: the network, its data and how it trains.</summary>
    public sealed record Case(NetworkSpec Spec, int Restarts, Dataset Data, LossFunction Loss, OptimizerOptions Optimizer, int Batch,
        float Rate = 0.05f, bool Shuffle = true, ulong Seed = 7);

    public static Outcome Run(Device device, Case c, int steps, Func<Network, DeviceDataset, ILoss, IOptimizer, ITrainingStep> make,
        Action<Network>? prepare = null)
    {
        using var net = new GpuNet.Model.Network(device, c.Spec, c.Restarts, c.Seed);
        prepare?.Invoke(net);
        using var data = DeviceDataset.Upload(device, c.Data);
        using var optimizer = c.Optimizer.Create(device, net.Parameters.Length);
        using var step = make(net, data, Loss.Create(device, c.Loss, c.Spec.Layers[^1].Activation), optimizer);
        step.Sums.Reset();
        int rows = data.Count;
        long done = 0;
        var rates = new float[step.MaxStepsPerRun];
        for (int epoch = 1; done < steps; epoch++)
        {
            var order = Enumerable.Range(0, rows).ToArray();
            new Rng(c.Seed + 100, (ulong)epoch).Shuffle(order);
            step.BeginEpoch(c.Shuffle ? order : null);
            for (int row = 0; row < rows && done < steps;)
            {
                long left = (rows - row + c.Batch - 1) / c.Batch;
                int n = (int)Math.Min(Math.Min(left, steps - done), rates.Length);
                for (int s = 0; s < n; s++) rates[s] = c.Rate / (1f + 0.01f * (done + s)); // a new step size every step
                step.Run(row, n, rates.AsSpan(0, n), done);
                row += n * c.Batch;
                done += n;
            }
        }
        var (loss, hits) = step.Sums.Read();
        return new Outcome(net.Parameters.ReadAll(), step.Optimizer.ReadState(), loss, hits, step.Sums.ReadFirstBadSteps());
    }

    public static Outcome Layered(Device d, Case c, int steps, Action<Network>? prepare = null) =>
        Run(d, c, steps, (n, data, loss, o) => new LayeredStep(n, data, loss, o, c.Batch), prepare);

    public static Outcome PerRestart(Device d, Case c, int steps, RestartForm? form = null, Action<Network>? prepare = null) =>
        Run(d, c, steps, (n, data, loss, o) => new PerRestartStep(n, data, loss, o, c.Batch, form), prepare);
}
