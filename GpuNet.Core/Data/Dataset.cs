namespace GpuNet.Data;

/// <summary>What the targets of a dataset mean.</summary>
public enum TaskKind
{
    /// <summary>Real-valued targets.</summary>
    Regression,
    /// <summary>Class labels; targets are one-hot rows over the classes.</summary>
    Classification,
}

/// <summary>
/// Examples (xᵢ, yᵢ) on the host: features [Count, FeatureCount] and targets [Count, TargetCount],
/// both row-major float32. For classification the targets are one-hot rows and <see cref="Labels"/>
/// holds the class index of each row.
/// </summary>
public sealed class Dataset
{
    private Dataset(float[] features, int featureCount, float[] targets, int targetCount, TaskKind task,
        int[]? labels, IReadOnlyList<string>? classNames)
    {
        if (featureCount <= 0) throw new ArgumentException($"a dataset needs at least one feature, got {featureCount}");
        if (targetCount <= 0) throw new ArgumentException($"a dataset needs at least one target, got {targetCount}");
        if (features.Length % featureCount != 0)
            throw new ArgumentException($"{features.Length} feature values are not a whole number of rows of {featureCount}");
        int count = features.Length / featureCount;
        if (targets.Length != (long)count * targetCount)
            throw new ArgumentException($"{count} rows of features but {targets.Length} target values (expected {count} × {targetCount})");
        Features = features;
        FeatureCount = featureCount;
        Targets = targets;
        TargetCount = targetCount;
        Count = count;
        Task = task;
        Labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Number of examples.</summary>
    public int Count { get; }
    /// <summary>Inputs per example.</summary>
    public int FeatureCount { get; }
    /// <summary>Outputs per example (classes, for classification).</summary>
    public int TargetCount { get; }
    /// <summary>Row-major [Count, FeatureCount].</summary>
    public float[] Features { get; }
    /// <summary>Row-major [Count, TargetCount].</summary>
    public float[] Targets { get; }
    /// <summary>Regression or classification.</summary>
    public TaskKind Task { get; }
    /// <summary>Class index per row (classification only).</summary>
    public int[]? Labels { get; }
    /// <summary>Class names in class-index order (classification only; "0".."C-1" when the data had none).</summary>
    public IReadOnlyList<string>? ClassNames { get; }
    /// <summary>Names of the features in column order (e.g. a CSV file's header), or null when the data has none;
    /// errors about a feature column name it.</summary>
    public IReadOnlyList<string>? FeatureNames { get; private init; }

    /// <summary>The same examples with named features.</summary>
    /// <exception cref="ArgumentException">Not one name per feature.</exception>
    public Dataset WithFeatureNames(IReadOnlyList<string>? names) =>
        names != null && names.Count != FeatureCount
            ? throw new ArgumentException($"{names.Count} feature names for {FeatureCount} features")
            : new Dataset(Features, FeatureCount, Targets, TargetCount, Task, Labels, ClassNames) { FeatureNames = names };

    /// <summary>"feature 3 ("price")" or "feature 3": a 1-based feature column with its name when it has one.</summary>
    public string DescribeFeature(int feature) =>
        FeatureNames != null ? $"feature {feature + 1} ({CsvText.Quote(FeatureNames[feature])})" : $"feature {feature + 1}";

    /// <summary>A regression dataset from row-major arrays.</summary>
    public static Dataset Regression(float[] features, int featureCount, float[] targets, int targetCount) =>
        new(features, featureCount, targets, targetCount, TaskKind.Regression, null, null);

    /// <summary>A regression dataset from [rows, columns] arrays.</summary>
    public static Dataset Regression(float[,] features, float[,] targets) =>
        Regression(Flatten(features), features.GetLength(1), Flatten(targets), targets.GetLength(1));

    /// <summary>A classification dataset: labels in [0, classes), one-hot targets built here.</summary>
    public static Dataset Classification(float[] features, int featureCount, int[] labels, int classes,
        IReadOnlyList<string>? classNames = null)
    {
        if (classes < 2) throw new ArgumentException($"classification needs at least 2 classes, got {classes}");
        if (classNames != null && classNames.Count != classes)
            throw new ArgumentException($"{classNames.Count} class names for {classes} classes");
        var targets = new float[(long)labels.Length * classes];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentException($"label {labels[i]} of row {i} is outside [0, {classes})");
            targets[(long)i * classes + labels[i]] = 1f;
        }
        classNames ??= Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new Dataset(features, featureCount, targets, classes, TaskKind.Classification, labels, classNames);
    }

    /// <summary>The rows listed, in that order.</summary>
    public Dataset Subset(IReadOnlyList<int> rows)
    {
        var f = new float[(long)rows.Count * FeatureCount];
        var t = new float[(long)rows.Count * TargetCount];
        int[]? labels = Labels == null ? null : new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), $"row {r} is outside [0, {Count})");
            Array.Copy(Features, (long)r * FeatureCount, f, (long)i * FeatureCount, FeatureCount);
            Array.Copy(Targets, (long)r * TargetCount, t, (long)i * TargetCount, TargetCount);
            if (labels != null) labels[i] = Labels![r];
        }
        return new Dataset(f, FeatureCount, t, TargetCount, Task, labels, ClassNames) { FeatureNames = FeatureNames };
    }

    /// <summary>This dataset's rows followed by <paramref name="other"/>'s (same features, targets and task).</summary>
    public Dataset Concat(Dataset other)
    {
        if (other.FeatureCount != FeatureCount || other.TargetCount != TargetCount || other.Task != Task)
            throw new ArgumentException($"cannot append {other.Count} rows of {other.FeatureCount} features and {other.TargetCount} targets " +
                $"to rows of {FeatureCount} features and {TargetCount} targets");
        var labels = Labels != null && other.Labels != null ? [.. Labels, .. other.Labels] : (int[]?)null;
        return new Dataset([.. Features, .. other.Features], FeatureCount, [.. Targets, .. other.Targets], TargetCount, Task, labels, ClassNames)
            { FeatureNames = FeatureNames };
    }

    /// <summary>A copy with the same examples and different features (e.g. scaled); same row count.</summary>
    public Dataset WithFeatures(float[] features) =>
        features.Length != Features.Length
            ? throw new ArgumentException($"{features.Length} feature values replace {Features.Length}")
            : new Dataset(features, FeatureCount, Targets, TargetCount, Task, Labels, ClassNames) { FeatureNames = FeatureNames };

    private static float[] Flatten(float[,] a)
    {
        var r = new float[a.Length];
        Buffer.BlockCopy(a, 0, r, 0, a.Length * sizeof(float));
        return r;
    }
}
