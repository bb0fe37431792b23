using System.Globalization;

namespace GpuNet.Data;

/// <summary>Small datasets that need no files: the 8 × 8 handwritten digits (embedded) and synthetic problems.</summary>
public static class BuiltIn
{
    /// <summary>Share of the digits held out as the test set.</summary>
    public const double DigitsTestFraction = 0.25;
    /// <summary>Seed of the digits train/test split.</summary>
    public const ulong DigitsSeed = 0;
    /// <summary>Largest <c>parity:N</c> (2^20 rows).</summary>
    public const int MaxParityBits = 20;
    /// <summary>Evenly spaced training points of <see cref="Sine"/>.</summary>
    public const int SineTrainCount = 256;
    /// <summary>Random test points of <see cref="Sine"/>.</summary>
    public const int SineTestCount = 100;
    /// <summary>Seed of the <see cref="Sine"/> test points.</summary>
    public const ulong SineSeed = 0;

    private const string DigitsResource = "GpuNet.Data.BuiltIn.digits.csv.gz";

    /// <summary>
    /// All 1797 handwritten digits in file order: 64 features (8 × 8 pixel counts 0..16 divided by 16, so in [0, 1]),
    /// 10 classes "0".."9". Data: scikit-learn's copy of the UCI "Optical Recognition of Handwritten Digits" test set
    /// (E. Alpaydin, C. Kaynak), embedded in this assembly; see Data/BuiltIn/digits.LICENSE.txt.
    /// </summary>
    public static Dataset DigitsAll()
    {
        using var stream = typeof(BuiltIn).Assembly.GetManifestResourceStream(DigitsResource)
            ?? throw new InvalidOperationException($"embedded resource {DigitsResource} is missing from {typeof(BuiltIn).Assembly.FullName}");
        using var text = CsvReader.OpenText(stream);
        var all = CsvReader.Load(text, "digits.csv.gz (embedded)", new CsvOptions { Task = CsvTask.Classify, HasHeader = false }).Dataset;
        var scaled = new float[all.Features.Length];
        for (int i = 0; i < scaled.Length; i++) scaled[i] = all.Features[i] / 16f;
        return all.WithFeatures(scaled);
    }

    /// <summary>
    /// The digits split 75 % / 25 %: <see cref="Split.TrainValidation"/> with fraction <see cref="DigitsTestFraction"/>
    /// and seed <see cref="DigitsSeed"/> (a SplitMix64-driven shuffle), giving 1347 training and 450 test rows,
    /// the same on every run and platform.
    /// </summary>
    public static (Dataset Train, Dataset Test) Digits()
    {
        var (train, test) = Split.TrainValidation(DigitsAll(), DigitsTestFraction, DigitsSeed);
        return (train, test);
    }

    /// <summary>
    /// XOR as regression: the 4 inputs (0,0), (0,1), (1,0), (1,1) with one target x₀ XOR x₁ ∈ {0, 1}.
    /// A single output suits a sigmoid output with squared error or binary cross-entropy.
    /// </summary>
    public static Dataset Xor() => Parity(2);

    /// <summary>
    /// N-bit parity as regression: all 2^N inputs of 0/1 features in counting order (row i holds the bits of i,
    /// most significant first), one target 1 when the number of ones is odd, else 0.
    /// </summary>
    /// <exception cref="GpuNetException">N is outside 1..<see cref="MaxParityBits"/>.</exception>
    public static Dataset Parity(int bits)
    {
        if (bits < 1 || bits > MaxParityBits)
            throw new GpuNetException($"parity needs 1 to {MaxParityBits} bits, got {bits.ToString(CultureInfo.InvariantCulture)}");
        int rows = 1 << bits;
        var x = new float[rows * bits];
        var y = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < bits; j++) x[i * bits + j] = (i >> (bits - 1 - j)) & 1;
            y[i] = System.Numerics.BitOperations.PopCount((uint)i) & 1;
        }
        return Dataset.Regression(x, bits, y, 1);
    }

    /// <summary>
    /// y = sin(x) on [−π, π], one feature and one target: <see cref="SineTrainCount"/> evenly spaced training points
    /// from −π to π inclusive, and <see cref="SineTestCount"/> test points drawn uniformly from [−π, π) by
    /// <see cref="SplitMix64"/> seeded with <see cref="SineSeed"/>.
    /// </summary>
    public static (Dataset Train, Dataset Test) Sine()
    {
        var trainX = new float[SineTrainCount];
        var trainY = new float[SineTrainCount];
        for (int i = 0; i < SineTrainCount; i++)
        {
            double x = -Math.PI + 2 * Math.PI * i / (SineTrainCount - 1);
            trainX[i] = (float)x;
            trainY[i] = (float)Math.Sin(trainX[i]);
        }
        var rng = new SplitMix64(SineSeed);
        var testX = new float[SineTestCount];
        var testY = new float[SineTestCount];
        for (int i = 0; i < SineTestCount; i++)
        {
            double x = -Math.PI + 2 * Math.PI * rng.NextDouble();
            testX[i] = (float)x;
            testY[i] = (float)Math.Sin(testX[i]);
        }
        return (Dataset.Regression(trainX, 1, trainY, 1), Dataset.Regression(testX, 1, testY, 1));
    }
}
