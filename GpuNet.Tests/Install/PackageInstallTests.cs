using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using GpuNet.Cli;
using Xunit;

namespace GpuNet.Tests.Install;

/// <summary>
/// What a newcomer does with the packages: `dotnet pack` makes the gpunet tool and the GpuNet.Core library, the tool
/// installs into a tool path and trains from there, and a console app of their own references the library and trains.
/// Offline: the packages come from a local folder and, for ILGPU and Google.Protobuf, from the machine's NuGet cache
/// (filled by the build that runs these tests), into a private package folder, so no earlier install of the same
/// version is ever picked up instead of the one just packed.
/// </summary>
public class PackageInstallTests
{
    private static string Version => VersionText.Package;

    private static string IlgpuVersion =>
        typeof(ILGPU.Context).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    [Fact]
    public void PackInstallTheToolAndTrainThenBuildAnAppOnTheLibrary()
    {
        using var dir = new TempDir();
        string feed = dir.File("feed");
        foreach (var project in new[] { "GpuNet.Core/GpuNet.Core.csproj", "GpuNet.Cli/GpuNet.Cli.csproj" })
            // Its own artifacts folder: nothing under the repository's bin/ and obj/, which the running tests use.
            ChildProcess.Ok(ChildProcess.Dotnet, ["pack", RepoFiles.Path(project), "-c", "Release", "-o", feed,
                "--artifacts-path", dir.File("artifacts"), "--disable-build-servers"], timeoutSeconds: 600);
        Assert.Equal([$"GpuNet.Core.{Version}.nupkg", $"gpunet.{Version}.nupkg"],
            Directory.GetFiles(feed).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        CheckLibraryPackage(Path.Combine(feed, $"GpuNet.Core.{Version}.nupkg"));
        CheckToolPackage(Path.Combine(feed, $"gpunet.{Version}.nupkg"));

        string config = dir.WriteText("nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="packed" value="{feed}" />
                <add key="machine-cache" value="{MachinePackageFolder()}" />
              </packageSources>
            </configuration>
            """);
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = dir.File("packages") };
        string tools = dir.File("tools");
        ChildProcess.Ok(ChildProcess.Dotnet, ["tool", "install", "gpunet", "--tool-path", tools, "--configfile", config, "--version", Version],
            environment: env);
        RunInstalledTool(Path.Combine(tools, OperatingSystem.IsWindows() ? "gpunet.exe" : "gpunet"), dir);
        BuildAppOnTheLibrary(dir, config, env);
    }

    private static void RunInstalledTool(string gpunet, TempDir dir)
    {
        Assert.Matches($@"^gpunet {Version.Replace(".", @"\.")}(\+[0-9a-f]{{7}})? \(ILGPU {IlgpuVersion.Replace(".", @"\.")}, \.NET \d+\.\d+\.\d+\)\n$",
            ChildProcess.Ok(gpunet, ["--version"]));
        Assert.StartsWith("usage: gpunet train [options]", ChildProcess.Ok(gpunet, ["help", "train"]));
        Assert.StartsWith("usage: gpunet devices [--json]", ChildProcess.Ok(gpunet, ["devices", "--help"]));
        string model = dir.File("xor.safetensors");
        string output = ChildProcess.Ok(gpunet, ["train", "--data", "xor", "--hidden", "3", "--epochs", "3", "--batch", "4",
            "--device", "cpu", "--model", model], workingDirectory: dir.Path);
        Assert.Contains("trained 3 epochs", output);
        Assert.EndsWith($"model written to {model}\n", output);
        Assert.True(new FileInfo(model).Length > 0);
    }

    private static void BuildAppOnTheLibrary(TempDir dir, string config, Dictionary<string, string> env)
    {
        string app = dir.File("app");
        Directory.CreateDirectory(app);
        File.Copy(config, Path.Combine(app, "nuget.config"));
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="GpuNet.Core" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using GpuNet;
            using GpuNet.Data;
            using GpuNet.Devices;
            using GpuNet.Model;
            using GpuNet.Training;

            using var device = Gpu.Open("cpu");
            var (train, test) = BuiltIn.Digits();
            var spec = NetworkSpec.Dense([64, 16, 10], Activation.Relu, Activation.Identity);
            using var net = new Network(device, spec, restarts: 2, seed: 1);
            using var trainer = new Trainer(net, new TrainOptions { Epochs = 3, LearningRate = 3e-3f });
            trainer.Fit(train);
            net.Save("digits.safetensors");
            using var model = Predictor.Load(device, "digits.safetensors");
            Console.WriteLine($"accuracy {model.Evaluate(test).Accuracy:F4}");
            """);
        string output = ChildProcess.Ok(ChildProcess.Dotnet, ["run", "-c", "Release", "--disable-build-servers"], app, env, timeoutSeconds: 600);
        var line = output.Trim().Split('\n')[^1];
        Assert.StartsWith("accuracy ", line);
        double accuracy = double.Parse(line["accuracy ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(accuracy > 0.5, $"3 epochs of digits gave test accuracy {accuracy}"); // chance is 0.1
    }

    private static XElement Metadata(ZipArchive zip, string nuspec)
    {
        using var s = zip.GetEntry(nuspec)!.Open();
        return XDocument.Load(s).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string Field(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? throw new Xunit.Sdk.XunitException($"the nuspec has no {name}");

    /// <summary>Id, version, description, licence, README and repository, the kernels inside and ILGPU as a dependency.</summary>
    private static void CheckLibraryPackage(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var m = Metadata(zip, "GpuNet.Core.nuspec");
        Assert.Equal(("GpuNet.Core", Version), (Field(m, "id"), Field(m, "version")));
        CheckCommonMetadata(m, zip);
        var files = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("lib/net10.0/GpuNet.Core.dll", files);
        Assert.Contains("lib/net10.0/GpuNet.Kernels.dll", files); // no package of its own: it travels with Core
        Assert.Contains("lib/net10.0/GpuNet.Core.xml", files);
        Assert.Contains(files, f => f.EndsWith("digits.LICENSE.txt", StringComparison.Ordinal)); // the embedded data's notice
        var dependencies = m.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => (e.Attribute("id")!.Value, e.Attribute("version")!.Value)).ToArray();
        Assert.Contains(("ILGPU", IlgpuVersion), dependencies);
        Assert.Contains(("ILGPU.Algorithms", IlgpuVersion), dependencies);
        Assert.DoesNotContain(dependencies, d => d.Item1.StartsWith("GpuNet", StringComparison.Ordinal) || d.Item1 == "Grpc.Tools");
    }

    private static void CheckToolPackage(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var m = Metadata(zip, "gpunet.nuspec");
        Assert.Equal(("gpunet", Version), (Field(m, "id"), Field(m, "version")));
        CheckCommonMetadata(m, zip);
        Assert.Equal("DotnetTool", m.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")!.Value);
        var files = zip.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("tools/net10.0/any/gpunet.dll", files);
        Assert.Contains("tools/net10.0/any/GpuNet.Kernels.dll", files);
        Assert.Contains("tools/net10.0/any/ILGPU.dll", files);
        Assert.DoesNotContain(files, f => f.Contains("/runtimes/", StringComparison.Ordinal)); // no native library
    }

    private static void CheckCommonMetadata(XElement m, ZipArchive zip)
    {
        Assert.True(Field(m, "description").Length > 40);
        Assert.Equal("MIT", Field(m, "license"));
        Assert.Equal("README.md", Field(m, "readme"));
        using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
            Assert.Equal(File.ReadAllText(RepoFiles.Path("README.md")), readme.ReadToEnd());
        var repository = m.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository.Attribute("type")!.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")!.Value);
    }

    /// <summary>The NuGet package folder the build that runs these tests restored into: it holds ILGPU.</summary>
    private static string MachinePackageFolder()
    {
        string folder = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        Assert.True(Directory.Exists(Path.Combine(folder, "ilgpu", IlgpuVersion)), $"ILGPU {IlgpuVersion} is not in {folder}");
        return folder;
    }
}
