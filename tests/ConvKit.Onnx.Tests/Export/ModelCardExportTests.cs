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
    /// <summary>
    /// An exported LeNet-5 run by 'convkit onnx run' with no options: the picture (RGB, 30×40, so grey conversion,
    /// resizing and centring all matter) is prepared from the file's model card, so the classes and probabilities are
    /// those 'convkit predict' gives for the checkpoint; typed options override the card and say so.
    /// </summary>
    [Fact]
    public void OnnxRunPreparesPicturesByTheCardAndAgreesWithPredict()
    {
        string checkpoint = PathOf("best.safetensors"), file = PathOf("lenet.onnx"), picture = PathOf("photo.png");
        ConvKit.NN.Module model;
        using (Generator.Use(new Generator(5))) model = ModelZoo.Create(Card);
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = Card.ToMetadata() }.Save(checkpoint);
        ConvKit.Vision.Imaging.ImageFiles.SavePng(Tensor.Rand([3, 30, 40], seed: 6), picture);
        Assert.Equal(0, CliTests.Cli("export", "lenet5", "--checkpoint", checkpoint, "-o", file).Code);

        var onnx = Json("onnx", "run", file, picture, "--top", "3");
        var predict = Json("predict", checkpoint, picture, "--top", "3");
        var byOnnx = onnx.GetProperty("results")[0].GetProperty("top").EnumerateArray().ToArray();
        var byPredict = predict.GetProperty("predictions")[0].GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(3, byOnnx.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(byPredict[i].GetProperty("class").GetString(), byOnnx[i].GetProperty("class").GetString());
            Assert.Equal(byPredict[i].GetProperty("index").GetInt32(), byOnnx[i].GetProperty("index").GetInt32());
            Assert.Equal(byPredict[i].GetProperty("probability").GetDouble(), byOnnx[i].GetProperty("probability").GetDouble(), 5);
        }
        Assert.Equal(Card.Classes, onnx.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));

        var (code, output, error) = CliTests.Cli("onnx", "run", file, picture);
        Assert.True(code == 0, error);
        string words = System.Text.RegularExpressions.Regex.Replace(output, "\u001b\\[[0-9;]*m", "");
        Assert.Contains("Preprocessing from the model card: pictures as 1×28×28 centred in 1×32×32, mean 0.25, std 0.5", words);
        Assert.Contains(byPredict[0].GetProperty("class").GetString()!, words);

        // Typed normalisation wins over the card, and the report says which preprocessing ran.
        var overridden = Json("onnx", "run", file, picture, "--mean", "0", "--std", "1");
        Assert.StartsWith("as the options say; pictures resized to 1×32×32, scale 1, mean 0, std 1", overridden.GetProperty("preprocessing").GetString());
        Assert.NotEqual(byOnnx[0].GetProperty("probability").GetDouble(),
            overridden.GetProperty("results")[0].GetProperty("top")[0].GetProperty("probability").GetDouble(), 5);
    }

    static JsonElement Json(params string[] args)
    {
        var (code, output, error) = CliTests.Cli([.. args, "--json"]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output).RootElement;
    }
}
