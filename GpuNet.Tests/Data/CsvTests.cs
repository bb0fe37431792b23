using System.Text;
using GpuNet.Data;
using Xunit;

namespace GpuNet.Tests.Data;

public class CsvTests
{
    private static DataFormatException LoadFails(TempDir dir, string text, CsvOptions? options = null)
    {
        var p = dir.WriteText("bad.csv", text);
        var e = Assert.Throws<DataFormatException>(() => Csv.Load(p, options));
        Assert.StartsWith(p + ":", e.Message);
        return e;
    }

    [Fact]
    public void StringLabelsMapInOrderOfFirstAppearance()
    {
        using var dir = new TempDir();
        var p = dir.WriteText("iris.csv", "a,b,species\n1,2,virginica\n3,4.5,setosa\n-1e2,0,virginica\n");
        var r = Csv.Load(p, new CsvOptions { HasHeader = true });
        var d = r.Dataset;
        Assert.Equal(TaskKind.Classification, d.Task);
        Assert.Equal(["virginica", "setosa"], d.ClassNames!);
        Assert.Equal([0, 1, 0], d.Labels!);
        Assert.Equal([1f, 2f, 3f, 4.5f, -100f, 0f], d.Features);
        Assert.Equal([1f, 0f, 0f, 1f, 1f, 0f], d.Targets);
        Assert.Equal(["a", "b"], r.FeatureNames!);
        Assert.Equal(2, r.LabelColumn);
        Assert.Equal(0, r.DroppedRows);
    }

    [Fact]
    public void IntegerLabelsMapInAscendingOrder()
    {
        using var dir = new TempDir();
        var identity = Csv.Load(dir.WriteText("a.csv", "0.5,2\n0.1,0\n0.2,1\n")).Dataset;
        Assert.Equal([2, 0, 1], identity.Labels!);
        Assert.Equal(["0", "1", "2"], identity.ClassNames!);

        var sparse = Csv.Load(dir.WriteText("b.csv", "1,5\n1,-3\n1,05\n1,1\n")).Dataset;
        Assert.Equal(["-3", "1", "5"], sparse.ClassNames!);
        Assert.Equal([2, 0, 2, 1], sparse.Labels!);
    }

    [Fact]
    public void AutoTaskRule()
    {
        using var dir = new TempDir();
        Assert.Equal(TaskKind.Regression, Csv.Load(dir.WriteText("a.csv", "1,0.5\n2,1.0\n")).Dataset.Task);
        Assert.Equal(TaskKind.Regression, Csv.Load(dir.WriteText("b.csv", "1,1.0\n2,2.0\n")).Dataset.Task);
        Assert.Equal(TaskKind.Regression, Csv.Load(dir.WriteText("c.csv", "1,3\n2,3\n")).Dataset.Task);
        var many = string.Concat(Enumerable.Range(0, Csv.MaxAutoClasses + 1).Select(i => $"1,{i}\n"));
        Assert.Equal(TaskKind.Regression, Csv.Load(dir.WriteText("d.csv", many)).Dataset.Task);
        Assert.Equal(TaskKind.Classification, Csv.Load(dir.WriteText("e.csv", "1,1\n2,0\n")).Dataset.Task);
        Assert.Equal(TaskKind.Classification, Csv.Load(dir.WriteText("f.csv", "1,1.5\n2,x\n")).Dataset.Task);

        var regressed = Csv.Load(dir.WriteText("g.csv", "1,1\n2,0\n"), new CsvOptions { Task = CsvTask.Regress }).Dataset;
        Assert.Equal(TaskKind.Regression, regressed.Task);
        Assert.Equal([1f, 0f], regressed.Targets);
        // Forcing classification on fractional numbers is refused (class labels are integers or names).
        Assert.Throws<DataFormatException>(() => Csv.Load(dir.WriteText("h.csv", "1,0.5\n2,1.0\n"), new CsvOptions { Task = CsvTask.Classify }));
    }

