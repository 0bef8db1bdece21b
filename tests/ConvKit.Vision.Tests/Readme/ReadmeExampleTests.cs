using System.Reflection;
using System.Text.Json;
using ConvKit.Cli;
using ConvKit.Data;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Tests.Cli;

namespace ConvKit.Vision.Tests.Readme;

/// <summary>Runs the README's C# blocks, compiled from README.md itself (see ReadmeExamples.targets), and checks what they print.</summary>
[CollectionDefinition(nameof(ReadmeExampleTests), DisableParallelization = true)]
public sealed class ReadmeExampleCollection;

/// <summary>
/// The examples print to the console and use paths relative to the working directory, as a user's program does, so
/// they run alone (no other test runs meanwhile) with the console and the working directory redirected.
/// </summary>
[Collection(nameof(ReadmeExampleTests))]
public sealed class ReadmeExampleTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-readme-").FullName;
    readonly int threads = ConvKit.Backends.Cpu.Threading.NumThreads; // convkit train --threads sets it for the process

    public void Dispose()
    {
        ConvKit.Backends.Cpu.Threading.NumThreads = threads;
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Runs an example in <see cref="directory"/> and returns what it printed.</summary>
    string Run(Action example)
    {
        var (console, workingDirectory) = (Console.Out, Environment.CurrentDirectory);
        var printed = new StringWriter();
        Console.SetOut(printed);
        Environment.CurrentDirectory = directory;
        try { example(); }
        finally
        {
            Console.SetOut(console);
            Environment.CurrentDirectory = workingDirectory;
        }
        return printed.ToString();
    }

    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsCompiledAndHasATest()
    {
        string readme = File.ReadAllText(FindReadme()).ReplaceLineEndings("\n");
        var blocks = readme.Split("```csharp\n").Skip(1).Select(block => block[..block.IndexOf("\n```", StringComparison.Ordinal)]).ToList();
        var examples = typeof(ReadmeExampleTests).Assembly.GetTypes()
            .Where(type => type.Namespace?.StartsWith("ReadmeExamples.", StringComparison.Ordinal) == true && type.Name == "Example")
            .Select(type => (Name: type.Namespace!["ReadmeExamples.".Length..], Code: (string)type.GetField("Code")!.GetRawConstantValue()!))
            .OrderBy(example => readme.IndexOf(example.Code, StringComparison.Ordinal)).ToList();

        // The compiled blocks are the README's blocks as they are now, in order (README.md found from the test assembly).
        Assert.Equal(blocks, examples.Select(example => example.Code));
        // one test below per example; a new block in the README needs its own
        Assert.Equal(["TheAPIInAFewLines", "ClassifyAPictureWithATrainedModel", "BeyondClassificationSeveralOutputsFeaturesBoxesAndMasksAnyTask", "NeuralStyleTransfer"],
            examples.Select(example => example.Name));
    }

    [Fact]
    public void TheApiExampleLearnsTheSum()
    {
        string printed = Run(ReadmeExamples.TheAPIInAFewLines.Example.Run);
        // every weight ends at 1.0000
        Assert.Equal(3, printed.Split("1.0000").Length - 1);
    }

    [Fact]
    public void TheClassifyExamplePrintsWhatConvkitPredictFinds()
    {
        // What the example expects: a checkpoint written by 'convkit train' (one epoch on generated Fashion-MNIST-format
        // files) and a 28×28 picture.
        string data = Path.Combine(directory, "fashion");
        CliTests.WriteIdxSplit(data, "train", 64, seed: 1);
        CliTests.WriteIdxSplit(data, "t10k", 16, seed: 2);
        string checkpoint = Path.Combine(directory, "runs", "lenet5-fashion-mnist", "best.safetensors");
        var train = Cli(["train", "lenet5", "--dataset", "fashion-mnist", "--data", data, "--epochs", "1", "--threads", "1",
            "--out", Path.GetDirectoryName(checkpoint)!, "--json"]);
        Assert.True(train.Code == 0, train.Error);
        var (picture, _) = IdxDatasets.FashionMnist(train: false, data)[3];
        ImageFiles.SavePng(picture, Path.Combine(directory, "shoe.png"));

        string printed = Run(ReadmeExamples.ClassifyAPictureWithATrainedModel.Example.Run);

        var predict = Cli(["predict", checkpoint, Path.Combine(directory, "shoe.png"), "--top", "3", "--json"]);
        Assert.True(predict.Code == 0, predict.Error);
        var top = JsonDocument.Parse(predict.Output).RootElement.GetProperty("predictions")[0].GetProperty("top").EnumerateArray()
            .Select(p => $"{p.GetProperty("class").GetString()}: {(float)p.GetProperty("probability").GetDouble():P1}");
        Assert.Equal(top, printed.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(IdxDatasets.FashionMnistClasses, Classifier.Load(checkpoint).Card.Classes);
    }

    [Fact]
    public void TheContractsExampleTakesFeaturesWithGradientsAndMovesABox()
    {
        string printed = Run(ReadmeExamples.BeyondClassificationSeveralOutputsFeaturesBoxesAndMasksAnyTask.Example.Run);
        var lines = printed.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("layer1 1×64×16×16, layer3 1×256×4×4", lines[0]);
        // Flipped in a 64-wide picture: x 4..24 → 40..60; then halved and moved down by the letterbox's 4-row band.
        Assert.Equal("box 20, 7, 30, 14 on 32×32", lines[1]);
    }

    [Fact]
    public void TheStyleTransferExampleLowersTheStyleCostAndWritesThePicture()
    {
        // Pictures for the example: noisy grey, and coloured diagonal stripes (JPEG, as the example names them).
        var photo = Tensor.Zeros(3, 120, 200) + Tensor.Rand([3, 120, 200], 1) * 0.2f + 0.4f;
        var painting = Tensor.FromArray([.. Enumerable.Range(0, 3 * 90 * 90).Select(i => (i % 90 + i / 90 % 90 + 30 * (i / 8100)) / 12 % 2 == 0 ? 0.9f : 0.1f)], 3, 90, 90);
        SaveJpeg(photo, Path.Combine(directory, "photo.jpg"));
        SaveJpeg(painting, Path.Combine(directory, "painting.jpg"));

        string printed = Run(ReadmeExamples.NeuralStyleTransfer.Example.Run);

        var lines = printed.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 100, $"{lines.Length} steps printed");
        static double Style(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Style(lines[^1]) < Style(lines[0]) / 10, $"style cost {lines[0]} → {lines[^1]}");
        Assert.Equal([3, 160, 256], ImageFiles.Load(Path.Combine(directory, "painted.png")).Shape);
    }

    static void SaveJpeg(Tensor picture, string path)
    {
        string png = Path.ChangeExtension(path, ".png");
        ImageFiles.SavePng(picture, png);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    static (int Code, string Output, string Error) Cli(string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>README.md, found by walking up from the test assembly's folder.</summary>
    static string FindReadme()
    {
        for (var folder = new DirectoryInfo(Path.GetDirectoryName(Assembly.GetExecutingAssembly().Location)!); folder != null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "README.md")) && Directory.Exists(Path.Combine(folder.FullName, "src", "ConvKit")))
                return Path.Combine(folder.FullName, "README.md");
        throw new FileNotFoundException("README.md not found above the test assembly.");
    }
}
