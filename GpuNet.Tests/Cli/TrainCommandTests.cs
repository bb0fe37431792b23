using GpuNet.Model;
using System.Globalization;
using System.Text.Json;
using GpuNet.Data;
using GpuNet.IO;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

public class TrainCommandTests
{
    private static double D(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    [Fact]
    public void DevicesListsTheCpuAcceleratorAndWhatAutoPicks()
    {
        using var cli = new CliRunner();
        var text = cli.Ok("devices");
        Assert.Contains("cpu: CPU accelerator", text);
        Assert.Contains("* ", text);
        var json = JsonDocument.Parse(cli.Ok("devices", "--json")).RootElement;
        var devices = json.GetProperty("devices").EnumerateArray().ToArray();
        Assert.Contains(devices, d => d.GetProperty("kind").GetString() == "cpu" && d.GetProperty("max_threads_per_group").GetInt32() >= 4);
        int auto = json.GetProperty("auto").GetInt32();
        Assert.InRange(auto, 0, devices.Length - 1);
    }

    [Fact]
    public void TrainsDigitsThenEvalAndPredictAgreeWithTheSummary()
    {
        using var cli = new CliRunner();
        string model = cli.File("digits.safetensors"), metrics = cli.File("m.csv"), plot = cli.File("p.png");
        var s = cli.Json("train", "--data", "digits", "--hidden", "32", "--epochs", "4", "--batch", "64", "--lr", "0.003",
            "--model", model, "--metrics", metrics, "--plot", plot, "--device", "cpu");
        Assert.True(D(s, "test_accuracy") > 0.85, $"test accuracy {D(s, "test_accuracy")}");
        Assert.Equal(4, s.GetProperty("epochs").GetInt32());
        Assert.Equal(4 * (int)Math.Ceiling(1347 / 64.0), s.GetProperty("steps").GetInt32());

        // metrics: one row per epoch with every column filled in that applies
        var lines = File.ReadAllLines(metrics);
        Assert.Equal("epoch,step_size,train_loss,train_accuracy,validation_loss,validation_accuracy,seconds,samples_per_s", lines[0]);
        Assert.Equal(5, lines.Length);
        var last = lines[4].Split(',');
        Assert.Equal("4", last[0]);
        Assert.True(double.Parse(last[2], CultureInfo.InvariantCulture) < double.Parse(lines[1].Split(',')[2], CultureInfo.InvariantCulture));
        Assert.True(double.Parse(last[7], CultureInfo.InvariantCulture) > 0);
        // plot: a real PNG of the expected size (two panels: loss and accuracy)
        var png = File.ReadAllBytes(plot);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        Assert.Equal(2 * 520, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));

        // eval on the test split gives the summary's test figures
        var e = cli.Json("eval", "--model", model, "--data", "digits", "--device", "cpu");
        Assert.Equal("test", e.GetProperty("split").GetString());
        Assert.Equal(450, e.GetProperty("rows").GetInt32());
        Assert.Equal(D(s, "test_accuracy"), D(e, "accuracy"), 9);
        Assert.Equal(D(s, "test_loss"), D(e, "loss"), 6);
        var confusion = e.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(450, confusion.Sum(r => r.Sum()));
        Assert.Equal(D(e, "accuracy"), Enumerable.Range(0, 10).Sum(i => confusion[i][i]) / 450.0, 9);
        Assert.Equal(1347, cli.Json("eval", "--model", model, "--data", "digits", "--split", "train").GetProperty("rows").GetInt32());
        Assert.Equal(1797, cli.Json("eval", "--model", model, "--data", "digits", "--split", "all").GetProperty("rows").GetInt32());
        var text = cli.Ok("eval", "--model", model, "--data", "digits");
        Assert.Contains("confusion matrix", text);

        // predict: one row per input row, in order; labels agree with the arg-max of the probabilities
        var (train, test) = BuiltIn.Digits();
        string input = cli.File("x.csv");
        Csv.Write(input, null, test.Features[..(64 * 20)], 64);
        string probs = cli.File("probs.csv"), labels = cli.File("labels.csv");
        cli.Ok("predict", "--model", model, "--input", input, "--output", probs);
        cli.Ok("predict", "--model", model, "--input", input, "--output", labels, "--labels");
        var p = File.ReadAllLines(probs);
        var l = File.ReadAllLines(labels);
        Assert.Equal(21, p.Length);
        Assert.Equal(21, l.Length);
        Assert.Equal("label", l[0]);
        int agree = 0;
        for (int r = 0; r < 20; r++)
        {
            var v = p[r + 1].Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1.0, v.Sum(), 5); // softmax probabilities
            Assert.Equal(Array.IndexOf(v, v.Max()).ToString(CultureInfo.InvariantCulture), l[r + 1]);
            if (l[r + 1] == test.Labels![r].ToString(CultureInfo.InvariantCulture)) agree++;
        }
        Assert.True(agree >= 15, $"only {agree} of 20 predictions right");
        // stdout when no --output
        Assert.Equal(21, cli.Ok("predict", "--model", model, "--input", input).Trim().Split('\n').Length);
    }

    [Fact]
    public void SameCommandAndSeedGiveTheSameModelBitForBit()
    {
        using var cli = new CliRunner();
        string[] common = ["train", "--data", "xor", "--hidden", "4", "--activation", "tanh", "--epochs", "20", "--batch", "2", "--device", "cpu"];
        cli.Ok([.. common, "--seed", "7", "--model", cli.File("a.safetensors")]);
        cli.Ok([.. common, "--seed", "7", "--model", cli.File("b.safetensors")]);
        cli.Ok([.. common, "--seed", "8", "--model", cli.File("c.safetensors")]);
        cli.Ok([.. common, "--seed", "7", "--no-shuffle", "--model", cli.File("d.safetensors")]);
        var a = File.ReadAllBytes(cli.File("a.safetensors"));
        Assert.Equal(a, File.ReadAllBytes(cli.File("b.safetensors")));
        Assert.NotEqual(a, File.ReadAllBytes(cli.File("c.safetensors")));
        Assert.NotEqual(a, File.ReadAllBytes(cli.File("d.safetensors")));
    }

    [Theory]
    [InlineData("tanh", "auto", "auto", "identity", "mse")]
    [InlineData("logistic", "logistic", "auto", "identity", "mse")]  // logistic output trained through mse: applied in the net
    [InlineData("relu", "logistic", "bce", "logistic", "bce")]
    [InlineData("identity", "identity", "mae", "identity", "mae")]
    public void OutputAndLossChoicesAreRecordedInTheModel(string activation, string output, string loss, string savedOutput, string savedLoss)
    {
        using var cli = new CliRunner();
        string model = cli.File("m.safetensors");
        cli.Ok("train", "--data", "xor", "--hidden", "3", "--activation", activation, "--output", output, "--loss", loss,
            "--epochs", "2", "--model", model);
        var (spec, _, info) = ModelFile.Read(model);
        Assert.Equal(activation, spec.Layers[0].Activation.ToString().ToLowerInvariant());
        Assert.Equal(savedOutput, info.Output.ToString().ToLowerInvariant());
        Assert.Equal(savedLoss, GpuNet.LossFunctions.Name(info.Loss));
    }

    [Theory]
    [InlineData("--output", "softmax", "--loss", "mse")]
    [InlineData("--loss", "cross-entropy", "--output", "identity")]
    [InlineData("--loss", "bce", "--output", "identity")]
    [InlineData("--lr", "0")]
    [InlineData("--lr", "-1")]
    [InlineData("--batch", "0")]
    [InlineData("--epochs", "0")]
    [InlineData("--validation", "1")]
    [InlineData("--validation", "-0.1")]
    [InlineData("--activation", "swish")]
    [InlineData("--optimizer", "rmsprop")]
    [InlineData("--lr-schedule", "linear")]
    [InlineData("--hidden", "64,x")]
    [InlineData("--early-stop", "3")]
    [InlineData("--epoch", "3")]
    [InlineData("--momentum", "1")]
    public void BadOptionsAreUsageErrorsNamingTheOption(params string[] args)
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run(["train", "--data", "xor", "--model", cli.File("m.safetensors"), .. args]);
        Assert.Equal(2, code);
        Assert.StartsWith("gpunet: ", err);
        Assert.Contains(args[0].TrimStart('-'), err);
        Assert.False(File.Exists(cli.File("m.safetensors")));
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    [Fact]
    public void ErrorsAreOneLineAndVerboseAddsTheStackTrace()
    {
        using var cli = new CliRunner();
        string missing = cli.File("absent.safetensors");
        var (code, _, err) = cli.Run("eval", "--model", missing, "--data", "xor");
        Assert.Equal(1, code);
        Assert.StartsWith("gpunet: error: ", err);
        Assert.Contains("absent.safetensors", err);
        Assert.DoesNotContain("   at ", err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        (code, _, string verbose) = cli.Run("eval", "--model", missing, "--data", "xor", "--verbose");
        Assert.Equal(1, code);
        Assert.StartsWith(err.TrimEnd(), verbose); // the same first line, then the trace
        Assert.Contains("   at GpuNet.", verbose);
    }

    [Fact]
    public void UnknownDeviceListsTheDevicesThatAreThere()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--data", "xor", "--device", "cuda", "--model", cli.File("m.safetensors"));
        if (GpuNet.Devices.Gpu.List().Any(d => d.Kind == GpuNet.Devices.DeviceKind.Cuda)) { Assert.Equal(0, code); return; }
        Assert.Equal(1, code);
        Assert.Contains("no cuda device", err);
        Assert.Contains("Available:", err);
        Assert.Contains("cpu", err);
    }

    /// <summary>The network a library run on the CLI's CPU device ends with: sine, 1-8-1 tanh, 6 epochs of batch 16, seed 0
    /// — what <see cref="OptimizersSchedulesAndWeightDecayShapeTheRun"/> asks the command for.</summary>
    private static float[] LibraryRun(GpuNet.Devices.Device device, OptimizerOptions optimizer, float lr)
    {
        var train = DataSpec.Load("sine", null).Train;
        var spec = GpuNet.Model.NetworkSpec.Dense([1, 8, 1], GpuNet.Activation.Tanh, GpuNet.Activation.Identity);
        using var net = new GpuNet.Model.Network(device, spec, restarts: 1, seed: 0);
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 6, BatchSize = 16, LearningRate = lr, Optimizer = optimizer, ShuffleSeed = 0 });
        trainer.Fit(train);
        return net.GetParameters();
    }

    [Fact]
    public void OptimizersSchedulesAndWeightDecayShapeTheRun()
    {
        using var cli = new CliRunner();
        double Final(params string[] extra)
        {
            var s = cli.Json(["train", "--data", "sine", "--hidden", "8", "--activation", "tanh", "--epochs", "6", "--batch", "16",
                "--device", "cpu", "--model", cli.File("m.safetensors"), "--metrics", cli.File("m.csv"), .. extra]);
            return D(s, "train_loss");
        }
        double[] Rates() => File.ReadAllLines(cli.File("m.csv")).Skip(1).Select(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        float[] Saved() => ModelFile.Read(cli.File("m.safetensors")).Parameters;

        double sgd = Final("--optimizer", "sgd", "--lr", "0.05");
        Assert.All(Rates(), r => Assert.Equal(0.05, r, 6));
        double momentum = Final("--optimizer", "momentum", "--lr", "0.05", "--momentum", "0.9");
        Assert.True(momentum < sgd, $"momentum {momentum} vs sgd {sgd}");
        // Each option reaches the optimizer as given: the command's network is the library's with the same options, bit for
        // bit (CPU runs are deterministic), and differs from the library's without the option.
        using var device = GpuNet.Devices.Gpu.Open("cpu"); // the command's "cpu", of the same shape
        var heavyBall = LibraryRun(device, OptimizerOptions.WithMomentum(0.9f), 0.05f);
        Assert.Equal(heavyBall, Saved());
        Final("--optimizer", "momentum", "--lr", "0.05", "--momentum", "0.9", "--nesterov");
        var nesterov = LibraryRun(device, OptimizerOptions.WithMomentum(0.9f, nesterov: true), 0.05f);
        Assert.Equal(nesterov, Saved());
        Assert.NotEqual(heavyBall, nesterov);
        Final("--optimizer", "adam", "--lr", "0.01", "--weight-decay", "0.5");
        var decayed = LibraryRun(device, OptimizerOptions.Adam() with { WeightDecay = 0.5f }, 0.01f);
        Assert.Equal(decayed, Saved());
        Assert.NotEqual(LibraryRun(device, OptimizerOptions.Adam(), 0.01f), decayed);
        foreach (var schedule in new[] { "inverse", "step", "cosine" })
        {
            Final("--optimizer", "sgd", "--lr", "0.05", "--lr-schedule", schedule);
            var rates = Rates();
            Assert.True(rates[^1] < rates[0], $"{schedule}: step size did not decrease ({rates[0]} → {rates[^1]})");
            for (int i = 1; i < rates.Length; i++) Assert.True(rates[i] <= rates[i - 1], $"{schedule}: step size rose at epoch {i + 1}");
        }
    }

    [Fact]
    public void RestartsTrainSideBySideAndKeepTheBest()
    {
        using var cli = new CliRunner();
        string model = cli.File("m.safetensors");
        var s = cli.Json("train", "--data", "xor", "--hidden", "2", "--activation", "tanh", "--epochs", "40", "--batch", "4",
            "--lr", "0.05", "--restarts", "6", "--model", model);
        var losses = s.GetProperty("restart_train_losses").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(6, losses.Length);
        int best = s.GetProperty("best_restart").GetInt32();
        Assert.Equal(losses.Min(), losses[best]);
        Assert.Equal(losses[best], D(s, "train_loss"), 9);
        Assert.True(losses.Distinct().Count() > 1, "all restarts ended alike: they did not start from different weights");
        // the written model is the best restart: evaluating it gives its loss
        var e = cli.Json("eval", "--model", model, "--data", "xor");
        Assert.Equal(losses[best], D(e, "loss"), 5);
    }

    [Fact]
    public void ValidationAndEarlyStopping()
    {
        using var cli = new CliRunner();
        // A step size on the large side: the validation loss bottoms out after a few epochs and then rises.
        var s = cli.Json("train", "--data", "digits", "--hidden", "32", "--epochs", "100", "--validation", "0.3", "--early-stop", "2",
            "--lr", "0.01", "--model", cli.File("a.safetensors"), "--metrics", cli.File("m.csv"));
        Assert.True(s.GetProperty("stopped_early").GetBoolean());
        int epochs = s.GetProperty("epochs").GetInt32();
        Assert.True(epochs < 100);
        var val = File.ReadAllLines(cli.File("m.csv")).Skip(1).Select(r => double.Parse(r.Split(',')[4], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(epochs, val.Length);
        int bestEpoch = Array.IndexOf(val, val.Min()) + 1;
        Assert.Equal(epochs, bestEpoch + 2); // stopped after 2 epochs without improvement
        // the model kept is the best epoch's: its validation loss is the lowest seen
        Assert.Equal(val.Min(), D(s, "validation_loss"), 6);
        Assert.True(D(s, "validation_accuracy") > 0.9);
    }

    [Fact]
    public void InitContinuesFromASavedModel()
    {
        using var cli = new CliRunner();
        string first = cli.File("first.safetensors"), second = cli.File("second.safetensors");
        cli.Ok("train", "--data", "sine", "--hidden", "12", "--activation", "tanh", "--epochs", "30", "--lr", "0.01", "--model", first, "--metrics", cli.File("a.csv"));
        cli.Ok("train", "--data", "sine", "--init", first, "--epochs", "1", "--lr", "0.001", "--model", second, "--metrics", cli.File("b.csv"));
        double Loss(string f, int row) => double.Parse(File.ReadAllLines(cli.File(f))[row].Split(',')[2], CultureInfo.InvariantCulture);
        Assert.True(Loss("b.csv", 1) < Loss("a.csv", 1) / 5, "the continued run did not start where the first ended");
        var (spec1, _, _) = ModelFile.Read(first);
        var (spec2, _, _) = ModelFile.Read(second);
        Assert.Equal(spec1.ToString(), spec2.ToString());
        var (code, _, err) = cli.Run("train", "--data", "digits", "--init", first, "--epochs", "1", "--model", cli.File("x.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("takes 1 input but", err);
    }

    [Fact]
    public void CsvDataWithStringLabelsHeaderTestFileAndStandardization()
    {
        using var cli = new CliRunner();
        var rng = new Random(2);
        string Rows(int n) => string.Join("\n", Enumerable.Range(0, n).Select(_ =>
        {
            double a = rng.NextDouble() * 100, b = rng.NextDouble();
            string label = a > 50 ? (b > 0.5 ? "high-right" : "high-left") : "low";
            return $"{label},{a.ToString(CultureInfo.InvariantCulture)},{b.ToString(CultureInfo.InvariantCulture)}";
        }));
        string train = cli.Dir.WriteText("train.csv", "kind,a,b\n" + Rows(300) + "\n");
        string test = cli.Dir.WriteText("test.csv", "kind,a,b\n" + Rows(100) + "\n");
        string model = cli.File("m.safetensors");
        var s = cli.Json("train", "--data", $"csv:{train},label=kind,header,task=classify,test={test}", "--standardize",
            "--hidden", "16", "--epochs", "40", "--lr", "0.01", "--model", model);
        Assert.True(D(s, "test_accuracy") > 0.9, $"test accuracy {D(s, "test_accuracy")}");
        var (_, _, info) = ModelFile.Read(model);
        Assert.Equal(3, info.ClassNames!.Count);
        Assert.NotNull(info.FeatureMean);
        Assert.True(info.FeatureMean![0] > 20, "the mean of feature a was not stored");
        // predict on raw (unscaled) features, with a header line, gives class names
        string input = cli.Dir.WriteText("in.csv", "a,b\n90,0.9\n90,0.1\n5,0.5\n");
        var lines = cli.Ok("predict", "--model", model, "--input", input, "--labels").Trim().Split('\n');
        Assert.Equal(["label", "high-right", "high-left", "low"], lines);
        // a file that still holds the label column is refused with a hint
        var (code, _, err) = cli.Run("predict", "--model", model, "--input", train);
        Assert.Equal(1, code);
        Assert.Contains("label column", err);
    }

    [Fact]
    public void RegressionFromCsvAndIdxDirectoryAndParity()
    {
        using var cli = new CliRunner();
        string csv = cli.Dir.WriteText("r.csv", string.Join("\n", Enumerable.Range(0, 64).Select(i => $"{i / 64.0},{2 * i / 64.0 + 1}")) + "\n");
        var r = cli.Json("train", "--data", $"csv:{csv},task=regress", "--hidden", "none", "--epochs", "200", "--batch", "8", "--lr", "0.05",
            "--model", cli.File("r.safetensors"));
        Assert.True(D(r, "train_loss") < 1e-3, $"linear regression mse {D(r, "train_loss")}");
        var e = cli.Json("eval", "--model", cli.File("r.safetensors"), "--data", $"csv:{csv},task=regress");
        Assert.True(D(e, "mse") < 1e-3);
        Assert.True(D(e, "mae") < 0.05);

        // a small dataset in the MNIST IDX layout: 4×4 images whose class is the brightest quadrant
        string dir = Path.Combine(cli.Dir.Path, "idx");
        Directory.CreateDirectory(dir);
        var rng = new Random(1);
        (byte[] Pixels, byte[] Labels) Make(int n)
        {
            var px = new byte[n * 16];
            var lb = new byte[n];
            for (int i = 0; i < n; i++)
            {
                int q = rng.Next(4);
                lb[i] = (byte)q;
                for (int p = 0; p < 16; p++) px[i * 16 + p] = (byte)(((p / 8) * 2 + (p % 4) / 2) == q ? 200 + rng.Next(50) : rng.Next(60));
            }
            return (px, lb);
        }
        var (trX, trY) = Make(200);
        var (teX, teY) = Make(50);
        Idx.WriteImages(Path.Combine(dir, "train-images-idx3-ubyte.gz"), trX, 200, 4, 4, gzip: true);
        Idx.WriteLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"), trY, gzip: true);
        Idx.WriteImages(Path.Combine(dir, "t10k-images-idx3-ubyte"), teX, 50, 4, 4);
        Idx.WriteLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte"), teY);
        var m = cli.Json("train", "--data", $"mnist-idx:{dir}", "--hidden", "8", "--epochs", "30", "--lr", "0.01", "--model", cli.File("i.safetensors"));
        Assert.True(D(m, "test_accuracy") > 0.95, $"IDX test accuracy {D(m, "test_accuracy")}");

        var p = cli.Json("train", "--data", "parity:3", "--hidden", "8", "--activation", "tanh", "--output", "logistic", "--loss", "bce",
            "--epochs", "300", "--batch", "8", "--lr", "0.05", "--restarts", "4", "--model", cli.File("p.safetensors"));
        Assert.True(D(p, "train_loss") < 0.05, $"parity:3 bce {D(p, "train_loss")}");
    }

    [Fact]
    public void FashionMnistIsFoundWhereTheDebianPackageInstallsItOrTheErrorSaysWhereItLooked()
    {
        using var cli = new CliRunner();
        string empty = Path.Combine(cli.Dir.Path, "nothing-here");
        Directory.CreateDirectory(empty);
        bool installed = Directory.Exists(Idx.FashionMnistSystemDirectory);
        var (code, output, err) = cli.Run("train", "--data", "fashion-mnist", "--data-dir", empty, "--epochs", "1", "--hidden", "none",
            "--batch", "60000", "--model", cli.File("f.safetensors"), "--optimizer", "sgd");
        if (installed)
        {
            Assert.True(code == 0, err);
            Assert.Contains("60000", output);
        }
        else
        {
            Assert.Equal(1, code);
            Assert.Contains(empty, err);
            Assert.Contains("/usr/share/datasets/fashion-mnist", err);
            Assert.Contains("dataset-fashion-mnist", err);
        }
    }
}
