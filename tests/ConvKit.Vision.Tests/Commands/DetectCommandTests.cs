using System.Text.Json;
using static ConvKit.Vision.Tests.Cli.CliTests;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Training;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Models;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// <c>convkit detect</c> end to end on a small fashion-scenes detection set (made from the real Fashion-MNIST): train
/// (anchors by k-means first), resume, draw the boxes found in pictures of any size, evaluate; and bad input — another
/// task's checkpoint, a missing picture, a classification model, a bad dataset or size — ends with one clear line.
/// </summary>
public sealed class DetectCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-detect-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    string Scenes(int train = 16, int test = 8)
    {
        string scenes = Path.Combine(directory, "scenes");
        if (!File.Exists(Path.Combine(scenes, "classes.txt")))
            FashionScenes.WriteDetection(scenes, FashionScenesOptions.Detection with { TrainScenes = train, TestScenes = test });
        return scenes;
    }

    [Fact]
    public void TrainsWithKMeansAnchorsResumesDrawsAndEvaluates()
    {
        string scenes = Scenes();
        string run = Path.Combine(directory, "run");
        var train = RunTrainingJson("detect", "train", "yolo-small", "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "1",
            "--batch-size", "8", "--threads", "1", "--out", run);
        Assert.Equal(1, train.GetProperty("best_epoch").GetInt32());
        Assert.Equal("test", train.GetProperty("scored_on").GetString());
        double map50 = train.GetProperty("map50").GetDouble();
        Assert.InRange(map50, 0, 1);
        Assert.InRange(train.GetProperty("map").GetDouble(), 0, map50);
        string checkpoint = Path.Combine(run, "best.safetensors");
        Assert.True(File.Exists(checkpoint));
        Assert.True(File.Exists(Path.Combine(run, "training.png")));
        Assert.Contains("val_map50", File.ReadAllLines(Path.Combine(run, "metrics.csv"))[0]);

        // The anchors are k-means (k = 5, seed 0) of the training boxes' sizes, and travel in the checkpoint.
        var boxes = new CocoDetectionDataset(Path.Combine(scenes, "train", "images"), Path.Combine(scenes, "train", "annotations.json"), channels: 1);
        var sizes = Enumerable.Range(0, boxes.Count).SelectMany(i =>
        {
            var b = boxes[i].Boxes!;
            return Enumerable.Range(0, b.Count).Select(k => (b[k][2], b[k][3])); // COCO's xywh
        }).ToList();
        var expected = AnchorBoxes.KMeans(sizes, 5, seed: 0).SelectMany(a => new[] { a.Width, a.Height }).ToArray();
        var printed = train.GetProperty("anchors").EnumerateArray().SelectMany(a => a.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        Assert.Equal(expected, printed);
        var detector = Detector.Load(checkpoint);
        Assert.Equal(expected, ((IDetectionModel)detector.Model).Anchors.ToArray());
        Assert.Equal(IdxDatasets.FashionMnistClasses, detector.Card.Classes);
        Assert.Equal(ModelCard.Detection, detector.Card.Task);

        // A picture whose sides are not multiples of 16, and a colour one (made grey for the grey model).
        string testPicture = Path.Combine(scenes, "test", "images", "00000.png");
        string odd = Path.Combine(directory, "odd.png"), colour = Path.Combine(directory, "colour.png");
        ImageFiles.SavePng(ImageFiles.Load(testPicture, 1).Narrow(1, 0, 100).Narrow(2, 0, 75), odd);
        ImageFiles.SavePng(ImageFiles.Load(testPicture, 3), colour);
        var predicted = RunJson("detect", checkpoint, odd, colour, "-o", Path.Combine(directory, "found"), "--score", "0");
        var results = predicted.GetProperty("results");
        Assert.Equal(2, results.GetArrayLength());
        var first = results[0];
        Assert.Equal((75, 100), (first.GetProperty("width").GetInt32(), first.GetProperty("height").GetInt32()));
        using (var drawing = SKBitmap.Decode(first.GetProperty("drawing").GetString()!))
            Assert.Equal((75 * 6, 100 * 6), (drawing.Width, drawing.Height)); // enlarged by ⌈512 / 100⌉
        var found = first.GetProperty("detections").EnumerateArray().ToArray();
        Assert.InRange(found.Length, 1, 100); // a score threshold of 0 keeps up to MaxDetections
        var scores = found.Select(d => d.GetProperty("score").GetSingle()).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);
        foreach (var d in found)
        {
            Assert.Equal(IdxDatasets.FashionMnistClasses[d.GetProperty("class_index").GetInt32()], d.GetProperty("class").GetString());
            var box = d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.True(box[0] >= 0 && box[1] >= 0 && box[2] <= 75 && box[3] <= 100 && box[0] <= box[2] && box[1] <= box[3], string.Join(", ", box));
        }
        // The colour picture, made grey, finds what the grey one does.
        var grey = detector.Detect(ImageFiles.Load(testPicture, 1), new DetectionOptions(0f));
        Assert.Equal(grey.Select(d => d.Score), results[1].GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("score").GetSingle()));

        // A 256×256 picture, the scene with every pixel doubled, is letterboxed back to exactly the scene: the same
        // detections, their boxes twice as large.
        var scene = ImageFiles.Load(testPicture, 1).ToArray();
        var doubled = new float[256 * 256];
        for (int p = 0; p < doubled.Length; p++) doubled[p] = scene[p / 256 / 2 * 128 + p % 256 / 2];
        string large = Path.Combine(directory, "large.png");
        ImageFiles.SavePng(Tensor.FromArray(doubled, 1, 256, 256), large);
        var onLarge = RunJson("detect", checkpoint, large, "-o", Path.Combine(directory, "found"), "--score", "0").GetProperty("results")[0].GetProperty("detections");
        Assert.Equal(grey.Count, onLarge.GetArrayLength());
        for (int k = 0; k < grey.Count; k++)
        {
            Assert.Equal(grey[k].Score, onLarge[k].GetProperty("score").GetSingle(), 1e-5f);
            Assert.Equal(new[] { grey[k].X1, grey[k].Y1, grey[k].X2, grey[k].Y2 }.Select(v => 2 * v),
                onLarge[k].GetProperty("box").EnumerateArray().Select(v => v.GetSingle()), (x, y) => MathF.Abs(x - y) < 1e-3f);
        }

        var eval = RunJson("detect", "eval", checkpoint, "--data", scenes, "-o", Path.Combine(directory, "eval"));
        Assert.Equal(8, eval.GetProperty("pictures").GetInt32());
        Assert.Equal(10, eval.GetProperty("per_class").GetArrayLength());
        Assert.Equal(boxes.Count > 0 ? eval.GetProperty("objects").GetInt32() : 0, eval.GetProperty("per_class").EnumerateArray().Sum(c => c.GetProperty("objects").GetInt32()));
        // The evaluation's AP50 is the training's validation map50 of the same weights on the same test set.
        Assert.Equal(map50, eval.GetProperty("ap50").GetDouble(), 6);
        foreach (string name in new[] { "ap", "ap75", "voc_map_11_point", "voc_map_all_points" }) Assert.InRange(eval.GetProperty(name).GetDouble(), 0, 1);
        Assert.Equal(Path.Combine(directory, "eval", "precision-recall.png"), eval.GetProperty("precision_recall_png").GetString());
        Assert.True(File.Exists(eval.GetProperty("precision_recall_png").GetString()));

        // For people: the tables.
        var (evalCode, evalText, evalError) = Run("detect", "eval", checkpoint, "--data", scenes, "-o", Path.Combine(directory, "eval"));
        Assert.True(evalCode == 0, evalError);
        Assert.Contains("AP@[.5:.95]", evalText);
        Assert.Contains("VOC mAP@0.5: 11-point", evalText);
        Assert.Contains("Ankle boot", evalText);
        var (predictCode, predictText, predictError) = Run("detect", checkpoint, odd, "-o", Path.Combine(directory, "found"));
        Assert.True(predictCode == 0, predictError);
        Assert.Contains("odd-detections.png", predictText);

        // Resuming to 2 epochs keeps the anchors (no new k-means) and continues the history.
        var resumed = RunJson("detect", "train", "yolo-small", "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "2",
            "--threads", "1", "--out", run, "--resume", Path.Combine(run, "last.safetensors"));
        Assert.Equal(2, resumed.GetProperty("epochs").GetArrayLength());
        Assert.Equal(printed, resumed.GetProperty("anchors").EnumerateArray().SelectMany(a => a.EnumerateArray().Select(v => v.GetSingle())).ToArray());
    }

    [Fact]
    public void PicturesOfMixedSizesAreLetterboxedAndAnchorsFitTheLetterboxedBoxes()
    {
        // The annotated fixture: 64×48, 48×64 and 40×40 colour pictures, a training set without a test set.
        string fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "annotated");
        string images = Path.Combine(fixture, "images"), json = Path.Combine(fixture, "coco", "instances.json");
        var train = RunJson("detect", "train", "yolo-small", "--dataset", $"coco:{images},{json}", "--channels", "3", "--image-size", "96",
            "--epochs", "1", "--batch-size", "4", "--threads", "1", "--out", Path.Combine(directory, "run"));
        Assert.Equal("training", train.GetProperty("scored_on").GetString());
        Assert.InRange(train.GetProperty("map50").GetDouble(), 0, 1);
        // Letterboxed to 96: the longer side 64 (or 40) becomes 96, so a box grows by 96 / longer side.
        var set = new CocoDetectionDataset(images, json);
        var sizes = Enumerable.Range(0, set.Count).SelectMany(i =>
        {
            var b = set[i].Boxes!;
            float scale = 96f / Math.Max(b.CanvasHeight, b.CanvasWidth);
            return Enumerable.Range(0, b.Count).Select(k => (b[k][2] * scale, b[k][3] * scale));
        }).ToList();
        var expected = AnchorBoxes.KMeans(sizes, 5, seed: 0).SelectMany(a => new[] { a.Width, a.Height });
        var printed = train.GetProperty("anchors").EnumerateArray().SelectMany(a => a.EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal(expected, printed, (x, y) => MathF.Abs(x - y) < 1e-3f);
        var detector = Detector.Load(train.GetProperty("checkpoint").GetString()!);
        Assert.Equal([3, 96, 96], detector.Card.Preprocessing.InputShape);
        Assert.Equal(["cat", "dog", "bird"], detector.Card.Classes);
        Assert.Contains("has no test set", Run("detect", "eval", train.GetProperty("checkpoint").GetString()!).Error);
    }

    [Fact]
    public void ADivergedCheckpointAndAFileThatIsNotAPictureEndWithOneLine()
    {
        // A detection checkpoint whose weights hold NaN (a diverged run), and an untrained one for the bad pictures.
        var card = new ModelCard
        {
            Model = "yolo-small", Arguments = new ModelArguments(1, 10), Classes = [.. IdxDatasets.FashionMnistClasses],
            Preprocessing = new ImagePreprocessing { InputShape = [1, 128, 128], Mean = [0.2f], Std = [0.3f] }, Task = ModelCard.Detection,
        };
        var model = ModelZoo.Create(card);
        string good = Path.Combine(directory, "untrained.safetensors"), diverged = Path.Combine(directory, "diverged.safetensors");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(good);
        var weight = model.StateDict()["head.weight"];
        weight.CopyFrom(Tensor.Full([.. weight.Shape], float.NaN));
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(diverged);

        string picture = Path.Combine(directory, "scene.png");
        ImageFiles.Save(Tensor.Rand([1, 128, 128], 7), picture);
        string notAPicture = Path.Combine(directory, "notes.png"), empty = Path.Combine(directory, "empty.png");
        File.WriteAllText(notAPicture, "not a picture");
        File.WriteAllBytes(empty, []);
        string drawn = Path.Combine(directory, "drawn");
        var cases = new (string[] Args, string Message)[]
        {
            (["detect", diverged, picture, "-o", drawn], "YoloDecoder.Decode: the network's output is NaN at picture 0"),
            (["detect", good, notAPicture, "-o", drawn], $"cannot read image '{notAPicture}': not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt"),
            (["detect", good, empty, "-o", drawn], $"cannot read image '{empty}': not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, error) = Run(args);
            Assert.True(code != 0, string.Join(' ', args));
            Assert.StartsWith("convkit: ", error);
            Assert.Contains(message, error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
        // The untrained checkpoint itself works on a real picture: the failures above are the inputs'.
        Assert.Equal(0, Run("detect", good, picture, "-o", drawn, "--score", "0.9").Code);
    }

    [Fact]
    public void BadInputEndsWithOneLineNamingTheProblem()
    {
        string scenes = Scenes(train: 4, test: 2);
        string segmentation = Path.Combine(directory, "unet.safetensors");
        var card = new ModelCard
        {
            Model = "unet-small", Arguments = new ModelArguments(1, 11), Classes = [.. FashionScenes.SegmentationClasses],
            Preprocessing = new ImagePreprocessing { InputShape = [1, 64, 64], Mean = [0.2f], Std = [0.3f] }, Task = ModelCard.Segmentation,
        };
        new Checkpoint { ModelState = ModelZoo.Create(card).StateDict(), Options = new TrainingOptions(), Metadata = card.ToMetadata() }.Save(segmentation);
        string picture = Path.Combine(scenes, "test", "images", "00000.png");
        string bad = Path.Combine(directory, "bad");
        var cases = new (string[] Args, string Message)[]
        {
            (["detect", segmentation, picture, "-o", bad], "holds a segmentation model (unet-small), not a detection model"),
            (["detect", "eval", segmentation, "--data", scenes], "holds a segmentation model (unet-small), not a detection model"),
            (["detect", "train", "lenet5", "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "1", "--out", bad], "'lenet5' is not a detection model"),
            (["detect", "train", "yolo-small", "--dataset", "pascal:x", "--epochs", "1", "--out", bad], "unknown detection dataset 'pascal:x'"),
            (["detect", "train", "yolo-small", "--dataset", "fashion-scenes", "--data", scenes, "--image-size", "100", "--out", bad], "multiple of yolo-small's stride 16, not 100"),
            (["detect", "train", "yolo-small", "--dataset", "fashion-scenes", "--data", scenes, "--resume", segmentation, "--out", bad], "not a detection model"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, error) = Run(args);
            Assert.True(code != 0, string.Join(' ', args));
            Assert.StartsWith("convkit: ", error);
            Assert.Contains(message, error);
            Assert.Single(error.TrimEnd().Split('\n'));
        }

        // A missing picture is named before anything is drawn.
        string run = Path.Combine(directory, "run");
        var train = RunJson("detect", "train", "yolo-small", "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "1", "--batch-size", "4", "--threads", "1", "--out", run);
        string missing = Path.Combine(directory, "no-such.png");
        var (missingCode, _, missingError) = Run("detect", train.GetProperty("checkpoint").GetString()!, picture, missing, "-o", Path.Combine(directory, "drawn"));
        Assert.Equal(1, missingCode);
        Assert.Contains($"picture '{missing}' does not exist", missingError);
        Assert.False(Directory.Exists(Path.Combine(directory, "drawn")));
        var (scoreCode, _, scoreError) = Run("detect", train.GetProperty("checkpoint").GetString()!, picture, "--score", "1.5");
        Assert.NotEqual(0, scoreCode);
        Assert.Contains("ScoreThreshold must be in [0, 1], got 1.5", scoreError);
    }
}
