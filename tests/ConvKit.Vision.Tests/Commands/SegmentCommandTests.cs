using System.Text.Json;
using static ConvKit.Vision.Tests.Cli.CliTests;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// <c>convkit segment</c> end to end on a small fashion-scenes set (made from the real Fashion-MNIST): train, draw
/// overlays for pictures of any size, evaluate; and bad input — a folder without its class list, an empty folder, a
/// mask of another size, a class value outside the set, a classification checkpoint — ends with one clear line.
/// </summary>
public sealed class SegmentCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-segment-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void TrainsDrawsOverlaysAndEvaluates()
    {
        string scenes = Path.Combine(directory, "scenes");
        FashionScenes.WriteSegmentation(scenes, new FashionScenesOptions { TrainScenes = 48, TestScenes = 16 });
        string run = Path.Combine(directory, "run");
        var train = RunTrainingJson("segment", "train", "unet-small", "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "1",
            "--batch-size", "16", "--threads", "1", "--out", run);
        Assert.Equal(1, train.GetProperty("best_epoch").GetInt32());
        double miou = train.GetProperty("test_miou").GetDouble();
        Assert.InRange(miou, 0, 1);
        string checkpoint = Path.Combine(run, "best.safetensors");
        Assert.True(File.Exists(checkpoint));
        Assert.True(File.Exists(Path.Combine(run, "training.png")));

        // A picture whose sides are not multiples of 16: padded, and the mask cropped back to its size.
        string picture = Path.Combine(directory, "odd.png");
        ImageFiles.SavePng(ImageFiles.Load(Path.Combine(scenes, "test", "images", Directory.GetFiles(Path.Combine(scenes, "test", "images"))[0]), 1)
            .Narrow(1, 0, 50).Narrow(2, 0, 61), picture);
        var predicted = RunJson("segment", checkpoint, picture, "-o", Path.Combine(directory, "overlays"));
        var result = predicted.GetProperty("results")[0];
        Assert.Equal((61, 50), (result.GetProperty("width").GetInt32(), result.GetProperty("height").GetInt32()));
        using (var overlay = SKBitmap.Decode(result.GetProperty("overlay").GetString()!)) Assert.True(overlay.Height >= 250);
        var mask = ImageFiles.Load(result.GetProperty("mask").GetString()!, 1);
        Assert.Equal([1, 50, 61], mask.Shape);
        Assert.All(mask.ToArray(), v => Assert.InRange(MathF.Round(v * 255), 0, 10));

        var eval = RunJson("segment", "eval", checkpoint, "--data", scenes);
        Assert.Equal(16, eval.GetProperty("pictures").GetInt32());
        Assert.Equal(11, eval.GetProperty("per_class").GetArrayLength());
        // The evaluation's mIoU is the training's validation mIoU of the same weights on the same test set.
        Assert.Equal(miou, eval.GetProperty("miou").GetDouble(), 6);
        Assert.True(File.Exists(eval.GetProperty("confusion_png").GetString()));
    }

    /// <summary>A folder with two 16×16 pictures and their masks, and its class list.</summary>
    string Folder(Action<string>? spoil = null)
    {
        string root = Path.Combine(directory, "folder" + Guid.NewGuid().ToString("N")[..6]);
        foreach (var split in new[] { "train", "test" })
        {
            Directory.CreateDirectory(Path.Combine(root, split, "images"));
            Directory.CreateDirectory(Path.Combine(root, split, "masks"));
            for (int i = 0; i < 2; i++)
            {
                ImageFiles.SavePng(Tensor.Rand([1, 16, 16], i), Path.Combine(root, split, "images", $"{i}.png"));
                ImageFiles.SavePng(Tensor.Zeros([16, 16]) + 1f / 255, Path.Combine(root, split, "masks", $"{i}.png"));
            }
        }
        File.WriteAllLines(Path.Combine(root, "classes.txt"), ["background", "thing"]);
        spoil?.Invoke(root);
        return root;
    }

    [Fact]
    public void BadDataEndsWithOneLineNamingTheProblem()
    {
        var cases = new (string Dataset, string Message)[]
        {
            ("folder:" + Folder(root => File.Delete(Path.Combine(root, "classes.txt"))), "classes.txt' does not exist"),
            ("folder:" + Folder(root => { foreach (var f in Directory.GetFiles(Path.Combine(root, "train", "masks"))) File.Delete(f); }), "the training set is empty"),
            ("folder:" + Folder(root => ImageFiles.SavePng(Tensor.Zeros([12, 16]), Path.Combine(root, "train", "masks", "0.png"))), "0.png"),
            ("folder:" + Folder(root => ImageFiles.SavePng(Tensor.Zeros([16, 16]) + 7f / 255, Path.Combine(root, "train", "masks", "1.png"))), "1.png"),
            ("pascal-voc", "unknown segmentation dataset 'pascal-voc'"),
        };
        foreach (var (dataset, message) in cases)
        {
            var (code, output, error) = Run("segment", "train", "unet-small", "--dataset", dataset, "--epochs", "1", "--out", Path.Combine(directory, "bad"));
            Assert.True(code != 0, $"{dataset} trained");
            Assert.StartsWith("convkit: ", error);
            Assert.Contains(message, error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
        var (notSegmentation, _, modelError) = Run("segment", "train", "lenet5", "--dataset", "folder:" + Folder(), "--epochs", "1", "--out", Path.Combine(directory, "bad"));
        Assert.NotEqual(0, notSegmentation);
        Assert.Contains("'lenet5' is not a segmentation model", modelError);
    }
}
