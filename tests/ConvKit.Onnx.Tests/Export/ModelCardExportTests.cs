using System.Text.Json;
using ConvKit.Cli;
using ConvKit.Training;
using ConvKit.Vision.Models;
using Microsoft.ML.OnnxRuntime;

namespace ConvKit.Onnx.Tests.Export;

/// <summary>A model card written into an exported file's metadata_props, read back by ConvKit and seen by ONNX Runtime.</summary>
public sealed class ModelCardExportTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-onnx-card-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    static readonly ModelCard Card = new()
    {
        Model = "lenet5", Arguments = new ModelArguments(1, 3), Classes = ["circle", "square", "ünïcode ☂"], Dataset = "folder:shapes",
        Preprocessing = new ImagePreprocessing { InputShape = [1, 32, 32], ImageShape = [1, 28, 28], Mean = [0.25f], Std = [0.5f] },
        ValidationSplit = 0.1, Augment = "crop", Limit = 40,
    };

    [Fact]
    public void TheCardRoundTripsThroughMetadataProps()
    {
        string file = PathOf("card.onnx");
        OnnxExporter.Export(ModelZoo.Create(Card), [1, 1, 32, 32], file, new OnnxExportOptions { ModelCard = Card });

        Assert.Equal(Card.ToMetadata(), OnnxModel.ReadModelCard(file).ToMetadata());
        Assert.Equal(Card.ToMetadata(), OnnxModel.Load(file).Metadata);
        // the standard place: ONNX Runtime lists the entries as the model's custom metadata
        using var session = new InferenceSession(file);
        Assert.Equal(Card.ToMetadata().OrderBy(e => e.Key), session.ModelMetadata.CustomMetadataMap.OrderBy(e => e.Key));
    }

    [Fact]
    public void AFileWithoutACardSaysSo()
    {
        string file = PathOf("plain.onnx");
        OnnxExporter.Export(ModelZoo.Create("lenet5", 1, 3), [1, 1, 32, 32], file);

        Assert.Empty(OnnxModel.ReadMetadata(file));
        Assert.Contains("has no model card", Assert.Throws<InvalidDataException>(() => OnnxModel.ReadModelCard(file)).Message);
        Assert.Throws<FileNotFoundException>(() => OnnxModel.ReadModelCard(PathOf("missing.onnx")));
    }

    [Fact]
    public void ConvkitExportWritesTheCheckpointsCard()
    {
        string checkpoint = PathOf("best.safetensors");
        new Checkpoint { ModelState = ModelZoo.Create(Card).StateDict(), Options = new TrainingOptions(), Metadata = Card.ToMetadata() }.Save(checkpoint);

        Assert.Equal(0, Program.Run(["export", "lenet5", "--checkpoint", checkpoint, "-o", PathOf("trained.onnx")], new StringWriter(), new StringWriter()));
        Assert.Equal(Card.ToMetadata(), OnnxModel.ReadModelCard(PathOf("trained.onnx")).ToMetadata());

        // Exported at another size, the card describes that input: pictures are stretched to fill it.
        var resnet = Card with { Model = "resnet-mnist", Preprocessing = Card.Preprocessing with { InputShape = [1, 28, 28], ImageShape = [1, 24, 24] } };
        new Checkpoint { ModelState = ModelZoo.Create(resnet).StateDict(), Options = new TrainingOptions(), Metadata = resnet.ToMetadata() }.Save(checkpoint);
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["export", "resnet-mnist", "--checkpoint", checkpoint, "--input", "1x32x32", "-o", PathOf("big.onnx"), "--json"], output, new StringWriter()));
        Assert.Equal(["batch", "1", "32", "32"], JsonDocument.Parse(output.ToString()).RootElement.GetProperty("input_shape").EnumerateArray().Select(v => v.ToString()));
        var big = OnnxModel.ReadModelCard(PathOf("big.onnx"));
        Assert.Equal([1, 32, 32], big.Preprocessing.InputShape);
        Assert.Equal([1, 32, 32], big.Preprocessing.ImageShape);
        Assert.Equal(Card.Classes, big.Classes);
    }
}
