using System.Text.Json;
using ConvKit.Vision.Imaging;
using static ConvKit.Vision.Tests.Cli.CliTests;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// <c>convkit faces train triplet|siamese</c> end to end on a small picture folder (three identities drawn as bright
/// quadrants): checkpoints, charts and the verification report; a resumed run; and bad input — more identities per
/// batch than the data has, K below 2, no validation split — ends with one clear line.
/// </summary>
public sealed class FacesTrainCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-facetrain-").FullName;
    readonly int threads = ConvKit.Backends.Cpu.Threading.NumThreads; // --threads sets it process-wide

    public void Dispose()
    {
        ConvKit.Backends.Cpu.Threading.NumThreads = threads;
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>DIR/train and DIR/test, one subfolder per identity of 28×28 grey pictures: a bright quadrant over noise.</summary>
    string Folder()
    {
        string root = Path.Combine(directory, "identities");
        if (Directory.Exists(root)) return root;
        string[] names = ["top-left", "top-right", "bottom-left"];
        foreach (var (split, count) in new[] { ("train", 16), ("test", 8) })
            for (int identity = 0; identity < names.Length; identity++)
            {
                string folder = Path.Combine(root, split, names[identity]);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < count; i++)
                {
                    var noise = (Tensor.Rand([1, 28, 28], seed: identity * 1000 + i + (split == "test" ? 500 : 0)) * 0.3f).ToArray();
                    for (int y = 0; y < 14; y++)
                        for (int x = 0; x < 14; x++)
                            noise[(y + 14 * (identity / 2)) * 28 + x + 14 * (identity % 2)] += 0.6f;
                    ImageFiles.SavePng(Tensor.FromArray(noise, 1, 28, 28), Path.Combine(folder, $"{i}.png"));
                }
            }
        return root;
    }

    [Theory]
    [InlineData("triplet")]
    [InlineData("siamese")]
    public void TrainsReportsVerificationAndResumes(string kind)
    {
        string run = Path.Combine(directory, kind);
        string[] common = ["faces", "train", kind, "--dataset", "folder:" + Folder(), "--p", "3", "--k", "4", "--pairs", "40",
            "--val-split", "0.25", "--threads", "1", "--width", "4", "--embedding-size", "8", "--out", run];
        var first = RunTrainingJson([.. common, "--epochs", "1"]);
        var verification = first.GetProperty("verification");
        Assert.Equal(kind, verification.GetProperty("kind").GetString());
        Assert.Equal(40, verification.GetProperty("test_pairs").GetInt32());
        Assert.Equal(12, verification.GetProperty("validation_pairs").GetInt32()); // 12 validation pictures: 12 pairs at most
        Assert.InRange(verification.GetProperty("test_accuracy").GetDouble(), 0, 1);
        Assert.InRange(verification.GetProperty("test_auc").GetDouble(), 0, 1);
        Assert.Equal(kind == "triplet" ? "distance" : "probability", verification.GetProperty("threshold_unit").GetString());
        foreach (var file in new[] { "best.safetensors", "last.safetensors", "metrics.csv", "training.png", "roc.png", "embeddings.png", "verification.json" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        using (var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "verification.json"))))
            Assert.Equal(verification.GetProperty("test_accuracy").GetDouble(), saved.RootElement.GetProperty("test_accuracy").GetDouble());
        Assert.Equal(1, first.GetProperty("epochs").GetArrayLength());

        // Resumed to two epochs: the recipe comes from the checkpoint (a different --p on the command line is ignored).
        var resumed = RunJson("faces", "train", kind, "--epochs", "2", "--p", "7", "--out", run, "--resume", Path.Combine(run, "last.safetensors"), "--data", Folder());
        Assert.Equal(2, resumed.GetProperty("epochs").GetArrayLength());
        Assert.Equal(first.GetProperty("epochs")[0].GetProperty("train").GetProperty("loss").GetDouble(),
            resumed.GetProperty("epochs")[0].GetProperty("train").GetProperty("loss").GetDouble());
    }

    [Fact]
    public void BadInputEndsWithOneLineNamingTheProblem()
    {
        string data = "folder:" + Folder();
        var cases = new (string[] Arguments, string Message)[]
        {
            (["triplet", "--dataset", data, "--p", "4", "--k", "2"], "P×K = 4×2 needs 4 identities"),
            (["siamese", "--dataset", data, "--p", "2", "--k", "1"], "K (pictures per identity) must be at least 2"),
            (["triplet", "--dataset", data, "--p", "2", "--k", "20"], "at least 20 pictures"),
            (["triplet", "--dataset", data, "--val-split", "0"], "--val-split must be in (0, 1)"),
            (["siamese", "--dataset", data, "--pairs", "7"], "--pairs must be even"),
            (["triplet", "--dataset", "folder:" + Path.Combine(Folder(), "train")], "no test set"),
        };
        foreach (var (arguments, message) in cases)
        {
            var (code, _, error) = Run(["faces", "train", .. arguments, "--epochs", "1", "--out", Path.Combine(directory, "bad")]);
            Assert.Equal(1, code);
            Assert.Contains(message, error);
            Assert.Single(error.Trim().Split('\n'));
        }
        // A checkpoint of another kind of run cannot be resumed as this one.
        string run = Path.Combine(directory, "short");
        RunJson("faces", "train", "triplet", "--dataset", data, "--p", "3", "--k", "2", "--pairs", "10", "--val-split", "0.25", "--width", "4",
            "--embedding-size", "8", "--epochs", "1", "--out", run);
        var (wrongKind, _, wrongKindError) = Run("faces", "train", "siamese", "--dataset", data, "--epochs", "2", "--resume", Path.Combine(run, "last.safetensors"));
        Assert.Equal(1, wrongKind);
        Assert.Contains("trained a triplet encoder, not siamese", wrongKindError);
    }
}
