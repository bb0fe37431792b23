using GpuNet.Data;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>One header rule for every reader, and files separated by semicolons, tabs or pipes.</summary>
public class CsvHeaderAndSeparatorTests
{
    private const string Named = "width,height,kind\n1,2,a\n3,4,b\n5,6,a\n2,1,b\n";

    [Fact]
    public void LoadDetectsAHeaderByTheRulePredictUses()
    {
        using var dir = new TempDir();
        string p = dir.WriteText("named.csv", Named);
        Assert.True(Csv.PeekFirstRecord(p).LooksLikeHeader);
        var r = Csv.Load(p);
        Assert.True(r.HeaderDetected);
        Assert.Equal(["width", "height", "kind"], r.Header!);
        Assert.Equal(["width", "height"], r.Dataset.FeatureNames!);
        Assert.Equal(4, r.Dataset.Count);

        // told there is none, the first line is data and its text an error with the way out
        var e = Assert.Throws<DataFormatException>(() => Csv.Load(p, new CsvOptions { HasHeader = false }));
        Assert.Contains("line 1, column 1: \"width\" is not a number; if this line is a header, say so with the csv option header", e.Message);
        // a line mixing numbers and text is data, for Load as for predict's reader
        string mixed = dir.WriteText("mixed.csv", "1,x,a\n1,2,b\n");
        Assert.False(Csv.PeekFirstRecord(mixed).LooksLikeHeader);
        Assert.Contains("\"x\" is not a number", Assert.Throws<DataFormatException>(() => Csv.Load(mixed)).Message);
        Assert.Contains("\"x\" is not a number", Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(mixed, null)).Message);
        // a numeric first line told to be a header is one
        Assert.Equal(["1", "2", "0"], Csv.Load(dir.WriteText("numeric.csv", "1,2,0\n3,4,1\n5,6,0\n"), new CsvOptions { HasHeader = true }).Header!);
        Assert.False(Csv.Load(dir.WriteText("plain.csv", "1,2,0\n3,4,1\n")).HeaderDetected);
    }

    [Fact]
    public void TrainAcceptsTheHeaderPredictAccepts()
    {
        using var cli = new CliRunner();
        string train = cli.Dir.WriteText("train.csv", Named);
        string model = cli.File("m.safetensors");
        string log = cli.Ok("train", "--data", $"csv:{train}", "--hidden", "none", "--epochs", "1", "--model", model, "--device", "cpu");
        Assert.Contains($"data: csv ({train}; the first line of {train} read as a header (none of its cells is a number; " +
                        "the csv option header says so)): 4 training rows", log);
        string input = cli.Dir.WriteText("in.csv", "width,height\n1,2\n");
        var (code, output, err) = cli.Run("predict", "--model", model, "--input", input, "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Contains("read as a header", err);
        Assert.Equal(2, output.Trim().Split('\n').Length);

        // predict reads other separators with --sep, and says so when the file needs it
        string semi = cli.Dir.WriteText("semi.csv", "width;height\n1;2\n3;4\n");
        (code, _, err) = cli.Run("predict", "--model", model, "--input", semi, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"{semi}: line 1 has 1 column; model file '{model}' takes 2 features; the line looks separated by semicolons: add --sep semicolon", err);
        (code, output, _) = cli.Run("predict", "--model", model, "--input", semi, "--sep", "semicolon", "--device", "cpu");
        Assert.Equal(0, code);
        Assert.Equal(3, output.Trim().Split('\n').Length);
        Assert.Equal(2, cli.Run("predict", "--model", model, "--input", semi, "--sep", "colon", "--device", "cpu").Code);

        // a test= file of a training file without a header has its own first line judged by the same rule
        string plain = cli.Dir.WriteText("plain.csv", "1,2,a\n3,4,b\n");
        string test = cli.Dir.WriteText("test.csv", "w,h,k\n1,2,a\n");
        var s = cli.Json("train", "--data", $"csv:{plain},test={test}", "--hidden", "none", "--epochs", "1", "--model", cli.File("n.safetensors"), "--device", "cpu");
        Assert.Equal(System.Text.Json.JsonValueKind.Number, s.GetProperty("test_loss").ValueKind);
    }

    [Theory]
    [InlineData("semicolon", ';')]
    [InlineData(";", ';')]
    [InlineData("tab", '\t')]
    [InlineData("pipe", '|')]
    [InlineData("PIPE", '|')]
    public void SepReadsOtherSeparators(string name, char sep)
    {
        using var dir = new TempDir();
        string p = dir.WriteText("s.csv", Named.Replace(',', sep));
        var spec = DataSpec.Parse($"csv:{p},sep={name}");
        Assert.Equal(sep, spec.Separator);
        Assert.Equal(spec, DataSpec.Parse(spec.ToString()));
        var loaded = spec.Load(null);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 2f, 1f], loaded.Train.Features);
        Assert.Equal(["a", "b"], loaded.Train.ClassNames!);
        var m = Csv.ReadMatrix(dir.WriteText("m.csv", $"1{sep} 2\n3{sep}4\n"), false, sep);
        Assert.Equal([1f, 2f, 3f, 4f], m.Values);
        Assert.Contains("sep=foo is not a separator: use comma, semicolon, tab, pipe",
            Assert.Throws<GpuNetException>(() => DataSpec.Parse($"csv:{p},sep=foo")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CsvOptions { Separator = 'x' });
    }

    [Fact]
    public void AFileWithAnotherSeparatorGetsAHintNamingIt()
    {
        using var dir = new TempDir();
        string semi = dir.WriteText("semi.csv", "1;2;0\n3;4;1\n");
        Assert.Contains("line 1 has 1 column; a dataset needs a label column and at least one feature column; the line holds 2 " +
            "semicolons (';'): if the file is separated by semicolons, read it with the csv option sep=semicolon",
            Assert.Throws<DataFormatException>(() => Csv.Load(semi)).Message);
        string tabs = dir.WriteText("tabs.csv", "a\tb\tc\n1\t2\t0\n");
        Assert.Contains("the line holds 2 tabs: if the file is separated by tabs, read it with the csv option sep=tab",
            Assert.Throws<DataFormatException>(() => Csv.Load(tabs)).Message);
        // decimal commas with semicolons: the cells split at the commas, and the bad cell names the semicolons
        string european = dir.WriteText("eu.csv", "1,5;2,5;0\n");
        Assert.Contains("\"5;2\" is not a number", Assert.Throws<DataFormatException>(() => Csv.Load(european, new CsvOptions { HasHeader = false })).Message);
        Assert.Contains("sep=semicolon", Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(european, false)).Message);
        Assert.Contains("sep=semicolon", Csv.PeekFirstRecord(semi).SeparatorHint);
        Assert.Null(Csv.PeekFirstRecord(dir.WriteText("ok.csv", "1,2\n")).SeparatorHint);
    }
}