    [Fact]
    public void LabelColumnByNameIndexOrNegativeIndex()
    {
        using var dir = new TempDir();
        var p = dir.WriteText("a.csv", "y,x1,x2\n1,10,20\n0,30,40\n");
        var byName = Csv.Load(p, new CsvOptions { HasHeader = true, LabelColumn = "y" });
        Assert.Equal([10f, 20f, 30f, 40f], byName.Dataset.Features);
        Assert.Equal([1, 0], byName.Dataset.Labels!);
        Assert.Equal(["x1", "x2"], byName.FeatureNames!);
        var byIndex = Csv.Load(p, new CsvOptions { HasHeader = true, LabelColumn = "0" });
        Assert.Equal(byName.Dataset.Features, byIndex.Dataset.Features);
        var fromEnd = Csv.Load(p, new CsvOptions { HasHeader = true, LabelColumn = "-2" });
        Assert.Equal([1f, 20f, 0f, 40f], fromEnd.Dataset.Features);
        Assert.Equal(["10", "30"], fromEnd.Dataset.ClassNames!);

        var unknown = LoadFails(dir, "y,x\n1,2\n0,1\n", new CsvOptions { HasHeader = true, LabelColumn = "z" });
        Assert.Contains("no column named \"z\"", unknown.Message);
        Assert.Contains("\"y\", \"x\"", unknown.Message);
        var outside = LoadFails(dir, "1,2\n0,1\n", new CsvOptions { LabelColumn = "2" });
        Assert.Contains("label column 2 is outside the 2 columns", outside.Message);
        var noHeader = LoadFails(dir, "1,2\n0,1\n", new CsvOptions { LabelColumn = "y" });
        Assert.Contains("no header", noHeader.Message);
        var ambiguous = LoadFails(dir, "y,y,x\n1,2,3\n0,1,3\n", new CsvOptions { HasHeader = true, LabelColumn = "y" });
        Assert.Contains("ambiguous", ambiguous.Message);
    }

    /// <summary>A quoted cell may hold line breaks and other control characters; an error quoting it stays one line
    /// and shows them as escapes.</summary>
    [Fact]
    public void ErrorsShowControlCharactersOfACellAsEscapes()
    {
        using var dir = new TempDir();
        var e = LoadFails(dir, "a,b,y\n1,\"x\ny\",0\n2,3,1\n");
        Assert.EndsWith("line 2, column 2 (\"b\"): \"x\\u000ay\" is not a number", e.Message);
        var target = LoadFails(dir, "a,y\n1,\"\u001b[31mred\r\"\n2,1\n", new CsvOptions { Task = CsvTask.Regress });
        Assert.EndsWith("target \"\\u001b[31mred\\u000d\" is not a number", target.Message);
        var named = Csv.Load(dir.WriteText("named.csv", "a,\"p\nq\",y\n1,2,0\n2,1,1\n")).Dataset;
        Assert.Equal("feature 2 (\"p\\u000aq\")", named.DescribeFeature(1)); // as the overflow check names a column
    }

    [Fact]
    public void QuotesCrlfBomAndBlankLines()
    {
        using var dir = new TempDir();
        var text = "\uFEFF\"x\",\"the \"\"label\"\"\"\r\n1.5,\"a,b\"\r\n\r\n2,\"multi\r\nline\"\r\n  3 ,c \r\n\r\n";
        var p = dir.Write("q.csv", new UTF8Encoding(true).GetBytes(text));
        Assert.Equal(0xEF, File.ReadAllBytes(p)[0]);
        var r = Csv.Load(p, new CsvOptions { HasHeader = true });
        Assert.Equal(["x", "the \"label\""], r.Header!);
        Assert.Equal([1.5f, 2f, 3f], r.Dataset.Features);
        Assert.Equal(["a,b", "multi\r\nline", "c"], r.Dataset.ClassNames!);
    }

    [Fact]
    public void LineNumbersCountHeaderAndSpannedLines()
    {
        using var dir = new TempDir();
        var e = LoadFails(dir, "x,y\n1,\"a\nb\"\n\nfoo,a\n", new CsvOptions { HasHeader = true });
        Assert.Contains("line 5, column 1 (\"x\"): \"foo\" is not a number", e.Message);
    }

    [Fact]
    public void WrongCellCountNamesLine()
    {
        using var dir = new TempDir();
        var e = LoadFails(dir, "1,2,3\r\n4,5,6\r\n7,8\r\n");
        Assert.Contains("line 3: 2 cells, expected 3 as on line 1", e.Message);
    }

    [Fact]
    public void NonNumericAndEmptyCellsAreQuoted()
    {
        using var dir = new TempDir();
        Assert.Contains("line 2, column 2: \"1,5\" is not a number", LoadFails(dir, "1,2,0\n3,\"1,5\",1\n").Message);
        Assert.Contains("line 1, column 1: empty cell", LoadFails(dir, ",2,0\n").Message);
        Assert.Contains("line 2, column 1: \"1.2.3\" is not a number", LoadFails(dir, "1,a\n1.2.3,b\n").Message);
        var target = LoadFails(dir, "1,0.5\n2,abc\n", new CsvOptions { Task = CsvTask.Regress });
        Assert.Contains("line 2, column 2: target \"abc\" is not a number", target.Message);
    }

