namespace GpuNet.Data;

/// <summary>
/// Per-feature standardisation x' = (x − Mean) / Scale, fitted on training data and applied unchanged to any data the
/// model sees later (validation, test, prediction inputs), so store <see cref="Mean"/> and <see cref="Scale"/> with the model.
/// </summary>
public sealed class Standardizer
{
    private readonly float[] _mean;
    private readonly float[] _scale;

    /// <summary>A standardiser with given statistics (e.g. read back from a model file).</summary>
    /// <exception cref="DataFormatException">The arrays differ in length or are empty, a mean is not finite,
    /// or a scale is not finite and positive.</exception>
    public Standardizer(float[] mean, float[] scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        if (mean.Length == 0 || mean.Length != scale.Length)
            throw new DataFormatException($"standardiser needs one mean and one scale per feature, got {mean.Length} means and {scale.Length} scales");
        for (int j = 0; j < mean.Length; j++)
        {
            if (!float.IsFinite(mean[j])) throw new DataFormatException($"standardiser mean of feature {j} is {mean[j]}, not finite");
            if (!(float.IsFinite(scale[j]) && scale[j] > 0))
                throw new DataFormatException($"standardiser scale of feature {j} is {scale[j]}, not finite and positive");
        }
        _mean = (float[])mean.Clone();
        _scale = (float[])scale.Clone();
    }

    /// <summary>Per-feature mean subtracted (a copy).</summary>
    public float[] Mean => (float[])_mean.Clone();

    /// <summary>Per-feature divisor (a copy): the population standard deviation, or 1 where the feature is constant.</summary>
    public float[] Scale => (float[])_scale.Clone();

    /// <summary>Features this standardiser expects.</summary>
    public int FeatureCount => _mean.Length;

    /// <summary>
    /// Mean and population standard deviation (divisor N) of each feature of <paramref name="train"/>, accumulated in
    /// float64 in two passes. A feature whose values are all equal has standard deviation 0 and keeps scale 1,
    /// so it maps to 0.
    /// </summary>
    /// <exception cref="DataFormatException">The dataset has no rows or holds a non-finite feature.</exception>
    public static Standardizer Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        int n = train.Count, f = train.FeatureCount;
        if (n == 0) throw new DataFormatException("cannot fit a standardiser on a dataset with no rows");
        var x = train.Features;
        var sum = new double[f];
        var min = new float[f];
        var max = new float[f];
        Array.Fill(min, float.PositiveInfinity);
        Array.Fill(max, float.NegativeInfinity);
        for (int i = 0; i < n; i++)
        {
            int o = i * f;
            for (int j = 0; j < f; j++)
            {
                float v = x[o + j];
                if (!float.IsFinite(v)) throw new DataFormatException($"feature {j} of row {i} is {v}; cannot standardise non-finite data");
                sum[j] += v;
                if (v < min[j]) min[j] = v;
                if (v > max[j]) max[j] = v;
            }
        }
        var mean = new double[f];
        for (int j = 0; j < f; j++) mean[j] = sum[j] / n;
        var squares = new double[f];
        for (int i = 0; i < n; i++)
        {
            int o = i * f;
            for (int j = 0; j < f; j++)
            {
                double d = x[o + j] - mean[j];
                squares[j] += d * d;
            }
        }
        var m = new float[f];
        var s = new float[f];
        for (int j = 0; j < f; j++)
        {
            m[j] = (float)mean[j];
            float std = (float)Math.Sqrt(squares[j] / n);
            s[j] = min[j] == max[j] || !(std > 0) || !float.IsFinite(std) ? 1f : std;
        }
        return new Standardizer(m, s);
    }

    /// <summary>The same examples with standardised features.</summary>
    /// <exception cref="DataFormatException">The dataset has a different number of features.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithFeatures(Apply(data.Features, data.FeatureCount));
    }

    /// <summary>Standardised copy of row-major features [rows, <paramref name="featureCount"/>].</summary>
    /// <exception cref="DataFormatException">The feature count differs from the fitted one.</exception>
    public float[] Apply(float[] features, int featureCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (featureCount != _mean.Length)
            throw new DataFormatException($"data has {featureCount} features but the standardiser was fitted on {_mean.Length}");
        if (features.Length % featureCount != 0)
            throw new ArgumentException($"{features.Length} values are not whole rows of {featureCount}");
        var r = new float[features.Length];
        for (int o = 0; o < features.Length; o += featureCount)
            for (int j = 0; j < featureCount; j++)
                r[o + j] = (float)((features[o + j] - (double)_mean[j]) / _scale[j]);
        return r;
    }
}
