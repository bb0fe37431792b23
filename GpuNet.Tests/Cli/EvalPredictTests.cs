using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>eval and predict against models and data that do not quite match: headers, class names, kinds, folders.</summary>
public class EvalPredictTests
{
    /// <summary>A 2-input, 3-class softmax model with known weights: outputs (x0, 0, x1), so (5, 0) is class 0,
    /// (-5, -5) class 1 and (0, 5) class 2. Stored without class names unless given.</summary>
    private static string ThreeClassModel(CliRunner cli, string name = "three.safetensors", IReadOnlyList<string>? classes = null,
        float[]? scale = null)
    {
        var spec = NetworkSpec.Dense([2, 3], Activation.Relu, Activation.Identity);
        var p = new float[spec.ParameterCount];
        long w = spec.WeightOffset(1);
        p[w + 0 * 2 + 0] = 1; // output 0 ← x0
        p[w + 2 * 2 + 1] = 1; // output 2 ← x1
        string path = cli.File(name);
        ModelFile.Save(path, spec, p, new ModelInfo
        {
            Output = OutputFunction.Softmax, Loss = LossFunction.CrossEntropy, Task = TaskKind.Classification, ClassNames = classes,
            FeatureMean = scale == null ? null : new float[scale.Length], FeatureScale = scale,
        });
        return path;
    }

    /// <summary>A 1-input, 1-output regression model y = x.</summary>
    private static string IdentityRegressionModel(CliRunner cli)
    {
        var spec = NetworkSpec.Dense([1, 1], Activation.Relu, Activation.Identity);
        var p = new float[spec.ParameterCount];
        p[spec.WeightOffset(1)] = 1;
        string path = cli.File("identity.safetensors");
        ModelFile.Save(path, spec, p, new ModelInfo { Output = OutputFunction.Identity, Loss = LossFunction.MeanSquaredError, Task = TaskKind.Regression });
        return path;
    }

    private static int[][] Confusion(JsonElement e) =>
        e.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();

    private static string[] Lines(string text) => text.Trim().Split('\n');

