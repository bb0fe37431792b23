using GpuNet.Data;
using GpuNet.Model;
using GpuNet.Training;
using Xunit;

namespace GpuNet.Tests.Cli;

/// <summary>The library's defaults are the command's: a network built and trained from C# with <c>new TrainOptions()</c>
/// is the model <c>gpunet train</c> writes, and the file C# saves holds what the command's holds.</summary>
public class LibraryMatchesCommandTests
{
    [Fact]
    public void TheDefaultOptionsTrainTheCommandsModelBitForBit()
    {
        using var cli = new CliRunner();
        string fromCommand = cli.File("command.safetensors"), fromLibrary = cli.File("library.safetensors");
        cli.Ok("train", "--device", "cpu", "--model", fromCommand); // digits, one hidden layer of 64 ReLU, every default

        var (train, test) = BuiltIn.Digits();
        using var net = new Network(TestDevices.Cpu, NetworkSpec.Dense([64, 64, 10], Activation.Relu, Activation.Identity));
        using var trainer = new Trainer(net);
        trainer.Fit(train);
        net.Save(fromLibrary);

        var (commandSpec, commandParameters, commandInfo) = ModelFile.Read(fromCommand);
        var (librarySpec, libraryParameters, libraryInfo) = ModelFile.Read(fromLibrary);
        Assert.Equal(commandSpec.ToString(), librarySpec.ToString());
        Assert.Equal(commandParameters, libraryParameters);
        Assert.Equal((commandInfo.Task, commandInfo.Output, commandInfo.Loss), (libraryInfo.Task, libraryInfo.Output, libraryInfo.Loss));
        Assert.Equal(commandInfo.ClassNames, libraryInfo.ClassNames);
        // The command adds the data spec as typed; every other training fact is the library's own record.
        Assert.Equal(commandInfo.Training.Where(kv => kv.Key != "data"), libraryInfo.Training);
        Assert.Equal("digits", commandInfo.Training["data"]);

        using var a = Predictor.Load(TestDevices.Cpu, fromCommand);
        using var b = Predictor.Load(TestDevices.Cpu, fromLibrary);
        var (ea, eb) = (a.Evaluate(test), b.Evaluate(test));
        Assert.Equal((ea.Loss, ea.Accuracy), (eb.Loss, eb.Accuracy));
        Assert.True(ea.Accuracy > 0.96, $"test accuracy {ea.Accuracy}"); // the README's 97.11 %
    }

    [Fact]
    public void AStandardizedRunWithAValidationSplitIsTheCommandsToo()
    {
        using var cli = new CliRunner();
        string fromCommand = cli.File("command.safetensors"), fromLibrary = cli.File("library.safetensors");
        cli.Ok("train", "--device", "cpu", "--data", "sine", "--hidden", "6", "--epochs", "3", "--standardize", "--validation", "0.25",
            "--seed", "5", "--optimizer", "momentum", "--model", fromCommand);

        var (train, _) = BuiltIn.Sine();
        using var net = new Network(TestDevices.Cpu, NetworkSpec.Dense([1, 6, 1], Activation.Relu, Activation.Identity), seed: 5);
        using var trainer = new Trainer(net, new TrainOptions
        {
            Epochs = 3, Standardize = true, ValidationFraction = 0.25, ShuffleSeed = 5, Optimizer = OptimizerOptions.WithMomentum(),
        });
        var result = trainer.Fit(train);
        Assert.NotNull(result.FinalValidation);
        net.Save(fromLibrary);

        var (_, commandParameters, commandInfo) = ModelFile.Read(fromCommand);
        var (_, libraryParameters, libraryInfo) = ModelFile.Read(fromLibrary);
        Assert.Equal(commandParameters, libraryParameters);
        Assert.Equal(commandInfo.FeatureMean, libraryInfo.FeatureMean);
        Assert.Equal(commandInfo.FeatureScale, libraryInfo.FeatureScale);
        Assert.Equal((TaskKind.Regression, LossFunction.MeanSquaredError, "0.01"), (libraryInfo.Task, libraryInfo.Loss, libraryInfo.Training["lr"]));
    }

    [Fact]
    public void ANetworkThatWasNeverTrainedCannotBeSavedWithoutSayingWhatItIsFor()
    {
        using var dir = new TempDir();
        using var net = new Network(TestDevices.Cpu, NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity));
        var e = Assert.Throws<InvalidOperationException>(() => net.Save(dir.File("m.safetensors")));
        Assert.Contains("nothing says what it is for", e.Message);
        Assert.False(File.Exists(dir.File("m.safetensors")));
        net.Info = new ModelInfo { Task = TaskKind.Regression, Loss = LossFunction.MeanSquaredError, Output = OutputFunction.Identity };
        net.Save(dir.File("m.safetensors"));
        using var loaded = Network.Load(TestDevices.Cpu, dir.File("m.safetensors"));
        Assert.Equal(net.GetParameters(), loaded.GetParameters());
        Assert.Equal(TaskKind.Regression, loaded.Info!.Task);
    }

    [Fact]
    public void ADisposedNetworkOrTrainerSaysSo()
    {
        var net = new Network(TestDevices.Cpu, NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity));
        var trainer = new Trainer(net);
        trainer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => trainer.Fit(BuiltIn.Xor()));
        Assert.Throws<ObjectDisposedException>(() => trainer.Evaluate(BuiltIn.Xor()));
        net.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.GetParameters());
        Assert.Throws<ObjectDisposedException>(() => net.Predict(new float[2], 1));
        using var other = new Trainer(net);
        Assert.Throws<ObjectDisposedException>(() => other.Fit(BuiltIn.Xor()));
        net.Dispose(); // twice is harmless
    }

    [Fact]
    public void AnythingUsedAfterDisposeSaysSo()
    {
        using var dir = new TempDir();
        var spec = NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity);
        var net = new Network(TestDevices.Cpu, spec, restarts: 2) { Info = new ModelInfo { Task = TaskKind.Regression, Loss = LossFunction.MeanSquaredError } };
        net.Dispose();
        Assert.Throws<ObjectDisposedException>(() => net.Save(dir.File("m.safetensors")));
        Assert.False(File.Exists(dir.File("m.safetensors")));
        Assert.Throws<ObjectDisposedException>(() => net.ExtractRestart(1));
        Assert.Throws<ObjectDisposedException>(() => net.Predict(new float[2, 2]));

        using (var live = new Network(TestDevices.Cpu, spec))
        {
            live.Info = new ModelInfo { Task = TaskKind.Regression, Loss = LossFunction.MeanSquaredError };
            live.Save(dir.File("m.safetensors"));
        }
        var predictor = Predictor.Load(TestDevices.Cpu, dir.File("m.safetensors"));
        predictor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => predictor.Predict(new float[2], 1));
        Assert.Throws<ObjectDisposedException>(() => predictor.Evaluate(BuiltIn.Xor()));

        var data = DeviceDataset.Upload(TestDevices.Cpu, BuiltIn.Xor());
        data.Dispose();
        using var other = new Network(TestDevices.Cpu, NetworkSpec.Dense([2, 3, 1], Activation.Tanh, Activation.Identity));
        using var trainer = new Trainer(other);
        Assert.Throws<ObjectDisposedException>(() => trainer.Fit(data));
        data.Dispose(); // twice is harmless
    }
}
