using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Tests.Models;

/// <summary>Every zoo family trains: a forward and backward pass at its designed input size reaches every parameter.</summary>
public class ForwardBackwardTests
{
    // Every zoo model with a single output (GoogLeNet and U-Net have tests of their own below): the ImageNet
    // models at 224×224 with batch 1 (2 cores), the small networks with batch 2.
    public static TheoryData<string, int> Models()
    {
        var data = new TheoryData<string, int>();
        foreach (var (name, _) in ModelZoo.Models.Where(m => m.Name is not ("googlenet" or "unet") && !Dense.Contains(m.Name) && !Detectors.Contains(m.Name) && !Localizers.Contains(m.Name) && !RegionDetectors.Contains(m.Name)))
            data.Add(name, ModelZoo.Get(name).InputSize.Height >= 224 ? 1 : 2);
        return data;
    }

    [Fact]
    public void EveryZooModelIsCovered() =>
        Assert.Equal(ModelZoo.Models.Count(), Models().Count() + 2 + Dense.Length + Detectors.Length + Localizers.Length + RegionDetectors.Length);

    /// <summary>The zoo's segmentation models other than the full-size U-Net: they score every pixel.</summary>
    static readonly string[] Dense = ["unet-small", "fcn-resnet18"];

    [Theory]
    [InlineData("unet-small")]
    [InlineData("fcn-resnet18")]
    public void SegmentationModelsScoreEveryPixelAtTheirDesignedInputAndTrain(string name)
    {
        using var seeded = Generator.Use(new Generator(5));
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        var output = model.Forward(Tensor.Randn([2, entry.InChannels, entry.InputSize.Height, entry.InputSize.Width], seed: 5));
        Assert.Equal([2, entry.NumClasses, entry.InputSize.Height, entry.InputSize.Width], output.Shape);
        output.Square().Mean().Backward();
        // The FCN keeps its backbone's classifier (fc), which a dense head never reads.
        AssertEveryParameterHasAGradient(model, except: "backbone.fc.");
    }

    /// <summary>The zoo's detection models: a grid of box predictions, not class logits.</summary>
    static readonly string[] Detectors = ["yolo-small"];

    [Theory]
    [InlineData("yolo-small")]
    public void DetectionModelsPredictAGridOfBoxesAtTheirDesignedInputAndTrain(string name)
    {
        using var seeded = Generator.Use(new Generator(6));
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        var detector = Assert.IsAssignableFrom<IDetectionModel>(model);
        var (height, width) = (entry.InputSize.Height, entry.InputSize.Width);
        var output = model.Forward(Tensor.Randn([2, entry.InChannels, height, width], seed: 6));
        int anchors = detector.Anchors.Shape[0];
        Assert.Equal([2, anchors * (5 + entry.NumClasses), height / detector.Stride, width / detector.Stride], output.Shape);

        // The loss training uses, with a box in each picture (one of them a class beyond 0), reaches every parameter.
        var boxes = new[]
        {
            new BoundingBoxes([10f, 12, 50, 40], [3], BoxFormat.Xyxy, height, width),
            new BoundingBoxes([60f, 20, 120, 100, 5, 5, 25, 30], [entry.NumClasses - 1, 0], BoxFormat.Xyxy, height, width),
        };
        new YoloLoss().Compute(output, detector.Anchors, detector.Stride, boxes).Loss.Backward();
        AssertEveryParameterHasAGradient(model);
    }

    /// <summary>The zoo's region-based detectors: their loss needs the pictures' boxes, and they detect on their own.</summary>
    static readonly string[] RegionDetectors = ["rcnn", "fast-rcnn", "faster-rcnn"];

    [Theory]
    [InlineData("rcnn")]
    [InlineData("fast-rcnn")]
    [InlineData("faster-rcnn")]
    public void RegionDetectorsTrainEveryParameterAndDetectAtTheirDesignedInput(string name)
    {
        using var seeded = Generator.Use(new Generator(9));
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        var detector = Assert.IsAssignableFrom<IRegionDetectionModel>(model);
        var (height, width) = (entry.InputSize.Height, entry.InputSize.Width);
        // Two bright items on black, as in the Fashion-MNIST scenes, so that selective search has regions to propose.
        var values = new float[2 * height * width];
        foreach (var (n, x1, y1, x2, y2) in new[] { (0, 10, 12, 50, 40), (1, 60, 20, 120, 100), (1, 5, 5, 25, 30) })
            for (int y = y1; y < y2; y++)
                for (int x = x1; x < x2; x++) values[(n * height + y) * width + x] = 0.5f + 0.4f * MathF.Sin(x * 0.3f + y * 0.2f);
        var images = Tensor.FromArray(values, 2, entry.InChannels, height, width);
        var boxes = new[]
        {
            new BoundingBoxes([10f, 12, 50, 40], [3], BoxFormat.Xyxy, height, width),
            new BoundingBoxes([60f, 20, 120, 100, 5, 5, 25, 30], [entry.NumClasses - 1, 0], BoxFormat.Xyxy, height, width),
        };
        var loss = detector.Loss(images, boxes);
        Assert.True(float.IsFinite(loss.Loss.Item()), $"{name}: loss {loss.Loss.Item()}");
        Assert.Contains("cls_loss", loss.Terms.Keys);
        Assert.Contains("box_loss", loss.Terms.Keys);
        loss.Loss.Backward();
        AssertEveryParameterHasAGradient(model);

        model.Eval();
        var found = detector.Detect(images, new DetectionOptions(ScoreThreshold: 0));
        Assert.Equal(2, found.Length);
        Assert.All(found.SelectMany(f => f), d => Assert.True(d.X1 >= 0 && d.X2 <= width && d.Y1 >= 0 && d.Y2 <= height && d.X1 < d.X2 && d.Y1 < d.Y2
            && d.Class >= 0 && d.Class < entry.NumClasses, $"{name}: {d}"));
    }