    [Fact]
    public void PredictNeverSkipsALineSilently()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);

        // a first line mixing numbers and text is data: its text is an error, with the way out
        string mixed = cli.Dir.WriteText("mixed.csv", "1,x\n0,0\n1,1\n");
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", mixed, "--labels", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal($"gpunet: error: {mixed}: line 1, column 2: \"x\" is not a number; if this line is a header, read the file with a header " +
            "(--header)", err.Trim());

        // a first line of text only is a header: skipped, and stderr says so in one line
        string named = cli.Dir.WriteText("named.csv", "a,b\n5,0\n0,5\n");
        (code, output, err) = cli.Run("predict", "--model", model, "--input", named, "--labels", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Equal(["label", "0", "2"], Lines(output));
        Assert.Equal($"gpunet: {named}: line 1 is read as a header, not predicted (none of its cells is a number); --header says so and silences this",
            err.Trim());
        (code, output, err) = cli.Run("predict", "--model", model, "--input", named, "--labels", "--header", "--device", "cpu");
        Assert.Equal((0, ""), (code, err));
        Assert.Equal(["label", "0", "2"], Lines(output));

        // numbers only: one output row per input row, in order
        string numbers = cli.Dir.WriteText("numbers.csv", "5,0\n0,5\n-5,-5\n");
        (code, output, err) = cli.Run("predict", "--model", model, "--input", numbers, "--labels", "--device", "cpu");
        Assert.Equal((0, ""), (code, err));
        Assert.Equal(["label", "0", "2", "1"], Lines(output));
        var probabilities = Lines(cli.Ok("predict", "--model", model, "--input", numbers, "--device", "cpu"));
        Assert.Equal(4, probabilities.Length);
        Assert.Equal("output_0,output_1,output_2", probabilities[0]);
    }

    [Fact]
    public void PredictNamesANonFiniteInputAndAsksForFiniteOnes()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);
        string input = cli.Dir.WriteText("in.csv", "5,0\nnan,1\n");
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", input, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains($"{input}: line 2, column 1: value \"nan\" is not finite: NaN and ±infinity are not allowed; predicting needs finite inputs", err);
        Assert.DoesNotContain("drop", err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EvalMatchesCsvLabelsToTheModelsClassNames()
    {
        using var cli = new CliRunner();
        var rng = new Random(3);
        // class by the sign of x; the training file names "cat" first, so the model's classes are [cat, dog]
        string Rows(int n, bool dogFirst) => string.Join("\n", Enumerable.Range(0, n).Select(i =>
        {
            double x = (rng.NextDouble() * 0.8 + 0.2) * (i % 2 == (dogFirst ? 0 : 1) ? 1 : -1), noise = rng.NextDouble();
            return $"{x.ToString(CultureInfo.InvariantCulture)},{noise.ToString(CultureInfo.InvariantCulture)},{(x > 0 ? "dog" : "cat")}";
        }));
        string train = cli.Dir.WriteText("train.csv", Rows(200, dogFirst: false) + "\n");
        string model = cli.File("pets.safetensors");
        cli.Ok("train", "--data", $"csv:{train}", "--hidden", "8", "--epochs", "20", "--lr", "0.02", "--model", model, "--device", "cpu");
        Assert.Equal(["cat", "dog"], ModelFile.Read(model).Info.ClassNames!);

        // a file naming "dog" first is still read as the model names its classes
        string dogFirst = cli.Dir.WriteText("dogfirst.csv", Rows(40, dogFirst: true) + "\n");
        var e = cli.Json("eval", "--model", model, "--data", $"csv:{dogFirst}", "--device", "cpu");
        Assert.Equal(["cat", "dog"], e.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray());
        Assert.True(e.GetProperty("accuracy").GetDouble() > 0.9, $"accuracy {e.GetProperty("accuracy").GetDouble()}");
        var c = Confusion(e);
        Assert.Equal(20, c[1].Sum()); // 20 dogs, counted in the dog row

        // a file holding dogs only is a subset, not a single-class error
        string dogs = cli.Dir.WriteText("dogs.csv", "0.5,0.1,dog\n0.7,0.9,dog\n");
        var d = cli.Json("eval", "--model", model, "--data", $"csv:{dogs}", "--device", "cpu");
        Assert.Equal([[0, 0], [0, 2]], Confusion(d));
        Assert.Equal(1.0, d.GetProperty("accuracy").GetDouble());

        // a label the model does not know names the file, the line and the model's classes
        string fish = cli.Dir.WriteText("fish.csv", "0.5,0.1,dog\n0.7,0.9,fish\n");
        var (code, _, err) = cli.Run("eval", "--model", model, "--data", $"csv:{fish}", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{fish}: line 2, column 3: label \"fish\" is not one of the 2 classes of model file '{model}' (\"cat\", \"dog\")", err);
    }

    [Fact]
    public void EvalRefusesLabelsShiftedAwayFromTheModelsIntegerClasses()
    {
        using var cli = new CliRunner();
        // trained on labels "0", "1"; the data says "1", "2": "1" must stay class 1, and "2" is unknown
        string trained = cli.Dir.WriteText("train.csv", "0,0,0\n1,1,1\n0,1,0\n1,0,1\n0,0.2,0\n1,0.8,1\n");
        string model = cli.File("binary.safetensors");
        cli.Ok("train", "--data", $"csv:{trained}", "--hidden", "none", "--epochs", "1", "--model", model, "--device", "cpu");
        string shifted = cli.Dir.WriteText("shifted.csv", "0,0,1\n1,1,2\n");
        var (code, _, err) = cli.Run("eval", "--model", model, "--data", $"csv:{shifted}", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{shifted}: line 2, column 3: label \"2\" is not one of the 2 classes of model file '{model}' (\"0\", \"1\")", err);
        // label "1" alone lands in row 1 of the model's matrix
        string ones = cli.Dir.WriteText("ones.csv", "0,0,1\n1,1,1\n");
        var c = Confusion(cli.Json("eval", "--model", model, "--data", $"csv:{ones}", "--device", "cpu"));
        Assert.Equal((0, 2), (c[0].Sum(), c[1].Sum()));
    }

    [Fact]
    public void EvalWithoutStoredClassNamesTakesIntegerLabelsAsClassIndices()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);
        Assert.Null(ModelFile.Read(model).Info.ClassNames);
        string subset = cli.Dir.WriteText("02.csv", "5,0,0\n0,5,2\n0,6,2\n");
        var e = cli.Json("eval", "--model", model, "--data", $"csv:{subset}", "--device", "cpu");
        Assert.Equal(["0", "1", "2"], e.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToArray());
        Assert.Equal([[1, 0, 0], [0, 0, 0], [0, 0, 2]], Confusion(e));
        Assert.Equal(1.0, e.GetProperty("accuracy").GetDouble());

        string outOfRange = cli.Dir.WriteText("3.csv", "5,0,0\n0,5,3\n");
        var (code, _, err) = cli.Run("eval", "--model", model, "--data", $"csv:{outOfRange}", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{outOfRange}: line 2, column 3: label \"3\" is not one of the 3 classes of model file '{model}' (\"0\", \"1\", \"2\")", err);
    }

    [Fact]
    public void EvaluateMatchesADatasetsClassNamesToTheModels()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli);
        using var predictor = Predictor.Load(TestDevices.Cpu, model);
        // the data's class 0, "02", is the model's "2" (integer names compare by value); its class 1 is the model's "0"
        var data = Dataset.Classification([0, 5, 5, 0, 0, 6], 2, [0, 1, 0], 2, ["02", "0"]);
        var r = predictor.Evaluate(data, "pairs");
        Assert.Equal(["0", "1", "2"], r.ClassNames!);
        Assert.Equal(new int[,] { { 1, 0, 0 }, { 0, 0, 0 }, { 0, 0, 2 } }, r.Confusion);
        Assert.Equal(1.0, r.Accuracy);

        // a class the model lacks is an error only where a row holds it
        var unused = Dataset.Classification([5, 0], 2, [0], 2, ["0", "07"]);
        Assert.Equal(1, predictor.Evaluate(unused).Confusion![0, 0]);
        var held = Dataset.Classification([5, 0, 0, 5], 2, [0, 1], 2, ["0", "07"]);
        var e = Assert.Throws<DataFormatException>(() => predictor.Evaluate(held, "pairs"));
        Assert.Equal($"pairs, row 2: class \"07\" is not one of the 3 classes of model file '{model}' (\"0\", \"1\", \"2\")", e.Message);
    }

    [Fact]
    public void EvalOnSomeOfTheDigitsClasses()
    {
        using var cli = new CliRunner();
        string model = cli.File("digits.safetensors");
        cli.Ok("train", "--data", "digits", "--hidden", "16", "--epochs", "3", "--batch", "64", "--lr", "0.01", "--model", model, "--device", "cpu");
        var (_, test) = BuiltIn.Digits();
        var rows = Enumerable.Range(0, test.Count).Where(r => test.Labels![r] is 3 or 7).ToArray();
        var picked = test.Subset(rows);
        string csv = cli.Dir.WriteText("37.csv", string.Join("\n", rows.Select((r, i) =>
            string.Join(",", picked.Features.Skip(i * 64).Take(64).Select(v => v.ToString("R", CultureInfo.InvariantCulture))) +
            "," + test.Labels![r])) + "\n");

        var e = cli.Json("eval", "--model", model, "--data", $"csv:{csv}", "--device", "cpu");
        Assert.Equal(rows.Length, e.GetProperty("rows").GetInt32());
        var c = Confusion(e);
        Assert.Equal(10, c.Length);
        // every row is counted under its true digit, and the predictions are the model's own
        using var predictor = Predictor.Load(TestDevices.Cpu, model);
        var predicted = predictor.PredictClasses(picked.Features, picked.Count);
        var expected = new int[10, 10];
        for (int i = 0; i < picked.Count; i++) expected[picked.Labels![i], predicted[i]]++;
        for (int t = 0; t < 10; t++)
            for (int p = 0; p < 10; p++)
                Assert.Equal(expected[t, p], c[t][p]);
        Assert.Equal(picked.Labels!.Count(l => l == 3), c[3].Sum());
        Assert.Equal((c[3][3] + c[7][7]) / (double)rows.Length, e.GetProperty("accuracy").GetDouble(), 9);
    }

    [Fact]
    public void MismatchesNameTheModelFileAndBothKinds()
    {
        using var cli = new CliRunner();
        string model = IdentityRegressionModel(cli);
        var (code, _, err) = cli.Run("eval", "--model", model, "--data", "digits", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: digits has 64 features per row; model file '{model}' takes 1 " +
            "(the model: regression, 1 output; the data: classification, 10 classes)", err.Trim());

        string csv = cli.Dir.WriteText("c.csv", "0.5,1\n0.25,0\n");
        (code, _, err) = cli.Run("eval", "--model", model, "--data", $"csv:{csv},task=classify", "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"model file '{model}' and csv:{csv},task=classify differ in kind (the model: regression, 1 output; " +
            "the data: classification, 2 classes)", err);
        // without task= the labels are read as the model reads them: regression targets
        var r = cli.Json("eval", "--model", model, "--data", $"csv:{csv}", "--device", "cpu");
        Assert.Equal((0.25 + 0.0625) / 2, r.GetProperty("mse").GetDouble(), 6);

        string wide = cli.Dir.WriteText("wide.csv", "1,2,3\n");
        (code, _, err) = cli.Run("predict", "--model", model, "--input", wide, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Equal($"gpunet: error: {wide}: line 1 has 3 columns; model file '{model}' takes 1 feature", err.Trim());
    }

    [Fact]
    public void AZeroFeatureScaleNamesTheModelFile()
    {
        using var cli = new CliRunner();
        string model = ThreeClassModel(cli, scale: [0f, 1f]);
        string csv = cli.Dir.WriteText("d.csv", "5,0,0\n0,5,2\n");
        foreach (var args in new[] { new[] { "eval", "--model", model, "--data", $"csv:{csv}" }, ["predict", "--model", model, "--input", csv] })
        {
            var (code, _, err) = cli.Run([.. args, "--device", "cpu"]);
            Assert.Equal(1, code);
            Assert.Contains($"model file '{model}'", err);
            Assert.Contains("feature_scale of feature 0 is 0", err);
        }

        // a predictor built in code names the model it was given
        var (spec, parameters, info) = ModelFile.Read(ThreeClassModel(cli, "plain.safetensors"));
        using var net = new GpuNet.Model.Network(TestDevices.Cpu, spec);
        net.SetParameters(parameters);
        net.Info = info with { FeatureMean = [0, 0], FeatureScale = [1, 0] };
        var e = Assert.Throws<ModelFormatException>(() => new Predictor(net, "my model"));
        Assert.StartsWith("my model: standardiser scale of feature 1 is 0, not finite and positive (feature_mean / feature_scale metadata)", e.Message);
    }

    [Fact]
    public void AFolderWhereAFileIsExpectedIsNamedAsSuch()
    {
        using var cli = new CliRunner();
        string folder = Path.Combine(cli.Dir.Path, "folder");
        Directory.CreateDirectory(folder);
        string model = ThreeClassModel(cli);
        string csv = cli.Dir.WriteText("d.csv", "5,0,0\n0,5,2\n");
        foreach (var args in new[]
        {
            new[] { "eval", "--model", folder, "--data", $"csv:{csv}" },
            ["predict", "--model", folder, "--input", csv],
            ["eval", "--model", model, "--data", $"csv:{folder}"],
            ["predict", "--model", model, "--input", folder],
            ["train", "--data", $"csv:{folder}", "--model", cli.File("x.safetensors")],
        })
        {
            var (code, _, err) = cli.Run([.. args, "--device", "cpu"]);
            Assert.Equal(1, code);
            Assert.Contains($"'{folder}' is a directory, not a file", err);
            Assert.DoesNotContain("denied", err);
        }
    }

    [Fact]
    public void TrainRefusesBceOnTargetsOutsideZeroToOne()
    {
        using var cli = new CliRunner();
        string model = cli.File("s.safetensors");
        var (code, _, err) = cli.Run("train", "--data", "sine", "--loss", "bce", "--output", "logistic", "--epochs", "1", "--model", model, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Matches(@"gpunet: error: the training data: target 1 of row \d+ is -[0-9.E-]+, but bce needs targets in \[0, 1\]", err);
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void TrainRefusesATestFileWithOtherColumns()
    {
        using var cli = new CliRunner();
        string train = cli.Dir.WriteText("train.csv", "a,b,y\n1,20,0\n2,10,1\n");
        string swapped = cli.Dir.WriteText("test.csv", "b,a,y\n20,1,0\n");
        var (code, _, err) = cli.Run("train", "--data", $"csv:{train},header,test={swapped}", "--model", cli.File("m.safetensors"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{swapped}: header column 1 is \"b\" but column 1 of the training file {train} is \"a\"", err);
        string wider = cli.Dir.WriteText("wider.csv", "1,2,3,9\n");
        (code, _, err) = cli.Run("train", "--data", $"csv:{train},header,test={wider}", "--model", cli.File("m.safetensors"), "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{wider}: line 1 has 4 columns; the training file {train} has 3", err);
    }

    private static double Logistic(double a) => 1 / (1 + Math.Exp(-a));

    /// <summary>A bce model's file holds the logit layer (identity last layer) and names logistic as its output: predict
    /// applies the logistic to the logits on the device, and eval reports bce of the logits. Both are checked against
    /// float64 arithmetic on the weights read back from the file.</summary>
    [Fact]
    public void PredictAndEvalOfABceModelApplyTheLogisticToItsLogits()
    {
        using var cli = new CliRunner();
        string model = cli.File("xor.safetensors");
        cli.Ok("train", "--data", "xor", "--hidden", "4", "--activation", "tanh", "--output", "logistic", "--loss", "bce",
            "--epochs", "40", "--batch", "2", "--lr", "0.05", "--model", model, "--device", "cpu");
        var (spec, parameters, info) = ModelFile.Read(model);
        Assert.Equal((OutputFunction.Logistic, LossFunction.BinaryCrossEntropy, Activation.Identity),
            (info.Output, info.Loss, spec.Layers[^1].Activation));
        var reference = new GpuNet.Tests.Networks.ReferenceNet(spec, Array.ConvertAll(parameters, v => (double)v));
        double Logit(double[] x) => reference.Forward(x).A[^1][0];

        // predict: one probability per row, the logistic of the logit (exact binary fractions, so the CSV is read exactly)
        var inputs = new[] { new[] { 0.0, 0.0 }, new[] { 0.0, 1.0 }, new[] { 1.0, 0.0 }, new[] { 1.0, 1.0 }, new[] { 0.5, 0.25 },
            new[] { -2.0, 3.0 }, new[] { 4.0, -1.5 } };
        string input = cli.Dir.WriteText("in.csv", string.Join("\n", inputs.Select(x => string.Join(",", x.Select(v => v.ToString(CultureInfo.InvariantCulture))))) + "\n");
        var lines = Lines(cli.Ok("predict", "--model", model, "--input", input, "--device", "cpu"));
        Assert.Equal("output_0", lines[0]);
        Assert.Equal(inputs.Length + 1, lines.Length);
        for (int r = 0; r < inputs.Length; r++)
        {
            double logit = Logit(inputs[r]), expected = Logistic(logit);
            double got = double.Parse(lines[r + 1], CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(got - expected) <= 1e-5, $"row {r}: predicted {got}, logistic of the logit {logit} is {expected}");
        }
        // the raw logits would not pass for probabilities: some are far from their logistic
        Assert.Contains(inputs, x => Math.Abs(Logit(x) - Logistic(Logit(x))) > 0.5);

        // eval: bce of the logits against the xor targets; no mse or mae for a model on logits, no accuracy for regression
        var e = cli.Json("eval", "--model", model, "--data", "xor", "--device", "cpu");
        double[] targets = [0, 1, 1, 0];
        double bce = inputs.Take(4).Select((x, r) =>
        {
            double p = Logistic(Logit(x));
            return -(targets[r] * Math.Log(p) + (1 - targets[r]) * Math.Log(1 - p));
        }).Average();
        Assert.True(Math.Abs(e.GetProperty("loss").GetDouble() - bce) <= 1e-5 * bce, $"eval loss {e.GetProperty("loss").GetDouble()}, bce of the logits {bce}");
        Assert.Equal(4, e.GetProperty("rows").GetInt32());
        Assert.All(new[] { "accuracy", "mse", "mae" }, name => Assert.Equal(JsonValueKind.Null, e.GetProperty(name).ValueKind));

        // --labels needs classes
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", input, "--labels", "--device", "cpu");
        Assert.Equal((2, ""), (code, output));
        Assert.Equal("gpunet: --labels needs a classification model; this one does regression", err.Trim());
    }

    /// <summary>A one-output classifier with logistic output (logit = x, classes "no" and "yes") labels a row "yes" when
    /// the probability is above 0.5: from x &gt; 0 on, not from a logit above 0.5, and not at exactly 0.5.</summary>
    [Fact]
    public void PredictLabelsOfAOneOutputLogisticClassifierThresholdTheProbabilityAtOneHalf()
    {
        using var cli = new CliRunner();
        var spec = NetworkSpec.Dense([1, 1], Activation.Relu, Activation.Identity);
        var p = new float[spec.ParameterCount];
        p[spec.WeightOffset(1)] = 1; // logit = x
        string model = cli.File("sign.safetensors");
        ModelFile.Save(model, spec, p, new ModelInfo
        {
            Output = OutputFunction.Logistic, Loss = LossFunction.BinaryCrossEntropy, Task = TaskKind.Classification, ClassNames = ["no", "yes"],
        });
        string input = cli.Dir.WriteText("x.csv", "-3\n-0.25\n0\n0.125\n0.375\n3\n");
        Assert.Equal(["label", "no", "no", "no", "yes", "yes", "yes"], Lines(cli.Ok("predict", "--model", model, "--input", input, "--labels", "--device", "cpu")));
        var probabilities = Lines(cli.Ok("predict", "--model", model, "--input", input, "--device", "cpu")).Skip(1)
            .Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        double[] x = [-3, -0.25, 0, 0.125, 0.375, 3];
        for (int r = 0; r < x.Length; r++)
            Assert.True(Math.Abs(probabilities[r] - Logistic(x[r])) <= 1e-6, $"x = {x[r]}: {probabilities[r]}, logistic {Logistic(x[r])}");
    }
}
