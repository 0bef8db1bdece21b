using System.Text.Json;
using ConvKit.Cli;
using ConvKit.Data;
using ConvKit.Training;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Classification;

public sealed class ClassifierTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-classifier-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string PathOf(string name) => Path.Combine(directory, name);

    /// <summary>LeNet-5 (32×32 input) with seeded fresh weights, for 28×28 grey pictures centred in its input, as <c>convkit train</c> saves it.</summary>
    static readonly ModelCard LeNetCard = new()
    {
        Model = "lenet5", Arguments = new ModelArguments(1, 10), Classes = IdxDatasets.FashionMnistClasses, Dataset = "fashion-mnist",
        Preprocessing = new ImagePreprocessing { InputShape = [1, 32, 32], ImageShape = [1, 28, 28], Mean = [0.29f], Std = [0.35f] },
    };

    string WriteCheckpoint(ModelCard? card = null, string name = "best.safetensors")
    {
        NN.Module model;
        using (Generator.Use(new Generator(7))) model = ModelZoo.Create(LeNetCard);
        string path = PathOf(name);
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card?.ToMetadata() ?? [] }.Save(path);
        return path;
    }

    /// <summary>A 30×40 RGB picture of coloured noise: it is resized, turned grey and centred before the model sees it.</summary>
    string WritePicture(string name, int seed)
    {
        string path = PathOf(name);
        ImageFiles.SavePng(Tensor.Rand([3, 30, 40], seed), path);
        return path;
    }

    [Fact]
    public void PathStreamBytesAndBitmapGiveTheSameAnswerAsConvkitPredict()
    {
        string checkpoint = WriteCheckpoint(LeNetCard), picture = WritePicture("noise.png", seed: 1), other = WritePicture("other.png", seed: 2);
        var classifier = Classifier.Load(checkpoint);

        var fromPath = classifier.Predict(picture, top: 10);
        using (var stream = File.OpenRead(picture)) Assert.Equal(fromPath, classifier.Predict(stream, top: 10));
        Assert.Equal(fromPath, classifier.Predict(File.ReadAllBytes(picture), top: 10));
        using (var bitmap = SKBitmap.Decode(picture)) Assert.Equal(fromPath, classifier.Predict(bitmap, top: 10));
        var batch = classifier.Predict([picture, other], top: 10);
        Assert.Equal(2, batch.Count);
        Assert.Equal(fromPath, batch[0]);
        Assert.NotEqual(fromPath, batch[1]);

        Assert.Equal(10, fromPath.Count);
        Assert.Equal(fromPath.Select(p => p.Probability).OrderDescending(), fromPath.Select(p => p.Probability));
        Assert.Equal(1f, fromPath.Sum(p => p.Probability), 1e-5f);
        Assert.All(fromPath, p => Assert.Equal(IdxDatasets.FashionMnistClasses[p.Index], p.ClassName));
        Assert.Equal(fromPath.Take(3), classifier.Predict(picture, top: 3));

        // convkit predict is this classifier: the same classes and the same probabilities, to the last bit.
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["predict", checkpoint, picture, other, "--top", "10", "--json"], output, new StringWriter()));
        var predictions = JsonDocument.Parse(output.ToString()).RootElement.GetProperty("predictions");
        for (int i = 0; i < 2; i++)
        {
            var top = predictions[i].GetProperty("top").EnumerateArray()
                .Select(p => new Prediction(p.GetProperty("class").GetString()!, p.GetProperty("index").GetInt32(), (float)p.GetProperty("probability").GetDouble()));
            Assert.Equal(batch[i], top);
        }
    }

    [Fact]
    public void PicturesAreFedAsTrainingFedTheDataset()
    {
        var classifier = Classifier.Load(WriteCheckpoint(LeNetCard));
        string picture = WritePicture("noise.png", seed: 3);

        // By hand: grey at 28×28, centred in 32×32 (2 pixels of zeros each side), normalised.
        var grey = ImageFiles.Load(picture, 1, new Size2(28, 28)).ToArray();
        var expected = new float[32 * 32];
        for (int y = 0; y < 28; y++) grey.AsSpan(y * 28, 28).CopyTo(expected.AsSpan((y + 2) * 32 + 2));
        for (int i = 0; i < expected.Length; i++) expected[i] = (expected[i] - 0.29f) / 0.35f;
        using var bitmap = SKBitmap.Decode(picture);
        Assert.Equal(expected, classifier.ToInput([bitmap]).ToArray());

        float[] probabilities;
        using (Tensor.NoGrad()) probabilities = Ops.F.Softmax(classifier.Model.Forward(Tensor.FromArray(expected, 1, 1, 32, 32)), 1).ToArray();
        var best = classifier.Predict(picture, top: 1).Single();
        Assert.Equal(Array.IndexOf(probabilities, probabilities.Max()), best.Index);
        Assert.Equal(probabilities.Max(), best.Probability);
    }

    [Fact]
    public void InvertTurnsDarkOnLightIntoLightOnDark()
    {
        var classifier = Classifier.Load(WriteCheckpoint(LeNetCard));
        var values = Tensor.Rand([1, 28, 28], seed: 4);
        string picture = PathOf("dark-on-light.png"), inverted = PathOf("light-on-dark.png");
        ImageFiles.SavePng(values, picture);
        ImageFiles.SavePng(1f - ImageFiles.Load(picture, 1), inverted);

        var plain = classifier.Predict(inverted, top: 10);
        classifier.Invert = true;
        var turned = classifier.Predict(picture, top: 10);

        Assert.Equal(plain.Select(p => p.Index), turned.Select(p => p.Index));
        Assert.All(plain.Zip(turned), pair => Assert.Equal(pair.First.Probability, pair.Second.Probability, 1e-5f));
    }

    [Fact]
    public void BadInputGivesOneClearError()
    {
        var classifier = Classifier.Load(WriteCheckpoint(LeNetCard));
        string missing = PathOf("missing.png"), corrupt = PathOf("corrupt.png");
        File.WriteAllText(corrupt, "not a picture");

        Assert.Contains($"image '{missing}' does not exist", Assert.Throws<FileNotFoundException>(() => classifier.Predict(missing)).Message);
        Assert.Contains($"cannot read image '{corrupt}'", Assert.Throws<InvalidDataException>(() => classifier.Predict(corrupt)).Message);
        Assert.Contains("cannot read image <bytes>", Assert.Throws<InvalidDataException>(() => classifier.Predict(File.ReadAllBytes(corrupt))).Message);
        Assert.Contains("cannot read image <bytes>: it is empty", Assert.Throws<InvalidDataException>(() => classifier.Predict(ReadOnlySpan<byte>.Empty)).Message);
        using (var stream = File.OpenRead(corrupt))
            Assert.Contains("cannot read image <stream>", Assert.Throws<InvalidDataException>(() => classifier.Predict(stream)).Message);
        // a truncated PNG: the header decodes, the pixels do not
        var png = File.ReadAllBytes(WritePicture("whole.png", seed: 5));
        Assert.Throws<InvalidDataException>(() => classifier.Predict(png.AsSpan(0, png.Length / 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => classifier.Predict(WritePicture("fine.png", seed: 6), top: 0));

        string noCard = WriteCheckpoint(card: null, name: "plain.safetensors");
        Assert.Contains("has no model card", Assert.Throws<InvalidDataException>(() => Classifier.Load(noCard)).Message);
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => Classifier.Load(PathOf("none.safetensors"))).Message);

        // convkit predict says the same in one line
        var error = new StringWriter();
        Assert.Equal(1, Program.Run(["predict", noCard, corrupt], new StringWriter(), error));
        Assert.Equal($"convkit: '{noCard}' has no model card (no 'model' metadata); it was not written by 'convkit train' or exported from such a checkpoint.",
            error.ToString().TrimEnd());
        error = new StringWriter();
        Assert.Equal(1, Program.Run(["predict", WriteCheckpoint(LeNetCard, "ok.safetensors"), corrupt], new StringWriter(), error));
        Assert.StartsWith($"convkit: cannot read image '{corrupt}'", error.ToString());
        Assert.Single(error.ToString().TrimEnd().Split('\n'));
    }

    [Fact]
    public void AnyBitmapColourTypeIsAccepted()
    {
        var classifier = Classifier.Load(WriteCheckpoint(LeNetCard));
        string picture = WritePicture("noise.png", seed: 8);
        using var decoded = SKBitmap.Decode(picture);
        using var bgra = decoded.Copy(SKColorType.Bgra8888);
        using var grey = decoded.Copy(SKColorType.Gray8);
        Assert.Equal(classifier.Predict(picture), classifier.Predict(bgra));
        // a grey bitmap reads back with R = G = B, so it classifies as its own grey levels do
        Assert.Equal(5, classifier.Predict(grey).Count);
    }
}
