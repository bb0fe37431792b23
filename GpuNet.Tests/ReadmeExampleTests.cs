using System.Text.RegularExpressions;
using GpuNet;
using GpuNet.Data;
using GpuNet.Devices;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests;

/// <summary>The README's C# example runs here as written, bar the device (the CPU accelerator, as every test uses), and
/// a second test checks that the code here is still the README's.</summary>
public class ReadmeExampleTests
{
    private const string Begin = "// README example begins", End = "// README example ends";
    // The two differences: the device (the CPU accelerator, as every test uses) and where the model file goes.
    private static readonly (string Readme, string Test)[] Differences =
    [
        ("using var device = Gpu.Open(\"auto\");", "var device = TestDevices.Cpu;"),
        ("string path = \"digits.safetensors\";", "string path = dir.File(\"digits.safetensors\");"),
    ];

    [Fact]
    public void ReadmeExampleTrainsDigits()
    {
        using var dir = new TempDir();
        // README example begins
        var device = TestDevices.Cpu;
        var (train, test) = BuiltIn.Digits();                            // 8×8 digits: 64 features, 10 classes
        var spec = NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity);
        using var net = new Network(device, spec, restarts: 4, seed: 1); // 4 restarts, side by side
        using var trainer = new Trainer(net, new TrainOptions { Epochs = 20 }); // gpunet train's defaults otherwise
        var result = trainer.Fit(train, progress: new Progress<EpochReport>(r => Console.WriteLine($"epoch {r.Epoch}: loss {r.BestTrainLoss:F4}")));
        var eval = trainer.Evaluate(test);
        Console.WriteLine($"best restart {result.BestRestart}: test accuracy {eval.Accuracy![result.BestRestart]:P2}");
        string path = dir.File("digits.safetensors");
        net.Save(path);                                                  // the best restart, its classes, output and loss
        using var model = Predictor.Load(device, path);
        float[] probabilities = model.Predict(test.Features, test.Count); // softmax outputs, [rows, 10]
        // README example ends

        Assert.True(eval.Accuracy[result.BestRestart] > 0.95, $"test accuracy {eval.Accuracy[result.BestRestart]}");
        Assert.Equal(test.Count * 10, probabilities.Length);
        for (int r = 0; r < test.Count; r++)
        {
            var row = probabilities.AsSpan(r * 10, 10).ToArray();
            Assert.All(row, p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1.0, row.Sum(p => (double)p), 5);
        }
        // The file holds what the trainer had: the loaded model evaluates as the trained network's best restart did.
        var reloaded = model.Evaluate(test);
        Assert.Equal(eval.Loss[result.BestRestart], reloaded.Loss);
        Assert.Equal(eval.Accuracy[result.BestRestart], reloaded.Accuracy);
    }

    [Fact]
    public void ReadmeExampleIsTheCodeTheTestRuns()
    {
        string readme = File.ReadAllText(RepoFiles.Path("README.md"));
        var block = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "README.md has no ```csharp block");
        var readmeLines = block.Groups[1].Value.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var usings = readmeLines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && !l.StartsWith("using var", StringComparison.Ordinal)).ToList();
        var readmeCode = readmeLines.Skip(usings.Count).ToList();

        string source = File.ReadAllText(RepoFiles.Path("GpuNet.Tests/ReadmeExampleTests.cs"));
        int from = source.IndexOf(Begin + "\n", StringComparison.Ordinal), to = source.IndexOf(End + "\n", StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "the example's markers are missing from this file");
        var testCode = source[(from + Begin.Length)..to].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

        Assert.Equal(readmeCode.Count, testCode.Count);
        for (int i = 0; i < readmeCode.Count; i++)
        {
            var (r, t) = (WithoutComment(readmeCode[i]), WithoutComment(testCode[i]));
            var allowed = Differences.FirstOrDefault(d => d.Readme == r);
            if (allowed.Readme != null) Assert.Equal(allowed.Test, t);
            else Assert.Equal(Normalised([r]), Normalised([t]));
        }
        // The README's using directives are this file's, so its code compiles as this does.
        foreach (var u in usings) Assert.Contains("\n" + u + "\n", source);
    }

    /// <summary>The lines' code with comments dropped and every run of whitespace made one space.</summary>
    private static string Normalised(IEnumerable<string> lines) =>
        Regex.Replace(string.Join(" ", lines.Select(WithoutComment)), @"\s+", " ").Trim();

    /// <summary>A line without its trailing // comment (a // inside a string literal is kept).</summary>
    private static string WithoutComment(string line)
    {
        bool inString = false;
        for (int i = 0; i < line.Length - 1; i++)
        {
            if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) inString = !inString;
            else if (!inString && line[i] == '/' && line[i + 1] == '/') return line[..i].TrimEnd();
        }
        return line.TrimEnd();
    }
}
