using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>Files that disagree with each other or with what reads them: header detection, test files against their
/// training file, labels against a model's classes, targets against the loss, paths that are folders.</summary>
public class CsvConsistencyTests
{
    [Theory]
    [InlineData("a,b\n1,2\n", true)]
    [InlineData("\"x, y\",b\n1,2\n", true)]
    [InlineData(",a\n1,2\n", true)] // pandas' index column has an empty header cell
    [InlineData("1,x\n0,0\n", false)]
    [InlineData("x,1\n0,0\n", false)]
    [InlineData("1,2\n3,4\n", false)]
    [InlineData("nan,2\n3,4\n", false)]
    public void FirstLineIsAHeaderOnlyWhenNoCellIsANumber(string text, bool header)
    {
        using var dir = new TempDir();
        var first = Csv.PeekFirstRecord(dir.WriteText("f.csv", text));
        Assert.Equal(header, first.LooksLikeHeader);
        Assert.Equal(2, first.Count);
        Assert.Equal(1, first.Line);
    }

    [Fact]
    public void PeekNamesTheLineOfTheFirstRecord()
    {
        using var dir = new TempDir();
        var first = Csv.PeekFirstRecord(dir.WriteText("f.csv", "\n\na,\"b\"\n1,2\n"));
        Assert.Equal(3, first.Line);
        Assert.Equal(["a", "b"], first.Cells);
    }

    [Fact]
    public void AMixedFirstLineIsDataAndItsTextIsAnErrorThatSuggestsTheHeaderOption()
    {
        using var dir = new TempDir();
        var p = dir.WriteText("in.csv", "1,x\n0,0\n1,1\n");
        var m = Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(p, hasHeader: false));
        Assert.Equal($"{p}: line 1, column 2: \"x\" is not a number; if this line is a header, read the file with a header (hasHeader)", m.Message);
        Assert.Equal(["hasHeader"], m.Settings);
        Assert.Equal(2, Csv.ReadMatrix(p, hasHeader: true).Rows);

