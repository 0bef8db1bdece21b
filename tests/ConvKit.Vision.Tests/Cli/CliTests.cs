using System.Text.Json;
using ConvKit.Backends.Cpu;
using ConvKit.Cli;
using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using ConvKit.Vision.Tests.Data;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Cli;

/// <summary>
/// The convkit command line run in-process on small generated data (no installed dataset needed). <c>train</c> and
/// <c>eval</c> set the process-wide thread count and one test moves the datasets folder, hence the collection; the
/// thread count is restored after each test.
/// </summary>
[Collection(nameof(ProcessWideSettings))]
public sealed class CliTests : IDisposable
{
    const string TinyModel = "test-tiny-cnn";
    readonly string directory = Directory.CreateTempSubdirectory("convkit-cli-").FullName;

    static CliTests() => ModelZoo.Register(TinyModel, "a tiny CNN for the command-line tests", (channels, classes) => new Sequential(
        new Conv2d(channels, 4, 3, padding: 1), new ReLU(), new MaxPool2d(4), new Flatten(), new Linear(4 * 7 * 7, classes)),
        inChannels: 1, numClasses: 10, inputSize: 28);

    readonly int threads = Threading.NumThreads;

    public void Dispose()
    {
        Threading.NumThreads = threads;
        Directory.Delete(directory, recursive: true);
    }

    string PathOf(params string[] parts) => Path.Combine([directory, .. parts]);

    /// <summary>Runs a command line in-process; also used by the other command tests.</summary>
    internal static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Output as a user reads it: the console's colour and bold escapes removed.</summary>
    internal static string Words(string output) => System.Text.RegularExpressions.Regex.Replace(output, "\u001b\\[[0-9;]*m", "");

    /// <summary>Runs a command line with --json, asserting success, and returns the document.</summary>
    internal static JsonElement RunJson(params string[] args)
    {
        var (code, output, error) = Run([.. args, "--json"]);
        Assert.True(code == 0, $"exit code {code}: {error}");
        return JsonDocument.Parse(output).RootElement;
    }

    /// <summary>
    /// <see cref="RunJson"/> for a training command, which also reports its peak memory: in process, that is this
    /// process's, so it lies between the peak before the run and the peak after it, give or take Linux's bookkeeping:
    /// VmHWM is the larger of a recorded mark and the current resident-set count, which threads fold in lazily, so a
    /// later reading can be a few MB lower (one run read 521 MB before and reported 520).
    /// </summary>
    internal static JsonElement RunTrainingJson(params string[] args)
    {
        static long PeakMb() { using var self = System.Diagnostics.Process.GetCurrentProcess(); return self.PeakWorkingSet64 >> 20; }
        long before = PeakMb();
        var result = RunJson(args);
        Assert.InRange(result.GetProperty("peak_memory_mb").GetInt64(), Math.Max(1, before - 16), PeakMb());
        return result;
    }

    /// <summary>A Fashion-MNIST-format split of 28×28 images: class k is a bright 6×6 square at one of ten places, plus noise.</summary>
    internal static void WriteIdxSplit(string folder, string split, int count, int seed)
    {
        Directory.CreateDirectory(folder);
        var random = new Generator(seed);
        var labels = Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray();
        var pixels = new byte[count * 784];
        for (int i = 0; i < count; i++)
        {
            int top = labels[i] / 5 * 12 + 4, left = labels[i] % 5 * 5 + 1;
            for (int p = 0; p < 784; p++)
            {
                int y = p / 28, x = p % 28;
                bool square = y >= top && y < top + 6 && x >= left && x < left + 6;
                pixels[i * 784 + p] = (byte)((square ? 200 : 0) + random.Next(50));
            }
        }
        Idx.Write(Path.Combine(folder, $"{split}-images-idx3-ubyte.gz"), new IdxArray([count, 28, 28], pixels));
        Idx.Write(Path.Combine(folder, $"{split}-labels-idx1-ubyte.gz"), new IdxArray([count], labels));
    }

    string WriteFashionMnist()
    {
        string data = PathOf("fashion");
        WriteIdxSplit(data, "train", 400, seed: 1);
        WriteIdxSplit(data, "t10k", 100, seed: 2);
        return data;
    }