    [Fact]
    public void EmptyFileAndNoDataRows()
    {
        using var dir = new TempDir();
        Assert.Contains("empty", LoadFails(dir, "").Message);
        Assert.Contains("empty", LoadFails(dir, "\n\r\n  \n").Message);
        Assert.Contains("no data rows after the header", LoadFails(dir, "a,b\n", new CsvOptions { HasHeader = true }).Message);
        Assert.Contains("line 1 has 1 column", LoadFails(dir, "1\n2\n").Message);
    }

    [Fact]
    public void QuoteErrors()
    {
        using var dir = new TempDir();
        Assert.Contains("line 2, column 2: the quoted cell opened here is never closed", LoadFails(dir, "1,a\n2,\"b\n").Message);
        Assert.Contains("line 1, column 1: unexpected 'x' after the closing quote", LoadFails(dir, "\"1\"x,a\n").Message);
        Assert.Contains("line 1, column 1: unexpected '\\u0007' after the closing quote", LoadFails(dir, "\"1\"\u0007,a\n").Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    [InlineData("1e39")]
    public void NonFiniteFeatureIsAnErrorOrDropped(string bad)
    {
        using var dir = new TempDir();
        string text = $"a,b,y\n1,2,x\n3,{bad},y\n5,6,z\n";
        var e = LoadFails(dir, text, new CsvOptions { HasHeader = true });
        Assert.Contains($"line 3, column 2 (\"b\"): feature \"{bad}\"", e.Message);
        Assert.Contains(bad == "1e39" ? "outside the float32 range" : "not finite", e.Message);

        var r = Csv.Load(dir.WriteText("ok.csv", text), new CsvOptions { HasHeader = true, DropNonFinite = true });
        Assert.Equal(1, r.DroppedRows);
        Assert.Equal([1f, 2f, 5f, 6f], r.Dataset.Features);
        Assert.Equal(["x", "z"], r.Dataset.ClassNames!);
    }

    [Fact]
    public void NonFiniteTargetIsAnErrorOrDropped()
    {
        using var dir = new TempDir();
        string text = "1,0.5\n2,NaN\n3,inf\n4,1.5\n";
        var e = LoadFails(dir, text);
        Assert.Contains("line 2, column 2: target \"NaN\" is not finite", e.Message);
        var r = Csv.Load(dir.WriteText("ok.csv", text), new CsvOptions { DropNonFinite = true });
        Assert.Equal(2, r.DroppedRows);
        Assert.Equal([1f, 4f], r.Dataset.Features);
        Assert.Equal([0.5f, 1.5f], r.Dataset.Targets);

        var all = LoadFails(dir, "1,NaN\n2,inf\n", new CsvOptions { DropNonFinite = true, Task = CsvTask.Regress });
        Assert.Contains("all 2 data rows", all.Message);
    }

    [Fact]
    public void SingleClassAndEmptyLabelAreErrors()
    {
        using var dir = new TempDir();
        var single = LoadFails(dir, "x,y\n1,a\n2,a\n", new CsvOptions { HasHeader = true });
        Assert.Contains("column 2 (\"y\") holds a single class \"a\"", single.Message);
        var empty = LoadFails(dir, "1,a\n2,\n3,b\n");
        Assert.Contains("line 2, column 2: empty label", empty.Message);
    }

    [Fact]
    public void FixedClassNamesForATestFile()
    {
        using var dir = new TempDir();
        var p = dir.WriteText("t.csv", "1,b\n2,a\n3,b\n");
        var d = Csv.Load(p, new CsvOptions { ClassNames = ["a", "b", "c"] }).Dataset;
        Assert.Equal([1, 0, 1], d.Labels!);
        Assert.Equal(3, d.TargetCount);
        var ints = Csv.Load(dir.WriteText("i.csv", "1,07\n2,3\n"), new CsvOptions { ClassNames = ["3", "7"] }).Dataset;
        Assert.Equal([1, 0], ints.Labels!);
        var e = LoadFails(dir, "1,a\n2,z\n", new CsvOptions { ClassNames = ["a", "b"] });
        Assert.Contains("line 2, column 2: label \"z\" is not one of the 2 known classes (\"a\", \"b\")", e.Message);
    }

    [Fact]
    public void GzipCsvIsRead()
    {
        using var dir = new TempDir();
        var p = dir.Write("data", TempDir.Gzip(Encoding.UTF8.GetBytes("1,2,a\n3,4,b\n")));
        Assert.Equal([1f, 2f, 3f, 4f], Csv.Load(p).Dataset.Features);
        var cut = dir.Write("cut", TempDir.Gzip(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("1,2,a\n3,4,b\n", 500))))[..40]);
        var e = Assert.ThrowsAny<DataFormatException>(() => Csv.Load(cut));
        Assert.StartsWith(cut + ":", e.Message);
        var full = TempDir.Gzip(Encoding.UTF8.GetBytes("1,2,a\n3,4,b\n"));
        var noTrailer = dir.Write("no-trailer", full[..^4]);
        Assert.Contains($"{noTrailer}: corrupt gzip stream: the gzip trailer",
            Assert.Throws<DataFormatException>(() => Csv.Load(noTrailer)).Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetNotFoundException>(() => Csv.Load(dir.File("none.csv")));
        Assert.Contains(dir.File("none.csv"), e.Message);
    }

    [Fact]
    public void ReadMatrixChecksLikeLoad()
    {
        using var dir = new TempDir();
        var m = Csv.ReadMatrix(dir.WriteText("m.csv", "a,b\n1,2\n3,4\n5,6\n"), hasHeader: true);
        Assert.Equal((3, 2), (m.Rows, m.Columns));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], m.Values);
        Assert.Equal(["a", "b"], m.Header!);
        var single = Csv.ReadMatrix(dir.WriteText("s.csv", "1.5\n2.5\n"), hasHeader: false);
        Assert.Equal((2, 1), (single.Rows, single.Columns));