        var l = Assert.Throws<DataFormatException>(() => Csv.Load(dir.WriteText("t.csv", "a,1,y\n0,0,1\n1,1,0\n")));
        Assert.Contains("line 1, column 1: \"a\" is not a number; if this line is a header, say so with the csv option header", l.Message);
        // past line 1 the hint would mislead: a bad cell is just a bad cell
        var later = Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(dir.WriteText("l.csv", "0,0\n1,x\n"), false));
        Assert.DoesNotContain("header", later.Message);
    }

    [Fact]
    public void NonFiniteAdviceNamesTheCsvOption()
    {
        using var dir = new TempDir();
        var feature = Assert.Throws<DataFormatException>(() => Csv.Load(dir.WriteText("f.csv", "a,y\n1,0\nnan,1\n"), new CsvOptions { HasHeader = true }));
        Assert.Contains("line 3, column 1 (\"a\"): feature \"nan\" is not finite: NaN and ±infinity are not allowed; " +
            "drop such rows with the csv option drop-nonfinite", feature.Message);
        var target = Assert.Throws<DataFormatException>(() => Csv.Load(dir.WriteText("t.csv", "1,0.5\n2,inf\n")));
        Assert.Contains("target \"inf\" is not finite", target.Message);
        Assert.Contains("the csv option drop-nonfinite", target.Message);
        var overflow = Assert.Throws<DataFormatException>(() => Csv.Load(dir.WriteText("o.csv", "1e39,0.5\n2,1.5\n")));
        Assert.Contains("outside the float32 range (±3.4e38); drop such rows with the csv option drop-nonfinite", overflow.Message);

        // predicting has no such option: the advice is to repair the row
        var p = dir.WriteText("in.csv", "0,0\n1,-inf\n");
        var input = Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(p, false));
        Assert.Equal($"{p}: line 2, column 2: value \"-inf\" is not finite: NaN and ±infinity are not allowed; " +
            "predicting needs finite inputs: repair or remove that row", input.Message);
    }

    [Fact]
    public void ATestFileWithOtherColumnsFailsOnItsLayoutNotOnAMisreadCell()
    {
        using var dir = new TempDir();
        var train = dir.WriteText("train.csv", "1,2,0\n3,4,1\n");
        var test = dir.WriteText("test.csv", "1,2,3,9\n");
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},test={test}", null));
        Assert.Equal($"{test}: line 1 has 4 columns; the training file {train} has 3 (the test file needs the same columns in the same order)", e.Message);
        var one = dir.WriteText("one.csv", "\n7\n");
        Assert.Contains($"{one}: line 2 has 1 column; the training file {train} has 3",
            Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},test={one}", null)).Message);
    }

    [Fact]
    public void ATestFileHeaderMustNameTheTrainingColumnsInOrder()
    {
        using var dir = new TempDir();
        var train = dir.WriteText("train.csv", "a,b,y\n1,20,0\n2,10,1\n");
        var swapped = dir.WriteText("swapped.csv", "b,a,y\n20,1,0\n");
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},header,test={swapped}", null));
        Assert.Equal($"{swapped}: header column 1 is \"b\" but column 1 of the training file {train} is \"a\" " +
            "(the test file needs the same columns in the same order)", e.Message);
        var renamed = dir.WriteText("renamed.csv", "a,b,label\n1,20,0\n");
        Assert.Contains("header column 3 is \"label\" but column 3 of the training file",
            Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},header,label=-1,test={renamed}", null)).Message);

        var same = dir.WriteText("same.csv", "a,b,y\n2,10,1\n");
        var d = DataSpec.Load($"csv:{train},header,test={same}", null);
        Assert.Equal([2f, 10f], d.Test!.Features);
        Assert.Equal([1], d.Test.Labels!);
    }

    [Fact]
    public void ATestLabelOutsideTheTrainingClassesNamesTheTrainingFile()
    {
        using var dir = new TempDir();
        var train = dir.WriteText("train.csv", "1,cat\n2,dog\n");
        var test = dir.WriteText("test.csv", "1,cat\n2,fish\n");
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},test={test}", null));
        Assert.Equal($"{test}: line 2, column 2: label \"fish\" is not one of the 2 classes of the training file {train} (\"cat\", \"dog\")", e.Message);
    }

    [Fact]
    public void DataForAModelReadsCsvLabelsThroughTheModelsClasses()
    {
        using var dir = new TempDir();
        string[] digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        var subset = dir.WriteText("37.csv", "0.5,7\n0.25,3\n0.5,07\n");
        var d = DataSpec.Parse($"csv:{subset}").LoadForModel(null, TaskKind.Classification, digits, "model file 'm'").Train;
        Assert.Equal(10, d.TargetCount);
        Assert.Equal([7, 3, 7], d.Labels!);
        Assert.Equal(digits, d.ClassNames!);

        var single = DataSpec.Parse($"csv:{dir.WriteText("3.csv", "0.5,3\n")}").LoadForModel(null, TaskKind.Classification, digits, "m").Train;
        Assert.Equal([3], single.Labels!);

        var unknown = dir.WriteText("12.csv", "0.5,1\n0.5,2\n");
        var e = Assert.Throws<DataFormatException>(() =>
            DataSpec.Parse($"csv:{unknown}").LoadForModel(null, TaskKind.Classification, ["0", "1"], "model file 'm.safetensors'"));
        Assert.Equal($"{unknown}: line 2, column 2: label \"2\" is not one of the 2 classes of model file 'm.safetensors' (\"0\", \"1\")", e.Message);

        // names, in an order other than the training file's first appearances
        var names = DataSpec.Parse($"csv:{dir.WriteText("n.csv", "1,dog\n2,cat\n")}").LoadForModel(null, TaskKind.Classification, ["cat", "dog"], "m").Train;
        Assert.Equal([1, 0], names.Labels!);

        // a regression model reads integer labels as targets; an explicit task= in the spec is kept
        var ints = dir.WriteText("i.csv", "1,0\n2,1\n");
        Assert.Equal(TaskKind.Regression, DataSpec.Parse($"csv:{ints}").LoadForModel(null, TaskKind.Regression, null, "m").Train.Task);
        Assert.Equal(TaskKind.Classification, DataSpec.Parse($"csv:{ints},task=classify").LoadForModel(null, TaskKind.Regression, null, "m").Train.Task);
        Assert.Equal(TaskKind.Regression, DataSpec.Parse($"csv:{ints},task=regress").LoadForModel(null, TaskKind.Classification, ["0", "1"], "m").Train.Task);

        // a test file is read through the model's classes too
        var both = DataSpec.Parse($"csv:{subset},test={dir.WriteText("t.csv", "0.5,9\n")}").LoadForModel(null, TaskKind.Classification, digits, "m");
        Assert.Equal([9], both.Test!.Labels!);
        Assert.Equal(10, both.Test.TargetCount);
    }

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
        var e = Assert.Throws<TargetRangeException>(() => OutputPolicy.CheckTargets(LossFunction.BinaryCrossEntropy, sine, "the training data"));
        int row = Array.FindIndex(sine.Targets, y => y < 0 || y > 1);
        Assert.Equal($"the training data: target 1 of row {row + 1} is {sine.Targets[row].ToString(System.Globalization.CultureInfo.InvariantCulture)}, " +
            "but bce needs targets in [0, 1] (probabilities or 0/1 labels); use mse or mae for other values", e.Message);
        OutputPolicy.CheckTargets(LossFunction.MeanSquaredError, sine, "the training data");
        OutputPolicy.CheckTargets(LossFunction.BinaryCrossEntropy, BuiltIn.Parity(3), "the training data");

        // Fit checks before it trains: the weights are untouched
        using var net = new GpuNet.Model.Network(TestDevices.Cpu, NetworkSpec.Dense([1, 4, 1], Activation.Tanh, Activation.Identity), seed: 1);
        var before = net.GetParameters();
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 1, Loss = LossFunction.BinaryCrossEntropy });
        var fit = Assert.Throws<TargetRangeException>(() => trainer.Fit(sine));
        Assert.StartsWith("the training data: target 1 of row", fit.Message);
        Assert.Equal(before, net.GetParameters());
        var valid = Assert.Throws<TargetRangeException>(() => trainer.Fit(BuiltIn.Parity(1).Subset([0]), sine));
        Assert.StartsWith("the validation data:", valid.Message);
        Assert.StartsWith("the evaluation data:", Assert.Throws<TargetRangeException>(() => trainer.Evaluate(sine)).Message);
    }
}
