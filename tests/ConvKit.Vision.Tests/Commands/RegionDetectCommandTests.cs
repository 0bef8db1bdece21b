using static ConvKit.Vision.Tests.Cli.CliTests;
using ConvKit.Training;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// <c>convkit detect train rcnn|fast-rcnn|faster-rcnn</c>, <c>convkit detect CHECKPOINT PICTURE</c> and
/// <c>convkit detect eval</c> work for the region-based models as for yolo-small (on a small fashion-scenes set made
/// from the real Fashion-MNIST), and their checkpoints load into a <see cref="Detector"/> while another task's is refused.
/// </summary>
public sealed class RegionDetectCommandTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-region-detect-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("rcnn")]
    [InlineData("fast-rcnn")]
    [InlineData("faster-rcnn")]
    public void TrainsDetectsAndEvaluatesLikeYolo(string model)
    {
        string scenes = Path.Combine(directory, "scenes");
        FashionScenes.WriteDetection(scenes, FashionScenesOptions.Detection with { TrainScenes = 8, TestScenes = 4 });
        string run = Path.Combine(directory, "run");
        var train = RunJson("detect", "train", model, "--dataset", "fashion-scenes", "--data", scenes, "--epochs", "1",
            "--batch-size", "4", "--threads", "1", "--out", run);
        Assert.Equal("test", train.GetProperty("scored_on").GetString());
        double map50 = train.GetProperty("map50").GetDouble();
        Assert.InRange(map50, 0, 1);
        Assert.Equal(0, train.GetProperty("anchors").GetArrayLength()); // no k-means: the model proposes its own regions
        var history = train.GetProperty("epochs")[0].GetProperty("train");
        Assert.True(history.TryGetProperty("cls_loss", out _) && history.TryGetProperty("box_loss", out _));
        Assert.Equal(model == "faster-rcnn", history.TryGetProperty("rpn_obj_loss", out _));
        string checkpoint = train.GetProperty("checkpoint").GetString()!;

        var detector = Detector.Load(checkpoint);
        Assert.Equal(model, detector.Card.Model);
        Assert.IsAssignableFrom<IRegionDetectionModel>(detector.Model);
        string picture = Path.Combine(scenes, "test", "images", "00000.png");
        var found = RunJson("detect", checkpoint, picture, "-o", Path.Combine(directory, "found"), "--score", "0").GetProperty("results")[0];
        Assert.True(File.Exists(found.GetProperty("drawing").GetString()));
        foreach (var d in found.GetProperty("detections").EnumerateArray())
        {
            var box = d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.True(box[0] >= 0 && box[1] >= 0 && box[2] <= 128 && box[3] <= 128 && box[0] < box[2] && box[1] < box[3], string.Join(", ", box));
        }

        // The evaluation's AP50 is the training's validation map50 of the same weights on the same test set.
        var eval = RunJson("detect", "eval", checkpoint, "--data", scenes, "-o", Path.Combine(directory, "eval"));
        Assert.Equal(4, eval.GetProperty("pictures").GetInt32());
        Assert.Equal(map50, eval.GetProperty("ap50").GetDouble(), 6);
    }

    [Fact]
    public void ARegionDetectorsCheckpointRoundTripsAndAnotherTasksIsRefused()
    {
        using var seeded = Generator.Use(new Generator(4));
        ModelCard Card(string task) => new()
        {
            Model = "faster-rcnn", Arguments = new ModelArguments(1, 3), Classes = ["a", "b", "c"],
            Preprocessing = new ImagePreprocessing { InputShape = [1, 128, 128], Mean = [0.2f], Std = [0.3f] }, Task = task,
        };
        var model = (FasterRCnn)ModelZoo.Create(Card(ModelCard.Detection));
        string path = Path.Combine(directory, "faster.safetensors");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = Card(ModelCard.Detection).ToMetadata() }.Save(path);
        var picture = Tensor.Rand([1, 128, 128], 5);
        var options = new DetectionOptions(ScoreThreshold: 0);
        Assert.Equal(new Detector(model, Card(ModelCard.Detection)).Detect(picture, options), Detector.Load(path).Detect(picture, options));

        string classification = Path.Combine(directory, "classification.safetensors");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = Card(ModelCard.Classification).ToMetadata() }.Save(classification);
        var refused = Assert.Throws<ArgumentException>(() => Detector.Load(classification));
        Assert.Contains($"'{classification}' holds a classification model (faster-rcnn), not a detection model", refused.Message);
    }
}
