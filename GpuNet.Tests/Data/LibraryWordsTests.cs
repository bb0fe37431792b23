using System.Text.RegularExpressions;
using GpuNet.Cli;
using GpuNet.Tests.Cli;
using Xunit;

namespace GpuNet.Tests.Data;

/// <summary>The library's errors speak the library's names; the command puts its own options in their place.</summary>
public partial class LibraryWordsTests
{
    // A string literal that is a sentence (it holds a space) and names an option: a message. A literal that is just
    // "--version" is an argument passed to another program, not a message.
    [GeneratedRegex("\"(?=[^\"]* )[^\"]*--[a-z][a-z-]+")]
    private static partial Regex FlagInString();

    [Fact]
    public void NoCoreStringNamesACommandLineFlag()
    {
        Assert.Matches(FlagInString(), "throw Fail($\"try a smaller step size (--lr). The weights\");");
        Assert.Matches(FlagInString(), "\"or give this run a folder of its own (--checkpoint DIR)\"");
        Assert.DoesNotMatch(FlagInString(), "Run(ptxas, [\"--version\"])");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(RepoFiles.Path("GpuNet.Core"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i].TrimStart();
                if (line.StartsWith("//", StringComparison.Ordinal)) continue;
                if (FlagInString().IsMatch(line)) offenders.Add($"{Path.GetRelativePath(RepoFiles.Root, file)}:{i + 1}: {line}");
            }
        }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void TheCommandPutsItsOptionWhereTheLibraryNamesASetting()
    {
        var named = new DataFormatException("standardise the features (Standardizer) or rescale") { Settings = ["Standardizer"] };
        Assert.Equal("standardise the features (--standardize) or rescale", OptionNames.Message(named));
        var unnamed = new DataFormatException("the data directory lacks the files") { Settings = ["dataDir"] };
        Assert.Equal("the data directory lacks the files (--data-dir)", OptionNames.Message(unnamed));
        var wrapped = new GpuNetException("standardise (Standardizer); more", new DataFormatException("x") { Settings = ["Standardizer"] });
        Assert.Equal("standardise (--standardize); more", OptionNames.Message(wrapped));
        var unknown = new GpuNetException("set it (SomethingElse)") { Settings = ["SomethingElse"] };
        Assert.Equal("set it (SomethingElse)", OptionNames.Message(unknown));
    }

    [Fact]
    public void ARunTooLargeForTheDeviceNamesTheCommandsOptions()
    {
        using var cli = new CliRunner();
        var (code, _, err) = cli.Run("train", "--data", "xor", "--hidden", "4096", "--restarts", "100000", "--device", "cpu",
            "--model", cli.File("m.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("Use a smaller --batch, fewer --restarts or a smaller network", err);
    }
}
