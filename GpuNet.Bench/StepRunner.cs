using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Bench;

/// <summary>Runs training steps of a case exactly as the trainer does (gather by a permutation, forward, loss,
/// backward, Adam update), on seeded random data of 8 batches, with nothing else in the loop.</summary>
internal sealed class StepRunner : IDisposable
{
    private readonly Device device;
    private readonly Cases.StepCase c;
    private readonly Network net;
    private readonly Engine engine;
    private readonly DeviceDataset data;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> xb, yb;
    private readonly LossFunction loss;
    private readonly OptimizerOptions adam = OptimizerOptions.Adam();
    private int next;
    private const int Batches = 8;

    public StepRunner(Device device, Cases.StepCase c, ulong seed = 1)
    {
        this.device = device;
        this.c = c;
        net = new Network(device, c.Spec, c.Restarts, seed);
        engine = new Engine(net, c.Batch);
        int rows = c.Batch * Batches, inW = c.Spec.InputSize, outW = c.Spec.OutputSize;
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
        loss = c.Classification ? LossFunction.CrossEntropy : LossFunction.MeanSquaredError;
        data = DeviceDataset.Upload(device, ds);
        var perm = Enumerable.Range(0, rows).ToArray();
        rng.Shuffle(perm);
        order = device.Accelerator.Allocate1D(perm);
        xb = device.Allocate((long)c.Batch * inW);
        yb = device.Allocate((long)c.Batch * outW);
    }

    public Network Network => net;

    /// <summary>Enqueues one step (no synchronisation).</summary>
    public void Step()
    {
        var k = device.Gather;
        int start = (next++ % Batches) * c.Batch, inW = c.Spec.InputSize, outW = c.Spec.OutputSize;
        k.Rows(data.Features, order.View, xb.View, start, c.Batch, inW);
        k.Rows(data.Targets, order.View, yb.View, start, c.Batch, outW);
        engine.Forward(xb.View, 0, c.Batch);
        engine.Loss(loss, yb.View, 0, c.Batch, c.Classification);
        engine.Backward(xb.View, 0, c.Batch);
        engine.Update(adam, 1e-3f);
    }

    public void Dispose()
    {
        engine.Dispose(); net.Dispose(); data.Dispose(); order.Dispose(); xb.Dispose(); yb.Dispose();
    }
}