    static void AssertOneLineError((int Code, string Output, string Error) result, string expected)
    {
        Assert.NotEqual(0, result.Code);
        Assert.Contains(expected, result.Error);
        Assert.Single(result.Error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", result.Error);
        Assert.StartsWith("convkit: ", result.Error);
    }

    /// <summary>
    /// <c>--device ilgpu-cpu</c> trains with the GPU backend's kernels (on ILGPU's CPU accelerator): the same run as on the
    /// CPU backend up to the order of float32 sums, so the losses agree closely and the checkpoint is an ordinary one.
    /// </summary>
    [Fact]
    public void TrainingOnTheGpuKernelsFollowsTheCpuRun()
    {
        string data = WriteFashionMnist();
        // RunJson, not RunTrainingJson: with the CPU accelerator's dozens of threads, Linux folds their resident-set
        // counts in lazily, so the process's peak read after the run can be a megabyte under the one the run reported.
        JsonElement Train(string device) => RunJson("train", TinyModel, "--dataset", "fashion-mnist", "--data", data, "--epochs", "1",
            "--batch-size", "32", "--lr", "0.01", "--threads", "1", "--device", device, "--out", PathOf("run-" + device));
        var (cpu, gpu) = (Train("cpu"), Train("ilgpu-cpu"));
        double Loss(JsonElement run, string what) => run.GetProperty("epochs")[0].GetProperty(what).GetProperty("loss").GetDouble();
        foreach (string what in new[] { "train", "validation" })
            Assert.True(Math.Abs(Loss(cpu, what) - Loss(gpu, what)) < 1e-3 * Math.Abs(Loss(cpu, what)), $"{what}: cpu {Loss(cpu, what)}, ilgpu-cpu {Loss(gpu, what)}");
        Assert.Equal(cpu.GetProperty("test_loss").GetDouble(), gpu.GetProperty("test_loss").GetDouble(), 3);
    }

    /// <summary>Without a GPU (as here) <c>--device cuda</c> is a one-line error that says what is missing; with one, it trains.</summary>
    [Fact]
    public void CudaWithoutAGpuSaysWhatIsMissing()
    {
        var result = Run("train", TinyModel, "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--epochs", "1", "--device", "cuda",
            "--out", PathOf("run-cuda"));
        if (result.Code == 0) return; // a machine with an NVIDIA GPU and driver
        AssertOneLineError(result, "--device cuda: no ");
        Assert.Matches("CUDA|NVIDIA", result.Error);
        AssertOneLineError(Run("train", TinyModel, "--dataset", "fashion-mnist", "--device", "tpu"), "--device 'tpu' is not one of cpu, cuda, cuda:N or ilgpu-cpu");
    }

    [Fact]
    public void TrainEvalAndPredictOnAnIdxDataset()
    {
        string data = WriteFashionMnist(), runs = PathOf("run");
        var train = RunTrainingJson("train", TinyModel, "--dataset", "fashion-mnist", "--data", data, "--epochs", "2", "--batch-size", "16",
            "--lr", "0.01", "--threads", "1", "--out", runs);

        Assert.Equal(2, train.GetProperty("epochs").GetArrayLength());
        double testAccuracy = train.GetProperty("test_accuracy").GetDouble();
        Assert.True(testAccuracy > 0.8, $"test accuracy {testAccuracy}");
        var csv = File.ReadAllLines(Path.Combine(runs, "metrics.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("epoch,train_loss,train_accuracy,val_loss,val_accuracy", csv[0]);
        AssertPng(Path.Combine(runs, "training.png"), 1200, 420);
        var metadata = ConvKit.IO.Safetensors.ReadMetadata(Path.Combine(runs, "best.safetensors"));
        Assert.Equal(TinyModel, metadata["model"]);
        Assert.Equal("""{"in_channels":1,"num_classes":10}""", metadata["model_args"]);

        string checkpoint = Path.Combine(runs, "best.safetensors"), confusionPng = PathOf("confusion.png");
        var eval = RunJson("eval", checkpoint, "--data", data, "--out", confusionPng);
        Assert.Equal(testAccuracy, eval.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(100, eval.GetProperty("confusion").EnumerateArray().Sum(row => row.EnumerateArray().Sum(v => v.GetInt32())));
        Assert.Equal(10, eval.GetProperty("per_class").GetArrayLength());
        AssertPng(confusionPng, 720, 680);

        var (human, _, _) = Run("eval", checkpoint, "--data", data, "--out", confusionPng);
        Assert.Equal(0, human);

        // An image of class 7's square, written as a PNG, comes back as class 7 with the highest probability.
        var image = new float[784];
        for (int y = 16; y < 22; y++)
            for (int x = 11; x < 17; x++) image[y * 28 + x] = 0.85f;
        string png = PathOf("seven.png");
        ImageFiles.SavePng(Tensor.FromArray(image, 28, 28), png);
        var top = RunJson("predict", checkpoint, png, "--top", "3").GetProperty("predictions")[0].GetProperty("top");
        Assert.Equal(3, top.GetArrayLength());
        Assert.Equal(7, top[0].GetProperty("index").GetInt32());
        // All ten classes: a distribution (each class once, summing to 1), in descending order, and the top three above are its head.
        var all = RunJson("predict", checkpoint, png, "--top", "10").GetProperty("predictions")[0].GetProperty("top").EnumerateArray()
            .Select(t => (Index: t.GetProperty("index").GetInt32(), Probability: t.GetProperty("probability").GetDouble())).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), all.Select(t => t.Index).Order());
        Assert.Equal(1, all.Sum(t => t.Probability), 5);
        Assert.Equal(all.Select(t => t.Probability).OrderDescending(), all.Select(t => t.Probability));
        Assert.Equal(all.Take(3), top.EnumerateArray().Select(t => (t.GetProperty("index").GetInt32(), t.GetProperty("probability").GetDouble())));
    }

    [Fact]
    public void GoogLeNetTrainsItsSideClassifiersAndReportsTheirLosses()
    {
        string runs = PathOf("googlenet");
        var train = RunJson("train", "googlenet", "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--epochs", "1", "--limit", "16",
            "--batch-size", "8", "--image-size", "64", "--threads", "1", "--seed", "3", "--out", runs);

        // The paper's loss: main + 0.3 × (aux1 + aux2), each side loss in metrics.csv; validation (evaluation mode) has none.
        var csv = File.ReadAllLines(Path.Combine(runs, "metrics.csv"));
        var header = csv[0].Split(',');
        var row = csv[1].Split(',').Select(v => v.Length == 0 ? double.NaN : double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        double Column(string name) => row[Array.IndexOf(header, name)];
        Assert.Contains("train_aux1_loss", header);
        Assert.Contains("train_aux2_loss", header);
        Assert.DoesNotContain("val_aux1_loss", header);
        Assert.True(Column("train_aux1_loss") > 0 && Column("train_aux2_loss") > 0, csv[1]);

        // Every side-classifier weight moved away from its seeded initial value: the optimiser saw their gradients.
        Module initial;
        using (Generator.Use(new Generator(3))) initial = ModelZoo.Create("googlenet", 3, 10);
        var trained = ConvKit.Training.Checkpoint.Load(Path.Combine(runs, "last.safetensors")).ModelState;
        var auxiliary = initial.StateDict().Where(p => p.Key.StartsWith("aux") && p.Key.EndsWith("weight")).ToList();
        Assert.NotEmpty(auxiliary);
        foreach (var (name, before) in auxiliary)
            Assert.True(before.ToArray().Zip(trained[name].ToArray()).Any(pair => pair.First != pair.Second), $"{name} did not change");
        Assert.Equal(1, train.GetProperty("epochs").GetArrayLength());
    }

    [Fact]
    public void ResumeContinuesToTheRequestedEpoch()
    {
        string data = WriteFashionMnist(), runs = PathOf("resume");
        string[] common = ["train", TinyModel, "--dataset", "fashion-mnist", "--data", data, "--threads", "1", "--out", runs, "--limit", "100"];
        RunJson([.. common, "--epochs", "1"]);
        var resumed = RunJson([.. common, "--epochs", "2", "--resume", Path.Combine(runs, "last.safetensors")]);

        Assert.Equal(2, resumed.GetProperty("epochs").GetArrayLength());
        Assert.Equal(2, ConvKit.Training.Checkpoint.Load(Path.Combine(runs, "last.safetensors")).Epoch);
    }

    /// <summary>
    /// A finished run resumed into a new --out: the new folder gets the run's best checkpoint, the test result is the best
    /// epoch's and says so, and the Wrote line names the files that are there. Without the old best checkpoint, the last
    /// epoch's weights are tested and labelled as such, and no best.safetensors is claimed.
    /// </summary>
    [Fact]
    public void ResumingAFinishedRunIntoANewFolderReportsOnlyWhatItHas()
    {
        string data = WriteFashionMnist();
        string[] common = ["train", TinyModel, "--dataset", "fashion-mnist", "--data", data, "--threads", "1", "--limit", "100", "--epochs", "2"];
        var first = RunJson([.. common, "--out", PathOf("first")]);
        int bestEpoch = first.GetProperty("best_epoch").GetInt32();
        string last = Path.Combine(PathOf("first"), "last.safetensors");

        var (code, output, error) = Run([.. common, "--out", PathOf("second"), "--resume", last]);
        Assert.True(code == 0, error);
        string words = Words(output);
        Assert.Contains($"Test accuracy (best epoch {bestEpoch}, 100 images)", words);
        Assert.Contains($"Wrote {Path.Combine(PathOf("second"), "best.safetensors")}, {Path.Combine(PathOf("second"), "last.safetensors")}, " +
            $"{Path.Combine(PathOf("second"), "metrics.csv")}, {Path.Combine(PathOf("second"), "training.png")}", words);
        Assert.True(ConvKit.Training.Checkpoint.IsOfEpoch(Path.Combine(PathOf("second"), "best.safetensors"), bestEpoch));
        var again = RunJson([.. common, "--out", PathOf("second-json"), "--resume", last]);
        Assert.Equal(first.GetProperty("test_accuracy").GetDouble(), again.GetProperty("test_accuracy").GetDouble(), 12);

        File.Delete(Path.Combine(PathOf("first"), "best.safetensors"));
        (code, output, error) = Run([.. common, "--out", PathOf("third"), "--resume", last]);
        Assert.True(code == 0, error);
        words = Words(output);
        Assert.Contains("Test accuracy (last epoch 2, 100 images)", words);
        Assert.Contains($"the best epoch ({bestEpoch}) was saved in the folder this run was resumed from, which no longer has it", words);
        Assert.DoesNotContain("best.safetensors", words);
        Assert.Contains($"Wrote {Path.Combine(PathOf("third"), "last.safetensors")}, ", words);
        Assert.False(File.Exists(Path.Combine(PathOf("third"), "best.safetensors")));
    }

    [Fact]
    public void LeNet5GetsMnistSizedImagesCentredIn32By32()
    {
        string runs = PathOf("lenet");
        RunJson("train", "lenet5", "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--epochs", "1", "--limit", "64",
            "--threads", "1", "--out", runs);
        string checkpoint = Path.Combine(runs, "best.safetensors");
        var metadata = ConvKit.IO.Safetensors.ReadMetadata(checkpoint);
        Assert.Equal("[1,32,32]", metadata["input_shape"]);
        Assert.Equal("[1,28,28]", metadata["image_shape"]);
        Assert.Equal("lenet5", metadata["model"]);

        // predict feeds a 28×28 picture as training fed the dataset: centred in 32×32, then normalised.
        var test = IdxDatasets.FashionMnist(train: false, PathOf("fashion"));
        var (image, _) = test[3];
        string png = PathOf("sample.png");
        ImageFiles.SavePng(image, png);
        var classifier = ConvKit.Vision.Classification.Classifier.Load(checkpoint);
        var padded = new float[32 * 32];
        test.PadTo(32, 32).ReadImage(3, padded);
        classifier.Card.Preprocessing.Normalization.Apply(padded, [1, 32, 32], new Generator(0));
        float[] expected;
        using (Tensor.NoGrad()) expected = ConvKit.Ops.F.Softmax(classifier.Model.Forward(Tensor.FromArray(padded, 1, 1, 32, 32)), 1).ToArray();
        var top = RunJson("predict", checkpoint, png, "--top", "1").GetProperty("predictions")[0].GetProperty("top")[0];
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal(best, top.GetProperty("index").GetInt32());
        Assert.Equal(expected[best], top.GetProperty("probability").GetDouble(), 5);
    }

    [Fact]
    public void TrainOnAFolderOfPictures()
    {
        ImageFolderDatasetTests.WriteFolder(PathOf("photos"), ["bright", "dark", "grey"], perClass: 10);
        var train = RunJson("train", TinyModel, "--dataset", "folder:" + PathOf("photos"), "--image-size", "28", "--channels", "3",
            "--epochs", "1", "--val-split", "0.2", "--augment", "crop,flip", "--threads", "1", "--out", PathOf("photo-run"));

        Assert.Equal(JsonValueKind.Null, train.GetProperty("test_accuracy").ValueKind);
        var eval = RunJson("eval", Path.Combine(PathOf("photo-run"), "best.safetensors"), "--out", PathOf("c.png"));
        Assert.Equal("validation", eval.GetProperty("split").GetString());
        Assert.Equal(6, eval.GetProperty("images").GetInt32());
    }

    /// <summary>The --help example: small-cnn on 64×64 pictures is built for 64×64 (its linear layer takes 64·16·16), and predict rebuilds it so.</summary>
    [Fact]
    public void SmallCnnTrainsAtTheImageSizeAsked()
    {
        ImageFolderDatasetTests.WriteFolder(PathOf("photos"), ["bright", "dark"], perClass: 6, size: 80);
        string runs = PathOf("photos-run");
        var (code, output, error) = Run("train", "small-cnn", "--dataset", "folder:" + PathOf("photos"), "--image-size", "64", "--augment", "crop,flip",
            "--epochs", "1", "--batch-size", "4", "--threads", "1", "--out", runs);
        Assert.True(code == 0, error);
        Assert.Contains("Training small-cnn (", Words(output));
        Assert.Equal("[1,64,64]", ConvKit.IO.Safetensors.ReadMetadata(Path.Combine(runs, "best.safetensors"))["input_shape"]);

        var picture = PathOf("photos", "bright", "000.png");
        var top = RunJson("predict", Path.Combine(runs, "best.safetensors"), picture).GetProperty("predictions")[0].GetProperty("top");
        Assert.Equal(2, top.GetArrayLength());
    }

    /// <summary>LeNet-5's fully connected layers fit 32×32 only: asked for 64×64 it is refused in words, before a run folder is made.</summary>
    [Fact]
    public void AModelThatCannotTakeTheSizeIsRefusedBeforeTraining()
    {
        string runs = PathOf("lenet-64");
        var result = Run("train", "lenet5", "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--image-size", "64", "--out", runs);
        AssertOneLineError(result, "model 'lenet5' cannot take 1×64×64 pictures");
        Assert.Contains("it is made for 32×32", result.Error);
        Assert.False(Directory.Exists(runs));
    }

    /// <summary>The course's example: a vertical edge between a bright and a dark half shows up only along the edge.</summary>
    [Fact]
    public void ConvFindsASyntheticVerticalEdgeOnlyAlongTheEdge()
    {
        const int height = 8, width = 12, edge = 6; // columns < 6 are bright
        var image = new float[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < edge; x++) image[y * width + x] = 1f;
        string input = PathOf("halves.png"), output = PathOf("edges.png");
        ImageFiles.SavePng(Tensor.FromArray(image, height, width), input);

        var result = RunJson("conv", input, "--filter", "vertical", "-o", output);

        Assert.Equal([height - 2, width - 2], result.GetProperty("output_size").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(3, result.GetProperty("max_response").GetDouble(), 5); // three bright rows minus three dark ones
        using var edges = SKBitmap.Decode(output);
        Assert.Equal((width - 2, height - 2), (edges.Width, edges.Height));
        for (int y = 0; y < edges.Height; y++)
            for (int x = 0; x < edges.Width; x++)
            {
                bool windowStraddlesTheEdge = x < edge && x + 2 >= edge; // the 3×3 window covers columns x..x+2
                Assert.Equal(windowStraddlesTheEdge ? (byte)255 : (byte)0, edges.GetPixel(x, y).Red);
            }
    }

    [Fact]
    public void ConvWithSamePaddingAndStrideFollowsTheOutputSizeFormula()
    {
        string input = PathOf("flat.png");
        ImageFiles.SavePng(Tensor.Full([9, 11], 0.5f), input);
        var result = RunJson("conv", input, "--filter", "1 2 1 0 0 0 -1 -2 -1", "--padding", "same", "--stride", "2", "-o", PathOf("o.png"));
        // ⌊(n + 2p − f) / s⌋ + 1 with p = 1, f = 3, s = 2
        Assert.Equal([(9 + 2 - 3) / 2 + 1, (11 + 2 - 3) / 2 + 1], result.GetProperty("output_size").EnumerateArray().Select(v => v.GetInt32()));
        AssertPng(PathOf("o.png"), 6, 5);
    }

    [Fact]
    public void MissingDatasetIsOneLine() =>
        AssertOneLineError(Run("train", TinyModel, "--dataset", "folder:" + PathOf("no-such-folder")), "does not exist");

    [Fact]
    public void MissingIdxFilesSayWhereTheyWereLookedFor()
    {
        // The standard place is moved to an empty folder, so the test does not depend on what this machine has installed.
        Environment.SetEnvironmentVariable("CONVKIT_DATASETS", PathOf("standard"));
        try
        {
            Directory.CreateDirectory(PathOf("mine"));
            var result = Run("train", TinyModel, "--dataset", "fashion-mnist", "--data", PathOf("mine"));
            AssertOneLineError(result, "apt-get install dataset-fashion-mnist");
            Assert.Contains(PathOf("mine"), result.Error);
            Assert.Contains(PathOf("standard", "fashion-mnist"), result.Error);
            AssertOneLineError(Run("train", TinyModel, "--dataset", "mnist"), "MNIST not found");
        }
        finally { Environment.SetEnvironmentVariable("CONVKIT_DATASETS", null); }
        AssertOneLineError(Run("eval", PathOf("none.safetensors")), "does not exist");
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 8, 1, 0, 0, 0, 10, 1, 2, 3 }, "truncated")]
    [InlineData(new byte[] { 9, 9, 8, 1, 0, 0, 0, 1, 1 }, "wrong magic number")]
    public void CorruptIdxFilesAreOneLine(byte[] labels, string problem)
    {
        string data = WriteFashionMnist();
        File.Delete(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
        File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), labels);
        AssertOneLineError(Run("train", TinyModel, "--dataset", "fashion-mnist", "--data", data), problem);
    }

    [Fact]
    public void UnreadableImagesAreOneLine()
    {
        File.WriteAllText(PathOf("fake.png"), "not a png");
        AssertOneLineError(Run("conv", PathOf("fake.png"), "-o", PathOf("x.png")), "cannot read image");
        AssertOneLineError(Run("conv", PathOf("absent.png"), "-o", PathOf("x.png")), "does not exist");
    }

    /// <summary>Files named wrongly are said in the user's words: a folder where a file is wanted, a folder as -o, -o into a folder not yet made.</summary>
    [Fact]
    public void FileMistakesAreSaidInTheUsersWords()
    {
        string picture = PathOf("halves.png"), folder = Directory.CreateDirectory(PathOf("pictures")).FullName;
        ImageFiles.SavePng(Tensor.Full([8, 8], 0.5f), picture);

        AssertOneLineError(Run("conv", folder, "-o", PathOf("x.png")), $"image '{folder}' is a folder, not a file");
        AssertOneLineError(Run("predict", folder, picture), $"checkpoint '{folder}' is a folder, not a file");
        AssertOneLineError(Run("conv", picture, "-o", folder), $"the picture to write, '{folder}', is a folder; name a file, e.g. '{Path.Combine(folder, "picture.png")}'");
        AssertOneLineError(Run("conv", picture, "-o", PathOf("edges.bmp")), "'.bmp' is not a format ConvKit writes; end its name in .png, .jpg or .webp");
        AssertOneLineError(Run("export", "lenet5", "-o", folder), "the ONNX file to write");

        string nested = PathOf("not", "yet", "edges.png");
        var (code, output, error) = Run("conv", picture, "-o", nested);
        Assert.True(code == 0, error);
        Assert.Contains($"wrote {nested}", Words(output));
        using var written = SKBitmap.Decode(nested);
        Assert.Equal((6, 6), (written.Width, written.Height));
    }

    /// <summary>-o picks the format by the file's extension: JPEG bytes under .jpg, WebP under .webp, PNG under .png.</summary>
    [Theory]
    [InlineData("edges.jpg", new byte[] { 0xFF, 0xD8, 0xFF })]
    [InlineData("edges.JPEG", new byte[] { 0xFF, 0xD8, 0xFF })]
    [InlineData("edges.webp", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F' })]
    [InlineData("edges.png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })]
    public void OutputPicturesAreWrittenInTheFormatTheirNameAsks(string name, byte[] magic)
    {
        string picture = PathOf("halves.png");
        ImageFiles.SavePng(Tensor.Full([8, 8], 0.5f), picture);
        RunJson("conv", picture, "-o", PathOf(name));
        Assert.Equal(magic, File.ReadAllBytes(PathOf(name))[..magic.Length]);
        using var decoded = SKBitmap.Decode(PathOf(name));
        Assert.Equal((6, 6), (decoded.Width, decoded.Height));
    }

    /// <summary>One unreadable picture among several: the others are classified, the bad one is named on standard error, the exit code says something failed.</summary>
    [Fact]
    public void PredictReportsAnUnreadablePictureAndStillClassifiesTheOthers()
    {
        string runs = PathOf("run");
        RunJson("train", TinyModel, "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--epochs", "1", "--limit", "64", "--threads", "1", "--out", runs);
        string checkpoint = Path.Combine(runs, "best.safetensors"), good = PathOf("good.png"), other = PathOf("other.png"), bad = PathOf("bad.png");
        ImageFiles.SavePng(Tensor.Full([28, 28], 0.2f), good);
        ImageFiles.SavePng(Tensor.Full([28, 28], 0.7f), other);
        File.WriteAllText(bad, "not a picture");

        var (code, output, error) = Run("predict", checkpoint, good, bad, other, "--top", "1");
        Assert.Equal(1, code);
        string words = Words(output);
        Assert.Contains(good, words);
        Assert.Contains(other, words);
        Assert.DoesNotContain(bad, words);
        Assert.Equal($"convkit: cannot read image '{bad}': not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt.", error.Trim());

        (code, output, error) = Run("predict", checkpoint, good, bad, "--json", "--top", "1");
        Assert.Equal(1, code);
        var predictions = JsonDocument.Parse(output).RootElement.GetProperty("predictions");
        Assert.Equal(1, predictions[0].GetProperty("top").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, predictions[0].GetProperty("error").ValueKind);
        Assert.Contains("cannot read image", predictions[1].GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, predictions[1].GetProperty("top").ValueKind);
    }

    /// <summary>A --data folder that is not there is an error naming it, not a quiet read of the system's copy.</summary>
    [Fact]
    public void ADataFolderThatDoesNotExistIsAnError()
    {
        string nowhere = PathOf("nowhere");
        AssertOneLineError(Run("train", TinyModel, "--dataset", "fashion-mnist", "--data", nowhere), $"Fashion-MNIST: the data folder '{nowhere}' does not exist.");
        AssertOneLineError(Run("train", TinyModel, "--dataset", "mnist", "--data", nowhere), $"MNIST: the data folder '{nowhere}' does not exist.");
    }

    /// <summary>Settings a resumed run takes from its checkpoint are named in a warning when given, and the run keeps its own.</summary>
    [Fact]
    public void ResumeWarnsAboutTheSettingsItKeeps()
    {
        string data = WriteFashionMnist(), runs = PathOf("resume");
        string[] common = ["train", TinyModel, "--dataset", "fashion-mnist", "--data", data, "--threads", "1", "--out", runs, "--limit", "64"];
        RunJson([.. common, "--epochs", "1"]);
        string last = Path.Combine(runs, "last.safetensors");

        var (code, _, error) = Run([.. common, "--epochs", "2", "--resume", last, "--lr", "0.5", "--batch-size", "8", "--json"]);
        Assert.Equal(0, code);
        Assert.Equal("convkit: warning: --batch-size 8 (the run's: 64), --lr 0.5 (the run's: 0.001) ignored: a resumed run keeps the settings it started with; " +
            "only --epochs, --out and --threads apply. Start a new run without --resume to change them.", error.Trim());
        var resumed = ConvKit.Training.Checkpoint.Load(last);
        Assert.Equal((2, 0.001, 64), (resumed.Epoch, resumed.Options.LearningRate, resumed.Options.BatchSize));

        // The same values as the run's (here --limit 64, and --lr 0.001 typed out) are no reason for a warning.
        (code, _, error) = Run([.. common, "--epochs", "3", "--resume", last, "--lr", "0.001", "--json"]);
        Assert.Equal((0, ""), (code, error));
        AssertOneLineError(Run([.. common, "--epochs", "1", "--resume", last]), $"--epochs 1 is fewer than the 3 epochs checkpoint '{last}' has already trained");
    }

    /// <summary>Messages name the options the user typed and kinds of values, never the library's types.</summary>
    [Theory]
    [InlineData("--batch-size", "0", "--batch-size must be at least 1, not 0.")]
    [InlineData("--epochs", "0", "--epochs must be at least 1, not 0.")]
    [InlineData("--lr", "0", "--lr must be a positive number, not 0.")]
    [InlineData("--lr", "fast", "Cannot parse argument 'fast' for option '--lr' as a number.")]
    [InlineData("--limit", "some", "Cannot parse argument 'some' for option '--limit' as a whole number.")]
    [InlineData("--weight-decay", "-1", "--weight-decay must be a number ≥ 0, not -1.")]
    public void MessagesNameTheOptionsNotTheLibrarysTypes(string option, string value, string expected)
    {
        var result = Run("train", TinyModel, "--dataset", "fashion-mnist", "--data", WriteFashionMnist(), "--out", PathOf("r"), option, value);
        AssertOneLineError(result, expected);
        foreach (string internalName in new[] { "System.", "TrainingOptions", "Trainer.", "Parameter '" })
            Assert.DoesNotContain(internalName, result.Error);
    }

    /// <summary>Ctrl+C's message says what is kept: the finished epochs and the batches of the one in progress.</summary>
    [Fact]
    public void AStoppedRunSaysItsProgressIsSaved()
    {
        var data = IdxDatasets.FashionMnist(train: true, WriteFashionMnist()).Take(64);
        foreach (int stopAt in new[] { 2, 4 })
        {
            ConvKit.Training.Trainer trainer;
            using (Generator.Use(new Generator(0)))
                trainer = new ConvKit.Training.Trainer(ModelZoo.Create(TinyModel), new ConvKit.Training.TrainingOptions
                {
                    Epochs = 3, BatchSize = 16, CheckpointDirectory = PathOf($"stop-{stopAt}"),
                });
            using var stop = new CancellationTokenSource();
            trainer.BatchCompleted += progress => { if (progress.Batch == stopAt) stop.Cancel(); };
            var result = trainer.Fit(data, null, stop.Token);
            Assert.True(result.Interrupted);
            string expected = stopAt == 2 ? "Stopped during epoch 1/3, after 2 of its batches" : "Stopped after epoch 1/3";
            Assert.Equal($"{expected}: nothing is lost, the run so far is saved in {result.LastCheckpoint}.",
                Spectre.Console.Markup.Remove(ConvKit.Cli.Commands.RunFolder.StoppedLine(trainer, result.LastCheckpoint!)));
        }
    }

    [Fact]
    public void UnknownModelIsOneLine() =>
        AssertOneLineError(Run("train", "no-such-net", "--dataset", "fashion-mnist", "--data", WriteFashionMnist()), "unknown model 'no-such-net'");

    [Theory]
    [InlineData("train", TinyModel, "--dataset", "mnist", "--epochs", "ten")]
    [InlineData("train", TinyModel, "--dataset", "mnist", "--lr", "fast")]
    [InlineData("conv", "a.png", "-o", "b.png", "--stride", "x")]
    [InlineData("predict", "a.safetensors", "b.png", "--top", "1.5")]
    public void NonNumericOptionsAreUsageErrors(params string[] args)
    {
        var result = Run(args);
        AssertOneLineError(result, "Cannot parse argument");
        Assert.Equal(2, result.Code);
    }

    [Theory]
    [InlineData("--filter", "1,2,3", "needs 9 numbers, got 3")]
    [InlineData("--filter", "sharpen", "'sharpen' is not a number")]
    [InlineData("--padding", "full", "full")]
    public void BadConvOptionsAreOneLine(string option, string value, string message)
    {
        ImageFiles.SavePng(Tensor.Zeros(5, 5), PathOf("z.png"));
        AssertOneLineError(Run("conv", PathOf("z.png"), "-o", PathOf("o.png"), option, value), message);
    }

    /// <summary>No command, or a misspelt one: the word is named, the nearest command suggested, and help pointed to as the user types it.</summary>
    [Theory]
    [InlineData(new string[0], "convkit: no command given; the commands are {commands} (see 'convkit --help').")]
    [InlineData(new[] { "trian", "lenet5" }, "convkit: 'trian' is not a convkit command; did you mean 'train'? (see 'convkit --help')")]
    [InlineData(new[] { "exprot", "lenet5", "-o", "x.onnx" }, "convkit: 'exprot' is not a convkit command; did you mean 'export'? (see 'convkit --help')")]
    [InlineData(new[] { "seg" }, "convkit: 'seg' is not a convkit command; did you mean 'segment'? (see 'convkit --help')")]
    [InlineData(new[] { "onnx", "rnu", "model.onnx" }, "convkit: 'rnu' is not a convkit onnx command; did you mean 'run'? (see 'convkit onnx --help')")]
    [InlineData(new[] { "onnx" }, "convkit: 'convkit onnx' needs one of its commands; the commands are info, run (see 'convkit onnx --help').")]
    [InlineData(new[] { "xyzzy" }, "convkit: 'xyzzy' is not a convkit command; the commands are {commands} (see 'convkit --help').")]
    [InlineData(new[] { "segment", "train", "unet-small" }, "convkit: Option '--dataset' is required. (see 'convkit segment train --help')")]
    public void NoCommandOrATypoNamesTheWordAndTheNearestCommand(string[] args, string expected)
    {
        // {commands}: every command convkit has, in the order it lists them.
        expected = expected.Replace("{commands}", string.Join(", ", Program.CreateRoot().Subcommands.Select(c => c.Name)));
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal(expected, error.TrimEnd());
        Assert.DoesNotContain("ConvKit.Cli", error);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("predict")]
    [InlineData("conv")]
    public void EveryCommandHasHelpWithExamples(string command)
    {
        var (code, output, _) = Run(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains($"convkit {command}", output);
        Assert.Contains("Examples:", output);
        Assert.Contains("--json", output);
    }

    static void AssertPng(string path, int width, int height)
    {
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(path)[..4]);
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var pixels = Enumerable.Range(0, 50).Select(i => bitmap.GetPixel(i * 7919 % width, i * 104729 % height)).Distinct().Count();
        Assert.True(pixels > 1, $"{path} is a single colour");
    }
}
