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
}
