using System.Text.Json;
using ConvKit.Cli;
using ConvKit.Training;
using ConvKit.Vision.Models;

namespace ConvKit.Onnx.Tests.Export;

/// <summary><c>convkit export</c>: the written file runs in ONNX Runtime; bad input ends with one line and a non-zero code.</summary>
public sealed class ExportCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-export-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void WritesAFileThatOnnxRuntimeRunsAtAnyBatch()
    {
        string file = PathOf("lenet.onnx");
        var (code, output, error) = Run("export", "lenet5", "--classes", "4", "-o", file);
        Assert.Equal((0, ""), (code, error));
        Assert.Contains(file, output);
        Assert.Contains("[batch, 4]", output);

        var (values, shape) = OrtCheck.Run(File.ReadAllBytes(file), Tensor.Randn([3, 1, 32, 32], seed: 1));
        Assert.Equal([3, 4], shape);
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ExportsTheTrainedWeightsOfACheckpoint()
    {
        var model = ModelZoo.Create("lenet5-mnist", 1, 3);
        string checkpoint = PathOf("best.safetensors"), file = PathOf("trained.onnx");
        var record = new ModelCard
        {
            Model = "lenet5-mnist", Arguments = new ModelArguments(1, 3), Classes = ["a", "b", "c"], Dataset = "fashion-mnist",
            Preprocessing = new ImagePreprocessing { InputShape = [1, 28, 28], Mean = [0.5f], Std = [0.25f] },
        };
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = record.ToMetadata() }.Save(checkpoint);

        var (code, output, error) = Run("export", "lenet5-mnist", "--checkpoint", checkpoint, "-o", file, "--json");
        Assert.Equal((0, ""), (code, error));
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(17, json.GetProperty("opset").GetInt32());
        Assert.Equal(["batch", "3"], json.GetProperty("output_shape").EnumerateArray().Select(v => v.GetString()));

        var input = Tensor.Randn([2, 1, 28, 28], seed: 2);
        var (values, shape) = OrtCheck.Run(File.ReadAllBytes(file), input);
        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Eval().Forward(input);
        Reference.Close(values, shape, expected, 1e-4, "exported checkpoint");
        Assert.Equal(record.ToMetadata(), OnnxModel.ReadModelCard(file).ToMetadata());

        // The checkpoint fixes the model, the classes and the channels.
        AssertOneLineError(Run("export", "lenet5", "--checkpoint", checkpoint, "-o", file), "holds a lenet5-mnist model");
        AssertOneLineError(Run("export", "lenet5-mnist", "--checkpoint", checkpoint, "--classes", "5", "-o", file), "--classes 5 does not match");
    }

    [Fact]
    public void BadInputEndsWithOneLine()
    {
        AssertOneLineError(Run("export", "no-such-net", "-o", PathOf("x.onnx")), "unknown model 'no-such-net'");
        AssertOneLineError(Run("export", "lenet5", "--checkpoint", PathOf("missing.safetensors"), "-o", PathOf("x.onnx")), "does not exist");
        AssertOneLineError(Run("export", "lenet5", "--input", "1x32", "-o", PathOf("x.onnx")), "--input must be CxHxW");
        AssertOneLineError(Run("export", "lenet5", "--classes", "0", "-o", PathOf("x.onnx")), "--classes must be positive");
        Assert.False(File.Exists(PathOf("x.onnx")));
    }

    static void AssertOneLineError((int ExitCode, string Output, string Error) result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.Contains(expected, result.Error);
        Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
    }
}
