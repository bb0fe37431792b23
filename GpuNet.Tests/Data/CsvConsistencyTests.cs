using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>Files that disagree with each other or with what reads them: header detection, test files against their
/// training file, labels against a model's classes, targets against the loss, paths that are folders.</summary>
public class CsvConsistencyTests
{
    [Fact]
    public void AFolderWhereADataFileIsExpectedIsNamedAsSuch()
    {
        using var dir = new TempDir();
        string folder = dir.Path;
        string expected = $"'{folder}' is a directory, not a file";
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => Csv.Load(folder)).Message);
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(folder, false)).Message);
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => Csv.PeekFirstRecord(folder)).Message);
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{folder}", null)).Message);
        var train = dir.WriteText("train.csv", "1,0\n2,1\n");
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},test={folder}", null)).Message);
        Assert.Equal(expected, Assert.Throws<DataFormatException>(() => Idx.ReadLabels(folder)).Message);

        var notAFolder = Assert.Throws<DatasetNotFoundException>(() => Idx.LoadDirectory(train));
        Assert.Contains($"{train} is a file, not a directory", notAFolder.Message);
    }

    [Fact]
    public void AnEmptyIdxFolderListsTheFourFilesOnce()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetNotFoundException>(() => Idx.LoadDirectory(dir.Path));
        Assert.Equal($"IDX data directory {dir.Path} holds none of the files it needs: train-images-idx3-ubyte, train-labels-idx1-ubyte, " +
            "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each plain or .gz)", e.Message);
        foreach (var name in Idx.StandardFileNames)
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(e.Message, name + @"\b"));
    }

    [Fact]
    public void BceRefusesTargetsOutsideZeroToOne()
    {
        var (sine, _) = BuiltIn.Sine();
        var e = Assert.Throws<DataFormatException>(() => Trainer.CheckTargets(LossFunction.BinaryCrossEntropy, sine, "the training data"));
        int row = Array.FindIndex(sine.Targets, y => y < 0 || y > 1);
        Assert.Equal($"the training data: target 1 of row {row + 1} is {sine.Targets[row].ToString(System.Globalization.CultureInfo.InvariantCulture)}, " +
            "but bce needs targets in [0, 1] (probabilities or 0/1 labels); use mse or mae for other values (gpunet: --loss mse --output identity)", e.Message);
        Trainer.CheckTargets(LossFunction.MeanSquaredError, sine, "the training data");
        Trainer.CheckTargets(LossFunction.BinaryCrossEntropy, BuiltIn.Parity(3), "the training data");

        // Fit checks before it trains: the weights are untouched
        using var net = new GpuNet.Model.Network(TestDevices.Cpu, NetworkSpec.Dense([1, 4, 1], Activation.Tanh, Activation.Identity), seed: 1);
        var before = net.GetParameters();
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 1, Loss = LossFunction.BinaryCrossEntropy });
        var fit = Assert.Throws<DataFormatException>(() => trainer.Fit(sine));
        Assert.StartsWith("the training data: target 1 of row", fit.Message);
        Assert.Equal(before, net.GetParameters());
        var valid = Assert.Throws<DataFormatException>(() => trainer.Fit(BuiltIn.Parity(1).Subset([0]), sine));
        Assert.StartsWith("the validation data:", valid.Message);
        Assert.StartsWith("the evaluation data:", Assert.Throws<DataFormatException>(() => trainer.Evaluate(sine)).Message);
    }
}
