using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Vision.Style;
using ConvKit.Vision.Tests.Models;

namespace ConvKit.Vision.Tests.Style;

/// <summary>
/// The optimisation loop on small pictures through VGG-19 with closed-form weights: the costs fall, pixels stay in
/// [0, 1], pictures of other sizes are covered and cropped; and bad input — unknown layers, another network's weights,
/// pictures of the wrong shape — fails with clear errors.
/// </summary>
public class StyleTransferTests
{
    static readonly Lazy<StyleNetwork> Vgg19 = new(() => StyleNetwork.Vgg19(StyleCostTests.PatternVgg19File()));

    static Tensor Picture(int key) => StyleCostTests.Picture(key).Squeeze(0);

    static List<StyleStep> Run(StyleTransferOptions options, Tensor? style = null, Tensor? content = null)
    {
        var steps = new List<StyleStep>();
        var result = new StyleTransfer(Vgg19.Value, options).Run(content ?? Picture(5001), style ?? Picture(5002), steps.Add);
        Assert.Equal([3, 32, 32], result.Shape);
        var values = result.ToArray();
        Assert.True(values.All(v => v >= 0 && v <= 1), "the result has pixels outside [0, 1]");
        return steps;
    }

    [Theory]
    [InlineData(StyleOptimizer.Adam)]
    [InlineData(StyleOptimizer.Lbfgs)]
    public void CostsFallFromTheContentPicture(StyleOptimizer optimizer)
    {
        var steps = Run(new StyleTransferOptions { Steps = 30, Optimizer = optimizer, StyleWeight = 100, TotalVariationWeight = 1 });
        Assert.True(steps.Count >= 30);
        Assert.Equal(Enumerable.Range(1, steps.Count), steps.Select(s => s.Step));
        // Starting from the content picture, the content cost starts at 0 and the style cost is what there is to lower.
        Assert.Equal(0, steps[0].Content, 6);
        Assert.True(steps[^1].Style < steps[0].Style / 2, $"{optimizer}: style cost {steps[0].Style:G4} → {steps[^1].Style:G4}");
        Assert.True(steps[^1].Total < steps[0].Total, $"{optimizer}: total {steps[0].Total:G4} → {steps[^1].Total:G4}");
        foreach (var step in steps)
            Assert.Equal(step.Total, 1 * step.Content + 100 * step.Style + 1 * step.TotalVariation, step.Total * 1e-5);
    }

    [Fact]
    public void NoiseStartAndSeveralScalesRunEachScale()
    {
        var steps = Run(new StyleTransferOptions { Steps = 5, Optimizer = StyleOptimizer.Adam, Start = StyleStart.Noise, Scales = 2 });
        Assert.Equal([0, 1], steps.Select(s => s.Scale).Distinct());
        Assert.Equal(5, steps.Count(s => s.Scale == 0));
        Assert.True(steps[0].Content > 0, "a noise start is far from the content picture");
    }

    [Fact]
    public void StylePictureOfAnotherSizeAndAspectIsCoveredAndCropped()
    {
        var wide = Tensor.Rand([3, 20, 70], 7);
        var steps = Run(new StyleTransferOptions { Steps = 2, Optimizer = StyleOptimizer.Adam }, style: wide);
        Assert.Equal(2, steps.Count);
    }

    [Fact]
    public void UnknownLayerListsTheValidNames()
    {
        var error = Assert.Throws<ArgumentException>(() => new StyleTransfer(Vgg19.Value, new StyleTransferOptions { ContentLayer = "conv9_9" }));
        Assert.Contains("'conv9_9'", error.Message);
        Assert.Contains("relu4_2", error.Message);
        Assert.Contains("pool5", error.Message);
        var style = Assert.Throws<ArgumentException>(() => new StyleTransfer(Vgg19.Value, new StyleTransferOptions { StyleLayers = [("relu1_1", 1), ("layer3", 1)] }));
        Assert.Contains("'layer3'", style.Message);
        // The model's own names are accepted too.
        Assert.Equal("features.22", Vgg19.Value.Resolve("relu4_2"));
        Assert.Equal("features.22", Vgg19.Value.Resolve("features.22"));
    }

    [Fact]
    public void PicturesOfTheWrongShapeAreRefused()
    {
        var transfer = new StyleTransfer(Vgg19.Value, new StyleTransferOptions { Steps = 1 });
        var grey = Assert.Throws<ArgumentException>(() => transfer.Run(Tensor.Zeros([1, 32, 32]), Picture(5002)));
        Assert.Contains("content picture must be RGB", grey.Message);
        Assert.Contains("[1, 32, 32]", grey.Message);
        var tiny = Assert.Throws<ArgumentException>(() => transfer.Run(Picture(5001), Tensor.Zeros([3, 8, 40])));
        Assert.Contains("style picture is 40×8", tiny.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StyleTransfer(Vgg19.Value, new StyleTransferOptions { Steps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StyleTransfer(Vgg19.Value, new StyleTransferOptions { StyleWeight = double.NaN }));
    }

    [Fact]
    public void WeightsOfAnotherNetworkAreRefusedNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"convkit-vgg16-pattern-{Environment.ProcessId}.safetensors");
        Safetensors.Save(path, TorchPattern.StateDict("vgg16", name => name.StartsWith("features.")));
        try
        {
            var error = Assert.Throws<ArgumentException>(() => StyleNetwork.Vgg19(path));
            Assert.Contains(path, error.Message);
            Assert.Contains("VGG-19", error.Message);
            Assert.Contains("features.", error.Message);
        }
        finally
        {
            File.Delete(path);
        }

        var notResNet = Assert.Throws<ArgumentException>(() => StyleNetwork.ResNet18(new Sequential(new ReLU())));
        Assert.Contains("packaged ResNet-18", notResNet.Message);
    }
}
