using System.Text.Json;
using GpuNet.Cli;

namespace GpuNet.Tests.Cli;

/// <summary>Runs the gpunet command in-process (the same code path as the executable) in its own temp folder.</summary>
public sealed class CliRunner : IDisposable
{
    public CliRunner() => Dir = new TempDir();

    public TempDir Dir { get; }

    public string File(string name) => Dir.File(name);

    public (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CommandLine.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Runs and expects success, returning stdout.</summary>
    public string Ok(params string[] args)
    {
        var (code, output, err) = Run(args);
        Xunit.Assert.True(code == 0, $"gpunet {string.Join(' ', args)} exited {code}: {err}");
        return output;
    }

    /// <summary>Runs with --json (train, eval) and parses the JSON on stdout.</summary>
    public JsonElement Json(params string[] args) => JsonDocument.Parse(Ok([.. args, "--json"])).RootElement;

    public void Dispose() => Dir.Dispose();
}
