using ConvKit.Ops;
using ConvKit.Training;
using ConvKit.Vision.Models;
using ConvKit.Vision.Segmentation;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Segmentation;

/// <summary>
/// The FCN on ResNet-18, the segmenter's padding and cropping for sizes the model cannot take, the task a model card
/// carries, and the overlay.
/// </summary>
public sealed class SegmenterTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-segmenter-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static ModelCard Card(int channels, int classes) => new()
    {
        Model = "unet-small", Arguments = new ModelArguments(channels, classes), Classes = [.. Enumerable.Range(0, classes).Select(c => $"class {c}")],
        Preprocessing = new ImagePreprocessing { InputShape = [channels, 64, 64], Mean = [0.2f], Std = [0.3f] }, Task = ModelCard.Segmentation,
    };

    [Fact]
    public void FcnScoresEveryPixelAndStartsFromBilinearUpSampling()
    {
        var fcn = new FcnResNet(numClasses: 5, inChannels: 3);
        Assert.Equal([2, 5, 64, 96], fcn.Forward(Tensor.Rand([2, 3, 64, 96], 1)).Shape);
        var names = fcn.StateDict().Keys.ToList();
        Assert.Contains("backbone.layer4.1.conv2.weight", names);
        Assert.Contains("score_layer3.weight", names);
        Assert.Contains("upsample16.weight", names);
        var error = Assert.Throws<ArgumentException>(() => fcn.Forward(Tensor.Rand([1, 3, 48, 64], 1)));
        Assert.Contains("divisible by 32", error.Message);

        // The ×2 transposed convolution as initialised interpolates: a constant map stays constant away from the border,
        // and a class never leaks into another class's channel.
        var upsample = (NN.ConvTranspose2d)fcn.NamedModules().Single(m => m.Name == "upsample2").Module;
        var constant = Tensor.Zeros([1, 5, 4, 4]) + Tensor.FromArray([1f, 2, 3, 4, 5], 1, 5, 1, 1);
        var up = upsample.Forward(constant);
        Assert.Equal([1, 5, 8, 8], up.Shape);
        var values = up.ToArray();
        for (int c = 0; c < 5; c++)
            for (int y = 1; y < 7; y++)
                for (int x = 1; x < 7; x++) Assert.Equal(c + 1, values[(c * 8 + y) * 8 + x], 5);
    }

    [Fact]
    public void PicturesOfAnySizeArePaddedAndTheMaskCroppedBack()
    {
        var model = new UNet(numClasses: 4, inChannels: 1, depth: 2, width: 4);
        var segmenter = new Segmenter(model, Card(1, 4) with { Model = "unet" });
        var picture = Tensor.Rand([1, 30, 45], 7);
        var mask = segmenter.PredictMask(picture);
        Assert.Equal([30, 45], mask.Shape);

        // By hand: normalise, pad to 32 × 48 (multiples of 2² = 4) at the bottom and right, score, crop, arg-max.
        var padded = F.Pad(((picture - 0.2f) / 0.3f).Unsqueeze(0), [0, 3, 0, 2]);
        Tensor expected;
        using (Tensor.NoGrad()) expected = F.ArgMax(model.Eval().Forward(padded).Narrow(2, 0, 30).Narrow(3, 0, 45), 1).Squeeze(0);
        Assert.Equal(expected.ToArray(), mask.ToArray());

        var wrongChannels = Assert.Throws<ArgumentException>(() => segmenter.PredictMask(Tensor.Rand([3, 30, 45], 1)));
        Assert.Contains("1 channel", wrongChannels.Message);
        Assert.Throws<ArgumentException>(() => new Segmenter(ResNet.ResNetMnist(), Card(1, 10)));
    }

    [Fact]
    public void TheCardCarriesItsTaskAndEachLoaderRefusesTheOther()
    {
        var card = Card(1, 11);
        var metadata = card.ToMetadata();
        Assert.Equal("segmentation", metadata["task"]);
        Assert.Equal(ModelCard.Segmentation, ModelCard.FromMetadata(metadata, "x").Task);
        // A classification card writes no task entry (as cards always were) and reads back as classification.
        Assert.False((card with { Task = ModelCard.Classification }).ToMetadata().ContainsKey("task"));
        metadata.Remove("task");
        Assert.Equal(ModelCard.Classification, ModelCard.FromMetadata(metadata, "x").Task);
        metadata["task"] = "faces";
        Assert.Contains("'task' is 'faces'", Assert.Throws<InvalidDataException>(() => ModelCard.FromMetadata(metadata, "x")).Message);

        var refused = Assert.Throws<ArgumentException>(() => card.RequireTask(ModelCard.Classification, "runs/a/best.safetensors"));
        Assert.Contains("'runs/a/best.safetensors' holds a segmentation model (unet-small), not a classification model", refused.Message);
    }

    [Fact]
    public void TheOverlayTintsLabelledPixelsAndListsTheClassesFound()
    {
        var picture = Tensor.Zeros([1, 32, 32]) + 0.5f;
        var labels = new float[32 * 32];
        for (int i = 0; i < 16 * 32; i++) labels[i] = 2;   // top half class 2, bottom half background
        string path = Path.Combine(directory, "overlay.png");
        SegmentationOverlay.Save(picture, Tensor.FromArray(labels, 32, 32), ["background", "one", "two"], path);

        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal(256, bitmap.Height);   // 32 × 8, enlarged for reading
        Assert.True(bitmap.Width > 256, "no legend beside the picture");
        var top = bitmap.GetPixel(100, 10);
        var bottom = bitmap.GetPixel(100, 250);
        Assert.Equal(new SKColor(128, 128, 128), bottom);   // background untinted
        var colour = SegmentationOverlay.Colours[1];
        Assert.Equal((byte)MathF.Round((0.45f * 0.5f + 0.55f * colour.Red / 255f) * 255), top.Red);

        var error = Assert.Throws<ArgumentException>(() => SegmentationOverlay.Save(picture, Tensor.Zeros([16, 32]), ["a"], path));
        Assert.Contains("[16, 32]", error.Message);
        var outside = Assert.Throws<ArgumentException>(() => SegmentationOverlay.Save(picture, Tensor.Zeros([32, 32]) + 5, ["a", "b"], path));
        Assert.Contains("mask value 5", outside.Message);
    }
}
