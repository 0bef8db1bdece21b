using System.Text.Json;
using ConvKit.Training;
using ConvKit.Vision.Models;

namespace ConvKit.Onnx.Tests.Export;

/// <summary><c>convkit export</c>: the written file runs in ONNX Runtime; bad input ends with one line and a non-zero code.</summary>
public sealed class ExportCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-export-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    [Fact]
    public void WritesAFileThatOnnxRuntimeRunsAtAnyBatch()
    {
        string file = PathOf("lenet.onnx");
        var (code, output, error) = CliTests.Cli("export", "lenet5", "--classes", "4", "-o", file);
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

        var (code, output, error) = CliTests.Cli("export", "lenet5-mnist", "--checkpoint", checkpoint, "-o", file, "--json");
        Assert.Equal((0, ""), (code, error));
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(17, json.GetProperty("opset").GetInt32());
        // Sizes are numbers (only the free batch axis is a name), so a program reads the class count as one.
        var outputShape = json.GetProperty("output_shape");
        Assert.Equal("batch", outputShape[0].GetString());
        Assert.Equal(JsonValueKind.Number, outputShape[1].ValueKind);
        Assert.Equal(3, outputShape[1].GetInt32());
        Assert.Equal([JsonValueKind.String, JsonValueKind.Number, JsonValueKind.Number, JsonValueKind.Number],
            json.GetProperty("input_shape").EnumerateArray().Select(v => v.ValueKind));

        var input = Tensor.Randn([2, 1, 28, 28], seed: 2);
        var (values, shape) = OrtCheck.Run(File.ReadAllBytes(file), input);
        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Eval().Forward(input);
        Reference.Close(values, shape, expected, 1e-4, "exported checkpoint");
        Assert.Equal(record.ToMetadata(), OnnxModel.ReadModelCard(file).ToMetadata());

        // The checkpoint fixes the model, the classes and the channels.
        AssertOneLineError(CliTests.Cli("export", "lenet5", "--checkpoint", checkpoint, "-o", file), "holds a lenet5-mnist model");
        AssertOneLineError(CliTests.Cli("export", "lenet5-mnist", "--checkpoint", checkpoint, "--classes", "5", "-o", file), "--classes 5 does not match");
    }

    /// <summary>
    /// A Faster R-CNN checkpoint of 'convkit detect train' is written whole: one picture in, boxes, scores and labels out,
    /// as <see cref="Vision.Detection.FasterRCnn.Detect"/> finds them with the evaluation's settings.
    /// </summary>
    [Fact]
    public void ExportsAFasterRCnnCheckpointAsAWholeDetector()
    {
        var model = (Vision.Detection.FasterRCnn)ModelZoo.Create("faster-rcnn", 1, 3);
        var state = model.StateDict();
        // Decisive scores (no near-ties for the two NMS orders to break differently), as RegionDetectorExportTests.
        foreach (var (name, factor) in new[] { ("rpn.cls_logits.weight", 300f), ("roi_heads.cls_score.weight", 40f) })
            state[name].CopyFrom(state[name] * factor);
        string checkpoint = PathOf("detector.safetensors"), file = PathOf("faster-rcnn.onnx");
        var card = new ModelCard
        {
            Model = "faster-rcnn", Arguments = new ModelArguments(1, 3), Classes = ["a", "b", "c"], Dataset = "fashion-scenes", Task = ModelCard.Detection,
            Preprocessing = new ImagePreprocessing { InputShape = [1, 64, 64], Mean = [0.5f], Std = [0.25f] },
        };
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(checkpoint);

        var (code, output, error) = CliTests.Cli("export", "faster-rcnn", "--checkpoint", checkpoint, "-o", file, "--json");
        Assert.Equal((0, ""), (code, error));
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal([1, 1, 64, 64], json.GetProperty("input_shape").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(["boxes", "scores", "labels"], json.GetProperty("outputs").EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, json.GetProperty("parameters_not_exported").GetInt64());

        var picture = Tensor.Rand([1, 1, 64, 64], 4);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(file);
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(picture.ToArray(), [1, 1, 64, 64]))]);
        var labels = results.Single(r => r.Name == "labels").AsTensor<long>().ToArray();
        var scores = results.Single(r => r.Name == "scores").AsTensor<float>().ToArray();
        model.Eval();
        var expected = model.Detect(picture)[0];
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(d => (long)d.Class), labels);
        Assert.Equal(expected.Select(d => d.Score), scores, (x, y) => Math.Abs(x - y) < 1e-4);
    }

    /// <summary>
    /// A YOLO file gives the raw grid (decoding stays outside the graph), so its metadata carries what decoding needs:
    /// the checkpoint's own anchors, exactly, and the stride.
    /// </summary>
    [Fact]
    public void AYoloFileCarriesItsAnchorsAndStride()
    {
        var model = (Vision.Detection.YoloV2)ModelZoo.Create("yolo-small", 1, 3);
        (float, float)[] anchors = [(11.5f, 20.25f), (30.1f, 14.7f), (40f, 41.3f), (63.9f, 29.05f), (17.77f, 66.6f)];
        model.SetAnchors(anchors);
        string checkpoint = PathOf("yolo.safetensors"), file = PathOf("yolo.onnx");
        var card = new ModelCard
        {
            Model = "yolo-small", Arguments = new ModelArguments(1, 3), Classes = ["a", "b", "c"], Dataset = "fashion-scenes", Task = ModelCard.Detection,
            Preprocessing = new ImagePreprocessing { InputShape = [1, 64, 64], Mean = [0.5f], Std = [0.25f] },
        };
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(checkpoint);

        var (code, _, error) = CliTests.Cli("export", "yolo-small", "--checkpoint", checkpoint, "-o", file);
        Assert.Equal((0, ""), (code, error));
        var metadata = OnnxModel.ReadMetadata(file);
        var written = JsonSerializer.Deserialize<float[][]>(metadata["anchors"])!;
        Assert.Equal(anchors.Select(a => new[] { a.Item1, a.Item2 }), written);
        Assert.Equal(model.Stride.ToString(System.Globalization.CultureInfo.InvariantCulture), metadata["stride"]);
        Assert.Equal("yolo-small", OnnxModel.ReadModelCard(file).Model);
    }

    /// <summary>
    /// GoogLeNet's auxiliary classifiers run only in training, so the file does not hold them: the command prints the
    /// count the file holds (as 'onnx info' reads it back) and says what was left out, instead of the model's full count.
    /// </summary>
    [Fact]
    public void GoogLeNetCountsTheParametersTheFileHoldsAndSaysTheAuxiliaryHeadsAreLeftOut()
    {
        string file = PathOf("googlenet.onnx");
        var (code, output, error) = CliTests.Cli("export", "googlenet", "--input", "3x64x64", "--classes", "10", "-o", file);
        Assert.Equal((0, ""), (code, error));
        var model = ModelZoo.Create("googlenet", 3, 10);
        long auxiliary = model.NamedParameters().Where(p => p.Name.StartsWith("aux")).Sum(p => (long)p.Parameter.Numel);
        long held = OnnxModel.Load(file).ParameterCount();
        Assert.Equal(model.ParameterCount() - auxiliary, held);
        string words = System.Text.RegularExpressions.Regex.Replace(output, "\u001b\\[[0-9;]*m", "");
        Assert.Contains($", {held:N0} parameters, ", words);
        Assert.Contains($"Not exported: aux1, aux2 ({auxiliary:N0} parameters): layers used only in training", words);
        Assert.DoesNotContain($"{model.ParameterCount():N0}", words);

        var json = JsonDocument.Parse(CliTests.Cli("export", "googlenet", "--input", "3x64x64", "--classes", "10", "-o", file, "--json").Output).RootElement;
        Assert.Equal(held, json.GetProperty("parameters").GetInt64());
        Assert.Equal(auxiliary, json.GetProperty("parameters_not_exported").GetInt64());
        Assert.Equal(["aux1", "aux2"], json.GetProperty("modules_not_exported").EnumerateArray().Select(v => v.GetString()));
    }

    /// <summary>--input builds a size-aware model for that size (small-cnn at 64×64 runs in ONNX Runtime); a model that cannot take it is refused in words.</summary>
    [Fact]
    public void ExportsAtTheInputSizeAskedOrSaysTheModelCannotTakeIt()
    {
        string file = PathOf("small.onnx");
        var (code, _, error) = CliTests.Cli("export", "small-cnn", "--input", "1x64x64", "-o", file);
        Assert.Equal((0, ""), (code, error));
        var (_, shape) = OrtCheck.Run(File.ReadAllBytes(file), Tensor.Randn([2, 1, 64, 64], seed: 3));
        Assert.Equal([2, 10], shape);
        AssertOneLineError(CliTests.Cli("export", "lenet5", "--input", "1x64x64", "-o", PathOf("lenet.onnx")), "model 'lenet5' cannot take 1×64×64 pictures");
    }

    [Fact]
    public void BadInputEndsWithOneLine()
    {
        AssertOneLineError(CliTests.Cli("export", "no-such-net", "-o", PathOf("x.onnx")), "unknown model 'no-such-net'");
        AssertOneLineError(CliTests.Cli("export", "lenet5", "--checkpoint", PathOf("missing.safetensors"), "-o", PathOf("x.onnx")), "does not exist");
        AssertOneLineError(CliTests.Cli("export", "lenet5", "--input", "1x32", "-o", PathOf("x.onnx")), "--input must be CxHxW");
        AssertOneLineError(CliTests.Cli("export", "lenet5", "--classes", "0", "-o", PathOf("x.onnx")), "--classes must be positive");
        Assert.False(File.Exists(PathOf("x.onnx")));
    }

    static void AssertOneLineError((int Code, string Output, string Error) result, string expected)
    {
        Assert.NotEqual(0, result.Code);
        Assert.Equal("", result.Output);
        Assert.Contains(expected, result.Error);
        Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
    }
}