        var p = dir.WriteText("bad.csv", "a,b\n1,2\n3,NaN\n");
        var e = Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(p, true));
        Assert.Contains($"{p}: line 3, column 2 (\"b\"): value \"NaN\" is not finite", e.Message);
        var cells = dir.WriteText("cells.csv", "1,2\n3\n");
        Assert.Contains("line 2: 1 cell, expected 2", Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(cells, false)).Message);
        var empty = dir.WriteText("empty.csv", "");
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => Csv.ReadMatrix(empty, false)).Message);
    }

    [Fact]
    public void WriteRoundTripsThroughTheReader()
    {
        using var dir = new TempDir();
        var p = dir.File("out.csv");
        string[][] rows =
        [
            ["id", "class, name", "say \"hi\""],
            ["1", " padded ", "line\nbreak"],
            ["2", "", "cr\r\nlf"],
        ];
        Csv.Write(p, rows[0], rows.Skip(1));
        var reader = new CsvRecordReader(new StringReader(File.ReadAllText(p)), p);
        foreach (var expected in rows)
        {
            Assert.True(reader.Read());
            Assert.Equal(expected, reader.Cells());
        }
        Assert.False(reader.Read());

        var labelled = dir.File("labelled.csv");
        Csv.Write(labelled, ["x", "class, name"], [["1", "T-shirt/top"], ["2", "a,b"]]);
        var r = Csv.Load(labelled, new CsvOptions { HasHeader = true, LabelColumn = "class, name" });
        Assert.Equal(["T-shirt/top", "a,b"], r.Dataset.ClassNames!);

        var oneColumn = dir.File("one.csv");
        Csv.Write(oneColumn, null, [[""], ["x"]]);
        var one = new CsvRecordReader(new StringReader(File.ReadAllText(oneColumn)), oneColumn);
        Assert.True(one.Read());
        Assert.Equal([""], one.Cells());

        var values = new[] { 0.1f, -2.5e-7f, float.MaxValue, 3f, 1f / 3f, -0f };
        var q = dir.File("m.csv");
        Csv.Write(q, ["a", "b", "c"], values, 3);
        // bit patterns: -0f == 0f, so comparing values would not see a lost sign
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), Csv.ReadMatrix(q, hasHeader: true).Values.Select(BitConverter.SingleToInt32Bits));
        Assert.DoesNotContain('\r', File.ReadAllText(q));
    }
}

public class CsvLabelTests
{
    [Fact]
    public void FractionalClassLabelsAreRefusedNamingTheLine()
    {
        using var dir = new TempDir();
        string path = dir.WriteText("f.csv", "1,2,0\n3,4,1.5\n5,6,1\n");
        var ex = Xunit.Assert.Throws<DataFormatException>(() => Csv.Load(path, new CsvOptions { Task = CsvTask.Classify }));
        Xunit.Assert.Contains("line 2", ex.Message);
        Xunit.Assert.Contains("not an integer", ex.Message);
        // the same file as regression is fine
        Xunit.Assert.Equal(3, Csv.Load(path, new CsvOptions { Task = CsvTask.Regress }).Dataset.Count);
    }
}
