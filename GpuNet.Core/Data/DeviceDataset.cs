using GpuNet.Data;
using GpuNet.Devices;
using ILGPU;
using ILGPU.Runtime;
using Device = GpuNet.Devices.Device;

namespace GpuNet.Data;

/// <summary>
/// A dataset uploaded once to a device: features [Count, F] and targets [Count, O] — or, for R different
/// problems of the same shape trained side by side, R target blocks [R, Count, O] (one per restart).
/// </summary>
public sealed class DeviceDataset : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> features, targets;
    private bool disposed;

    // check: whether to check the values (finite, in float32 range); false only for rows read back from a dataset that
    // was checked as it was made.
    private DeviceDataset(Device device, float[] x, int featureCount, float[] y, int targetCount, int targetSets, bool classification,
        Func<int, string>? describeFeature = null, bool check = true)
    {
        Count = x.Length / featureCount;
        if (Count == 0) throw new DataFormatException("the dataset is empty: no rows to train or evaluate on");
        if (check)
        {
            RequireFinite(x, featureCount, "feature");
            RequireFinite(y, targetCount, "target");
            FloatRange.Require(x, featureCount, "feature", describeFeature ?? (c => $"feature {c + 1}"));
            FloatRange.Require(y, targetCount, "target", c => $"target {c + 1}");
        }
        FeatureCount = featureCount;
        TargetCount = targetCount;
        TargetSets = targetSets;
        IsClassification = classification;
        features = device.Allocate(x.Length);
        features.View.SubView(0, x.Length).CopyFromCPU(x);
        targets = device.Allocate(y.Length);
        targets.View.SubView(0, y.Length).CopyFromCPU(y);
    }

    /// <summary>Uploads a host dataset (its targets shared by every restart).</summary>
    /// <exception cref="DataFormatException">The dataset is empty, holds NaN or ±infinity, or values that overflow
    /// float32 arithmetic (<see cref="FloatRange"/>); the message names the column.</exception>
    public static DeviceDataset Upload(Device device, Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new DeviceDataset(device, data.Features, data.FeatureCount, data.Targets, data.TargetCount, 1,
            data.Task == TaskKind.Classification, data.DescribeFeature);
    }

    /// <summary>Uploads one feature matrix [count, featureCount] with a different target matrix [count, targetCount]
    /// for each restart: R problems of one shape trained side by side in the same launches.</summary>
    public static DeviceDataset UploadPerRestartTargets(Device device, float[] features, int featureCount,
        IReadOnlyList<float[]> targets, int targetCount, bool classification = false)
    {
        if (targets.Count == 0) throw new ArgumentException("at least one target set is needed");
        int count = features.Length / featureCount;
        var y = new float[(long)targets.Count * count * targetCount];
        for (int k = 0; k < targets.Count; k++)
        {
            if (targets[k].Length != (long)count * targetCount)
                throw new ArgumentException($"target set {k} has {targets[k].Length} values; expected {count} rows × {targetCount}");
            targets[k].CopyTo(y, (long)k * count * targetCount);
        }
        return new DeviceDataset(device, features, featureCount, y, targetCount, targets.Count, classification);
    }

    private static void RequireFinite(float[] values, int width, string what)
    {
        for (long i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new DataFormatException(
                    $"{what} {i % width} of row {i / width} is {values[i]}: GpuNet does not train on NaN or infinite values " +
                    "(drop or repair those rows; the CSV loader's drop-nonfinite option drops them and says how many)");
    }

    /// <summary>Rows.</summary>
    public int Count { get; }
    /// <summary>Features per row.</summary>
    public int FeatureCount { get; }
    /// <summary>Targets per row.</summary>
    public int TargetCount { get; }
    /// <summary>1 when every restart shares the targets; R when each restart has its own.</summary>
    public int TargetSets { get; }
    /// <summary>Targets are one-hot classes (or 0/1 for one output): accuracy is counted.</summary>
    public bool IsClassification { get; }

    internal ArrayView<float> Features => Live().features.View;
    internal ArrayView<float> Targets => Live().targets.View;

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the dataset is disposed.</summary>
    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private DeviceDataset Live()
    {
        ThrowIfDisposed();
        return this;
    }
    internal long TargetStride => TargetSets > 1 ? (long)Count * TargetCount : 0;

    /// <summary>The same rows on <paramref name="device"/>, for a replica there, with every target set or, when
    /// <paramref name="sets"/> &gt; 0, the <paramref name="sets"/> from <paramref name="firstSet"/> (the targets of the
    /// restarts a device trains): read back from <paramref name="from"/>, the device this dataset lives on (a
    /// synchronising read), and uploaded.</summary>
    internal DeviceDataset CopyTo(Device from, Device device, int firstSet = 0, int sets = 0)
    {
        from.Counters.Synced();
        float[] x = features.GetAsArray1D(), y = targets.GetAsArray1D();
        if (sets > 0 && TargetSets > 1)
        {
            long block = (long)Count * TargetCount;
            y = y.AsSpan((int)(firstSet * block), (int)(sets * block)).ToArray();
        }
        else sets = TargetSets;
        return new DeviceDataset(device, x, FeatureCount, y, TargetCount, sets, IsClassification, check: false); // checked when this one was made
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        disposed = true;
        features.Dispose();
        targets.Dispose();
    }
}
