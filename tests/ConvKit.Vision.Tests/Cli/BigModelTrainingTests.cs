using ConvKit.Backends.Cpu;
using ConvKit.Vision.Imaging;
using static ConvKit.Vision.Tests.Cli.CliTests;

namespace ConvKit.Vision.Tests.Cli;

/// <summary>
/// What a new user meets training zoo models on Fashion-MNIST from the command line: <c>--limit</c> shrinks the test
/// pass too, a run says what it works on before its first batch, a run too big for the machine is refused before it
/// starts with the estimate and what to change, and a segmentation model is sent to <c>segment train</c>.
/// </summary>
[Collection(nameof(ProcessWideSettings))]
public sealed class BigModelTrainingTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-bigmodel-").FullName;
    readonly int threads = Threading.NumThreads;

    public void Dispose()
    {
        Threading.NumThreads = threads;
        Directory.Delete(directory, recursive: true);
    }

    string FashionMnist()
    {
        string data = Path.Combine(directory, "fashion");
        WriteIdxSplit(data, "train", 200, seed: 1);
        WriteIdxSplit(data, "t10k", 100, seed: 2);
        return data;
    }

    static void AssertOneLineError((int Code, string Output, string Error) result, params string[] expected)
    {
        Assert.NotEqual(0, result.Code);
        Assert.StartsWith("convkit: ", result.Error);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
        foreach (var words in expected) Assert.Contains(words, result.Error);
    }

    [Fact]
    public void LimitShrinksTheTestPassAndTheFirstBatchIsAnnounced()
    {
        var (code, output, error) = Run("train", "small-cnn", "--dataset", "fashion-mnist", "--data", FashionMnist(), "--limit", "40",
            "--epochs", "1", "--batch-size", "16", "--threads", "1", "--out", Path.Combine(directory, "run"));
        Assert.True(code == 0, error);
        string words = Words(output);
        Assert.Contains("36 training, 4 validation, 40 test images", words);
        Assert.Contains("Epoch 1/1: first batch of 16 1×28×28 pictures…", words);
        Assert.Contains("Testing on 40 images…", words);
        Assert.Contains("Test accuracy (best epoch 1, 40 images)", words);
    }

    [Fact]
    public void OutputThatIsNotATerminalShowsProgressAsPlainLines()
    {
        // A pipe or a log file cannot redraw a bar: each line is printed once, the first and last batch of every epoch
        // say where the run is, and the epoch's end says how it went.
        var (code, output, error) = Run("train", "small-cnn", "--dataset", "fashion-mnist", "--data", FashionMnist(), "--limit", "40",
            "--epochs", "2", "--batch-size", "16", "--threads", "1", "--out", Path.Combine(directory, "piped"));
        Assert.True(code == 0, error);
        var lines = Words(output).Split('\n').Select(line => line.TrimEnd()).ToList();
        var progress = lines.Where(line => line.StartsWith("epoch ")).ToList();
        Assert.Equal(progress.Distinct(), progress);
        foreach (int epoch in new[] { 1, 2 })
        {
            Assert.Single(progress, line => line.StartsWith($"epoch {epoch}/2  batch 1/3  loss ") && line.EndsWith(" img/s"));
            Assert.Single(progress, line => line.StartsWith($"epoch {epoch}/2  batch 3/3  loss ") && line.EndsWith(" img/s"));
            Assert.Single(progress, line => line.StartsWith($"epoch {epoch}/2 done  loss ") && line.Contains("  val ") && line.EndsWith(" img/s"));
        }
        Assert.All(progress, line => Assert.Matches(@"^epoch [12]/2( done|  batch [123]/3)  loss \d+\.\d{4}  acc [\d.]+ %  ", line));
        Assert.DoesNotContain(lines, line => line.EndsWith('%') || line.Contains('━'));
    }

    [Fact]
    public void ARunTooBigForTheMachineIsRefusedBeforeItStartsWithTheEstimateAndWhatToChange()
    {
        var result = Run("train", "resnet18", "--dataset", "fashion-mnist", "--data", FashionMnist(), "--limit", "8", "--batch-size", "100000",
            "--out", Path.Combine(directory, "huge"));
        AssertOneLineError(result, "training resnet18 on 1×224×224 pictures in batches of 100000 needs about ", " GB of memory",
            "but this machine has ", "use --batch-size ", "or a model made for small pictures");
        Assert.False(Directory.Exists(Path.Combine(directory, "huge")));
    }

    [Fact]
    public void ASegmentationModelIsSentToSegmentTrain()
    {
        var result = Run("train", "unet", "--dataset", "fashion-mnist", "--data", FashionMnist(), "--limit", "8", "--out", Path.Combine(directory, "unet"));
        AssertOneLineError(result, "'unet' is a segmentation model", "convkit segment train unet --dataset fashion-scenes");
    }

    [Fact]
    public void SegmentTrainLimitShrinksTheTestPassToo()
    {
        string root = Path.Combine(directory, "masks");
        foreach (var split in new[] { "train", "test" })
        {
            Directory.CreateDirectory(Path.Combine(root, split, "images"));
            Directory.CreateDirectory(Path.Combine(root, split, "masks"));
            for (int i = 0; i < 4; i++)
            {
                ImageFiles.SavePng(Tensor.Rand([1, 16, 16], i), Path.Combine(root, split, "images", $"{i}.png"));
                ImageFiles.SavePng(Tensor.Zeros([16, 16]) + (i % 2) / 255f, Path.Combine(root, split, "masks", $"{i}.png"));
            }
        }
        File.WriteAllLines(Path.Combine(root, "classes.txt"), ["background", "thing"]);

        var (code, output, error) = Run("segment", "train", "unet-small", "--dataset", "folder:" + root, "--limit", "2", "--epochs", "1",
            "--batch-size", "2", "--threads", "1", "--out", Path.Combine(directory, "segment"));
        Assert.True(code == 0, error);
        string words = Words(output);
        Assert.Contains("2 training, 2 test pictures of 16×16", words);
        Assert.Contains("Test mIoU (best epoch 1, 2 pictures)", words);
    }
}