    /// <summary>The zoo's localisers: one row (pc, bx, by, bh, bw, c1..cn) per picture, not class logits.</summary>
    static readonly string[] Localizers = ["localizer-small"];

    [Theory]
    [InlineData("localizer-small")]
    public void LocalizersGiveOneTargetRowPerPictureAtTheirDesignedInputAndTrain(string name)
    {
        using var seeded = Generator.Use(new Generator(8));
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        var output = model.Forward(Tensor.Randn([2, entry.InChannels, entry.InputSize.Height, entry.InputSize.Width], seed: 8));
        Assert.Equal([2, 5 + entry.NumClasses], output.Shape);
        // The loss training uses, with an object in one picture and none in the other, reaches every parameter.
        var boxes = new[]
        {
            new BoundingBoxes([10f, 12, 50, 40], [entry.NumClasses - 1], BoxFormat.Xyxy, entry.InputSize.Height, entry.InputSize.Width),
            BoundingBoxes.Empty(entry.InputSize.Height, entry.InputSize.Width),
        };
        new LocalizationLoss().Compute(output, LocalizationTarget.Encode(boxes, entry.NumClasses)).Loss.Backward();
        AssertEveryParameterHasAGradient(model);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ForwardAndBackwardAtTheDesignedInputReachEveryParameter(string name, int batch)
    {
        using var seeded = Generator.Use(new Generator(1));   // initial weights and dropout masks
        var entry = ModelZoo.Get(name);
        var model = entry.Create(entry.InChannels, entry.NumClasses);
        var input = Tensor.Randn([batch, entry.InChannels, entry.InputSize.Height, entry.InputSize.Width], seed: 7);

        var logits = model.Forward(input);
        Assert.Equal([batch, entry.NumClasses], logits.Shape);
        F.CrossEntropy(logits, Targets(batch, entry.NumClasses)).Backward();
        AssertEveryParameterHasAGradient(model);
    }

    [Fact]
    public void GoogLeNetTrainsWithItsSideClassifiers()
    {
        using var seeded = Generator.Use(new Generator(2));
        var model = new GoogLeNet(numClasses: 10);
        var outputs = model.ForwardOutputs(Tensor.Randn([1, 3, 224, 224], seed: 7));
        Assert.Equal(["logits", "aux1", "aux2"], outputs.Keys);
        Assert.All(outputs.Values, output => Assert.Equal([1, 10], output.Shape));

        var target = Targets(1, 10);
        var loss = F.CrossEntropy(outputs["logits"], target) + 0.3f * (F.CrossEntropy(outputs["aux1"], target) + F.CrossEntropy(outputs["aux2"], target));
        loss.Backward();
        AssertEveryParameterHasAGradient(model);
    }

    [Fact]
    public void UNetTrainsAndKeepsTheImageSize()
    {
        using var seeded = Generator.Use(new Generator(3));
        var model = new UNet(numClasses: 3, inChannels: 1);
        var output = model.Forward(Tensor.Randn([1, 1, 64, 48], seed: 3));
        Assert.Equal([1, 3, 64, 48], output.Shape);
        output.Square().Mean().Backward();
        AssertEveryParameterHasAGradient(model);
    }

    static Tensor Targets(int batch, int classes) => Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (float)(i * 7 % classes)).ToArray(), batch);

    static void AssertEveryParameterHasAGradient(Module model, string? except = null)
    {
        foreach (var (name, parameter) in model.NamedParameters())
        {
            if (except != null && name.StartsWith(except, StringComparison.Ordinal)) continue;
            Assert.True(parameter.Grad != null, $"{name} has no gradient");
            var grad = parameter.Grad!.ToArray();
            Assert.True(grad.All(float.IsFinite), $"{name} has a non-finite gradient");
            Assert.True(grad.Any(g => g != 0), $"{name} has an all-zero gradient");
        }
    }
}
