using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>The detector: pictures of any size, channel checks, checkpoints (the anchors travel in them) and their task.</summary>
public sealed class DetectorTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-detector-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static ModelCard Card(string task = ModelCard.Detection) => new()
    {
        Model = "yolo-small", Arguments = new ModelArguments(1, 3), Classes = ["a", "b", "c"],
        Preprocessing = new ImagePreprocessing { InputShape = [1, 128, 128], Mean = [0.2f], Std = [0.5f] }, Task = task,
    };

    /// <summary>A yolo-small whose objectness bias is raised, so that an untrained model still scores boxes above 0.25.</summary>
    static YoloV2 Model(int seed)
    {
        using var seeded = Generator.Use(new Generator(seed));
        var model = new YoloV2(numClasses: 3, inChannels: 1);
        var bias = model.StateDict()["head.bias"];
        var values = bias.ToArray();
        for (int b = 0; b < 5; b++) values[b * 8 + 4] = 3;
        bias.CopyFrom(Tensor.FromArray(values, values.Length));
        return model;
    }

    [Fact]
    public void APictureOfAnySizeIsPaddedAndItsBoxesStayInside()
    {
        var model = Model(1);
        var detector = new Detector(model, Card());
        var picture = Tensor.Rand([1, 50, 75], 3);
        var options = new DetectionOptions(ScoreThreshold: 0.25f);
        var detections = detector.Detect(picture, options);

        Assert.NotEmpty(detections);
        Assert.All(detections, d => Assert.True(d.X1 >= 0 && d.Y1 >= 0 && d.X2 <= 75 && d.Y2 <= 50 && d.X1 <= d.X2 && d.Y1 <= d.Y2, $"{d} leaves the 75×50 picture"));
        Assert.True(detections.Zip(detections.Skip(1)).All(p => p.First.Score >= p.Second.Score), "not sorted by score");
        Assert.Contains(detections, d => d.X2 == 75 || d.Y2 == 50);   // some box was clipped at the picture's edge, not the padded one

        // By hand: normalise, pad to 64 × 80 (multiples of 16) at the bottom and right, decode clipped to 50 × 75.
        var padded = F.Pad(((picture - 0.2f) / 0.5f).Unsqueeze(0), [0, 5, 0, 14]);
        Tensor output;
        using (Tensor.NoGrad()) output = model.Eval().Forward(padded);
        Assert.Equal(YoloDecoder.Decode(output, model.Anchors, 16, options, new Size2(50, 75))[0], detections);
    }

    [Fact]
    public void AWrongChannelCountIsAClearError()
    {
        var detector = new Detector(Model(1), Card());
        var error = Assert.Throws<ArgumentException>(() => detector.Detect(Tensor.Rand([3, 32, 32], 1)));
        Assert.Contains("1 channel", error.Message);
        Assert.Contains("[3, 32, 32]", error.Message);
        Assert.Throws<ArgumentException>(() => new Detector(new ConvKit.Vision.Models.SmallCnn(3, 1), Card()));
    }

    [Fact]
    public void ACheckpointCarriesTheAnchorsAndAnotherTasksCheckpointIsRefused()
    {
        var model = Model(2);
        model.SetAnchors([(10, 12), (20, 20), (30, 18), (44, 60), (90, 80)]);
        string path = Path.Combine(directory, "best.safetensors");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = Card().ToMetadata() }.Save(path);

        var loaded = Detector.Load(path);
        Assert.Equal(model.Anchors.ToArray(), ((IDetectionModel)loaded.Model).Anchors.ToArray());
        Assert.Equal(ModelCard.Detection, loaded.Card.Task);
        var picture = Tensor.Rand([1, 64, 64], 4);
        Assert.Equal(new Detector(model, Card()).Detect(picture), loaded.Detect(picture));

        string segmentation = Path.Combine(directory, "unet.safetensors");
        new Checkpoint { ModelState = model.StateDict(), Options = new TrainingOptions(), Metadata = Card(ModelCard.Segmentation).ToMetadata() }.Save(segmentation);
        var refused = Assert.Throws<ArgumentException>(() => Detector.Load(segmentation));
        Assert.Contains($"'{segmentation}' holds a segmentation model (yolo-small), not a detection model", refused.Message);
    }

    [Fact]
    public void ADivergedModelsNaNOrInfiniteOutputIsNamedNotPassedToNms()
    {
        // NaN compares false with the score threshold, so it would slip through to NMS and fail there under another name.
        var model = Model(3);
        var bias = model.StateDict()["head.bias"];
        var values = bias.ToArray();
        values[1 * 8 + 4] = float.NaN;   // anchor 1's objectness: channel 12 of every cell
        bias.CopyFrom(Tensor.FromArray(values, values.Length));
        var error = Assert.Throws<ArgumentException>(() => new Detector(model, Card()).Detect(Tensor.Rand([1, 32, 48], 5)));
        Assert.Contains("YoloDecoder.Decode: the network's output is NaN at picture 0, channel 12, cell (row 0, column 0) of its [1, 40, 2, 3] output", error.Message);
        Assert.Contains("diverged", error.Message);

        // The decoder itself, an infinity in the second picture's last value.
        var output = Tensor.Zeros(2, 5 * 8, 2, 2);
        var raw = output.ToArray();
        raw[^1] = float.PositiveInfinity;
        var infinite = Assert.Throws<ArgumentException>(() => YoloDecoder.Decode(Tensor.FromArray(raw, 2, 40, 2, 2), model.Anchors, 16));
        Assert.Contains("is Infinity at picture 1, channel 39, cell (row 1, column 1)", infinite.Message);
    }

    [Fact]
    public void TheAnchorsAreCheckedWhenSet()
    {
        var model = new YoloV2(numClasses: 2);
        Assert.Equal(YoloV2.DefaultAnchors.SelectMany(a => new[] { a.Width, a.Height }), model.Anchors.ToArray());
        Assert.Contains("3 anchors given, but the head predicts 5", Assert.Throws<ArgumentException>(() => model.SetAnchors([(1, 1), (2, 2), (3, 3)])).Message);
        Assert.Contains("anchor 1 is 0×4", Assert.Throws<ArgumentException>(() => model.SetAnchors([(1, 1), (0, 4), (3, 3), (4, 4), (5, 5)])).Message);
        Assert.Contains("divisible by 16", Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(1, 1, 40, 48))).Message);
        // The objectness bias starts at the 1 % prior.
        var bias = model.StateDict()["head.bias"].ToArray();
        Assert.All(Enumerable.Range(0, 5), b => Assert.Equal(YoloV2.ObjectnessPriorBias, bias[b * 7 + 4]));
    }
}
