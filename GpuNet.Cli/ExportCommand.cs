using GpuNet.Model;

namespace GpuNet.Cli;

/// <summary><c>gpunet export</c>: a model file in another format (ONNX).</summary>
internal static class ExportCommand
{
    public static readonly string Help = $"""
        usage: gpunet export --onnx FILE --model FILE

        Writes the model as an ONNX file (IR version {OnnxExport.IrVersion}, opset {OnnxExport.Opset}) for ONNX Runtime and other ONNX tools:
          input  '{OnnxExport.InputName}'  float32 [{OnnxExport.BatchDimension}, I]  the raw features (the model's standardisation is in the graph: Sub, Div)
          output '{OnnxExport.OutputName}'   float32 [{OnnxExport.BatchDimension}, O]  what gpunet predict prints (probabilities or values)
        The batch dimension is dynamic. Each layer is a Gemm node (z·Wᵀ + b, W as [out, in]) and a Relu, Tanh or
        Sigmoid node; the output function is a Softmax or Sigmoid node; missing edges of masked layers are zero weights.
        The model's class names, task, loss and training facts go into the file's metadata. The file is written
        atomically: an interrupted export leaves no partial file.

        """;

    public static int Run(IEnumerable<string> args, TextWriter stdout)
    {
        var a = new Arguments("export", args, ["onnx", "model"], []);
        string model = a.String("model") ?? throw new UsageException("export needs --model FILE (the model to export)");
        string onnx = a.String("onnx") ?? throw new UsageException("export needs --onnx FILE (ONNX is the format it writes)");
        OptionChecks.Readable("--model", model);
        OptionChecks.Writable("--onnx", onnx);
        OptionChecks.Distinct(("--model", model, false), ("--onnx", onnx, true));
        var (spec, parameters, info) = ModelFile.Read(model);
        OnnxExport.Write(onnx, spec, parameters, info);
        stdout.WriteLine($"ONNX model (opset {OnnxExport.Opset}) written to {Path.GetFullPath(onnx)}");
        stdout.WriteLine($"input  '{OnnxExport.InputName}' float32 [{OnnxExport.BatchDimension}, {spec.InputSize}]" +
            (info.FeatureMean != null ? " (raw features; standardised inside the graph)" : ""));
        stdout.WriteLine($"output '{OnnxExport.OutputName}' float32 [{OnnxExport.BatchDimension}, {spec.OutputSize}] ({What(info)})");
        return 0;
    }

    private static string What(ModelInfo info) => info.Output switch
    {
        OutputFunction.Softmax => "softmax probabilities",
        OutputFunction.Logistic => "logistic probabilities",
        _ => "values",
    };
}
