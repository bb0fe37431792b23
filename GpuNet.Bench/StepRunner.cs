using GpuNet.Compute;
using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench;

/// <summary>Runs the trainer's own training step (<see cref="TrainingSteps.Create"/>, Adam) of a case on seeded random
/// data of <c>batches</c> batches (8 unless told), visited in a seeded order, with nothing else in the loop; on the devices and
/// processes of a placement when one is given.</summary>
internal sealed class StepRunner : IDisposable
{
    private readonly Cases.StepCase c;
    private readonly DeviceDataset data;
    private readonly IOptimizer adam;
    private readonly ITrainingStep step;
    private readonly float[] rates;
    private readonly int batches;
    private long next;

    public StepRunner(Device device, Cases.StepCase c, ulong seed = 1, StepKind kind = StepKind.Auto, int batches = 8, Placement? placement = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batches, 1);
        this.c = c;
        this.batches = batches;
        Network = new Network(device, c.Spec, c.Restarts, seed);
        int rows = c.Batch * batches, inW = c.Spec.InputSize, outW = c.Spec.OutputSize;
        var rng = new Rng(seed, 99);
        var x = new float[rows * inW];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        Dataset ds;
        if (c.Classification)
            ds = Dataset.Classification(x, inW, Enumerable.Range(0, rows).Select(_ => rng.NextInt(outW)).ToArray(), outW);
        else
        {
            for (int i = 0; i < rows; i++) x[i] = (i % 4) / 3f;
            ds = Dataset.Regression(x, inW, Enumerable.Range(0, rows).Select(i => (i % 4) is 1 or 2 ? 1f : 0f).ToArray(), outW);
        }
        data = DeviceDataset.Upload(device, ds);
        adam = OptimizerOptions.Adam().Create(device, Network.Parameters.Length);
        var loss = c.Classification ? LossFunction.CrossEntropy : LossFunction.MeanSquaredError;
        step = TrainingSteps.Create(Network, data, loss, adam, c.Batch, kind, placement, OptimizerOptions.Adam());
        rates = Enumerable.Repeat(1e-3f, step.MaxStepsPerRun).ToArray();
        var perm = Enumerable.Range(0, rows).ToArray();
        rng.Shuffle(perm);
        step.BeginEpoch(perm);
    }

    public Network Network { get; }

    /// <summary>The implementation that runs the step.</summary>
    public string StepName => step.Name;

    /// <summary>The step itself (the scale report reads a replicated step's exchange figures).</summary>
    public ITrainingStep TrainingStep => step;

    /// <summary>Enqueues one step (no synchronisation).</summary>
    public void Step() => Steps(1);

    /// <summary>Moves to the first batch of the next epoch (nothing when at one already), so that the next steps start
    /// where a run of a step that takes many steps a launch can take them all in one.</summary>
    public void ToNextEpoch() => next = (next + batches - 1) / batches * batches;

    /// <summary>Enqueues <paramref name="count"/> steps in as few runs as the step takes
    /// (<see cref="ITrainingStep.MaxStepsPerRun"/>, never past the end of the data's batches; no synchronisation).</summary>
    public void Steps(int count)
    {
        while (count > 0)
        {
            int at = (int)(next % batches);
            int n = Math.Min(Math.Min(count, step.MaxStepsPerRun), batches - at);
            step.Run(at * c.Batch, n, rates.AsSpan(0, n), next);
            next += n;
            count -= n;
        }
    }

    public void Dispose()
    {
        step.Dispose(); adam.Dispose(); data.Dispose(); Network.Dispose();
    }
}
