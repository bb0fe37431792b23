using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class DataSpecTests
{
    [Theory]
    [InlineData("digits", DataSpecKind.Digits)]
    [InlineData(" Fashion-MNIST ", DataSpecKind.FashionMnist)]
    [InlineData("xor", DataSpecKind.Xor)]
    [InlineData("SINE", DataSpecKind.Sine)]
    public void KeywordsParse(string spec, DataSpecKind kind) => Assert.Equal(kind, DataSpec.Parse(spec).Kind);

    [Fact]
    public void ArgumentsParse()
    {
        Assert.Equal(new DataSpec { Kind = DataSpecKind.MnistIdx, Path = "/data/mnist" }, DataSpec.Parse("mnist-idx:/data/mnist"));
        Assert.Equal(new DataSpec { Kind = DataSpecKind.Parity, ParityBits = 20 }, DataSpec.Parse("parity:20"));
        var csv = DataSpec.Parse("csv:C:\\data\\train.csv, label=species ,header,TASK=Classify,test=t.csv,drop-nonfinite");
        Assert.Equal(new DataSpec
        {
            Kind = DataSpecKind.Csv, Path = "C:\\data\\train.csv", LabelColumn = "species", HasHeader = true,
            Task = CsvTask.Classify, TestPath = "t.csv", DropNonFinite = true,
        }, csv);
        Assert.Equal("csv:C:\\data\\train.csv,label=species,header,task=classify,test=t.csv,drop-nonfinite", csv.ToString());
        Assert.Equal(csv, DataSpec.Parse(csv.ToString()));
        Assert.Equal(new DataSpec { Kind = DataSpecKind.Csv, Path = "a.csv" }, DataSpec.Parse("csv:a.csv"));
    }

    [Theory]
    [InlineData("", "empty data spec")]
    [InlineData("mnist", "unknown data spec \"mnist\"")]
    [InlineData("digits:3", "digits takes no argument")]
    [InlineData("parity", "parity:N needs a whole number N from 1 to 20")]
    [InlineData("parity:0", "got \"0\"")]
    [InlineData("parity:21", "got \"21\"")]
    [InlineData("parity:-3", "got \"-3\"")]
    [InlineData("parity:x", "got \"x\"")]
    [InlineData("mnist-idx:", "mnist-idx needs a directory")]
    [InlineData("csv:", "csv needs a file")]
    [InlineData("csv:a.csv,lable=2", "unknown or malformed csv option \"lable=2\"")]
    [InlineData("csv:a.csv,header=yes", "unknown or malformed csv option \"header=yes\"")]
    [InlineData("csv:a.csv,task=cluster", "task=cluster is not classify, regress or auto")]
    [InlineData("csv:a.csv,header,header", "csv option header given twice")]
    [InlineData("csv:a.csv,label=", "unknown or malformed csv option \"label=\"")]
    public void BadSpecsListAcceptedForms(string spec, string problem)
    {
        var e = Assert.Throws<GpuNetException>(() => DataSpec.Parse(spec));
        Assert.Contains(problem, e.Message);
        Assert.Contains(DataSpec.AcceptedForms, e.Message);
        foreach (var form in new[] { "digits", "fashion-mnist", "mnist-idx:DIR", "csv:PATH", "label=COL", "header", "test=PATH", "xor", "parity:N", "sine" })
            Assert.Contains(form, e.Message);
    }

    [Fact]
    public void LoadsBuiltIns()
    {
        var xor = DataSpec.Load("xor", null);
        Assert.Equal(4, xor.Train.Count);
        Assert.Null(xor.Test);
        Assert.Contains("4 training rows, no test set, 2 features, 1 regression target", xor.Description);
        var parity = DataSpec.Load("parity:3", null);
        Assert.Equal((8, 3), (parity.Train.Count, parity.Train.FeatureCount));
        var sine = DataSpec.Load("sine", null);
        Assert.Equal((256, 100), (sine.Train.Count, sine.Test!.Count));
        var digits = DataSpec.Load("digits", null);
        Assert.Equal("digits (8×8 handwritten digits, embedded): 1347 training / 450 test rows, 64 features, 10 classes", digits.Description);
    }

    [Fact]
    public void LoadsMnistIdxDirectory()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File(Idx.TrainImagesName + ".gz"), new byte[4 * 4], 4, 2, 2, gzip: true);
        Idx.WriteLabels(dir.File(Idx.TrainLabelsName + ".gz"), [0, 1, 2, 9], gzip: true);
        Idx.WriteImages(dir.File(Idx.TestImagesName), new byte[2 * 4], 2, 2, 2);
        Idx.WriteLabels(dir.File(Idx.TestLabelsName), [3, 4]);
        var d = DataSpec.Load("mnist-idx:" + dir.Path, null);
        Assert.Equal((4, 2, 4, 10), (d.Train.Count, d.Test!.Count, d.Train.FeatureCount, d.Train.TargetCount));
        Assert.Contains(dir.Path, d.Description);
    }

    [Fact]
    public void CsvTestFileUsesTrainingClasses()
    {
        using var dir = new TempDir();
        var train = dir.WriteText("train.csv", "f,kind\n1,cat\n2,dog\n3,bird\n");
        var test = dir.WriteText("test.csv", "f,kind\n4,bird\n5,cat\n");
        var d = DataSpec.Load($"csv:{train},header,label=kind,test={test}", null);
        Assert.Equal(["cat", "dog", "bird"], d.Test!.ClassNames!);
        Assert.Equal([2, 0], d.Test.Labels!);
        Assert.Equal(3, d.Test.TargetCount);
        Assert.Contains("3 training / 2 test rows, 1 feature, 3 classes", d.Description);

        var unknown = dir.WriteText("unknown.csv", "f,kind\n4,fish\n");
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},header,test={unknown}", null));
        Assert.Contains($"{unknown}: line 2, column 2 (\"kind\"): label \"fish\" is not one of the 3 classes of the training file {train}", e.Message);

        var wide = dir.WriteText("wide.csv", "f,g,kind\n4,5,cat\n");
        var w = Assert.Throws<DataFormatException>(() => DataSpec.Load($"csv:{train},header,test={wide}", null));
        Assert.Contains($"{wide}: line 1 has 3 columns; the training file {train} has 2", w.Message);

        var regTrain = dir.WriteText("rt.csv", "1,0.5\n2,1.5\n");
        var regTest = dir.WriteText("rs.csv", "1,1\n2,1\n");
        var r = DataSpec.Load($"csv:{regTrain},test={regTest},drop-nonfinite", null);
        Assert.Equal(TaskKind.Regression, r.Test!.Task);
    }
}
