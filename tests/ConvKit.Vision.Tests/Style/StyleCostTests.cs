using System.Text.Json;
using ConvKit.IO;
using ConvKit.Tests;
using ConvKit.Vision.Style;
using ConvKit.Vision.Tests.Models;
using Xunit.Abstractions;

namespace ConvKit.Vision.Tests.Style;

/// <summary>
/// The Gram matrix, the content, style and total-variation costs and their gradients against PyTorch
/// (tools/fixtures/gen_style.py): on small random activations, and as the whole objective through torchvision's VGG-19
/// features (closed-form weights, loaded from a safetensors file under torchvision's names) back to the picture.
/// </summary>
public class StyleCostTests(ITestOutputHelper output)
{
    static readonly JsonElement Root = Fixtures.Load("style.json");
    static readonly JsonElement Costs = Root.GetProperty("costs");

    static Tensor Input(string name) =>
        Tensor.FromArray(Fixtures.Floats(Costs.GetProperty(name).GetProperty("values")), Fixtures.Ints(Costs.GetProperty(name).GetProperty("shape")));

    static void Scalar(double expected, Tensor actual, string what) =>
        Assert.True(Math.Abs(actual.Item() - expected) <= 1e-5 * Math.Abs(expected), $"{what}: {actual.Item()}, expected {expected}");

    [Fact]
    public void GramMatrixMatchesPyTorch()
    {
        var gram = StyleCosts.GramMatrix(Input("a"));
        Assert.Equal([5, 5], gram.Shape);
        Close.All(Fixtures.Doubles(Costs.GetProperty("gram_a")), gram.ToArray(), 1e-5, 1e-5, "gram");
        // (nC, nH, nW) is one picture's activation too.
        Assert.Equal(gram.ToArray(), StyleCosts.GramMatrix(Input("a").Squeeze(0)).ToArray());
    }

    [Fact]
    public void ContentCostAndItsGradientMatchPyTorch()
    {
        var generated = Input("b").RequireGrad();
        var cost = StyleCosts.ContentCost(Input("a"), generated);
        Scalar(Costs.GetProperty("content_ab").GetDouble(), cost, "content cost");
        cost.Backward();
        Close.All(Fixtures.Doubles(Costs.GetProperty("content_ab_grad_b")), generated.Grad!.ToArray(), 1e-5, 1e-7, "content gradient");
    }

    [Fact]
    public void LayerStyleCostAndItsGradientMatchPyTorch()
    {
        var generated = Input("b").RequireGrad();
        var cost = StyleCosts.LayerStyleCost(StyleCosts.GramMatrix(Input("s")), generated);
        Scalar(Costs.GetProperty("layer_style_sb").GetDouble(), cost, "layer style cost");
        cost.Backward();
        Close.All(Fixtures.Doubles(Costs.GetProperty("layer_style_sb_grad_b")), generated.Grad!.ToArray(), 1e-5, 1e-7, "style gradient");
    }

    [Fact]
    public void TotalVariationAndItsGradientMatchPyTorch()
    {
        var picture = Input("x").RequireGrad();
        var cost = StyleCosts.TotalVariation(picture);
        Scalar(Costs.GetProperty("tv_x").GetDouble(), cost, "total variation");
        cost.Backward();
        Close.All(Fixtures.Doubles(Costs.GetProperty("tv_x_grad")), picture.Grad!.ToArray(), 1e-5, 1e-7, "total-variation gradient");
    }

    /// <summary>VGG-19's features with the closed-form weights, saved under torchvision's names with two of its classifier's entries.</summary>
    internal static string PatternVgg19File()
    {
        string path = Path.Combine(Path.GetTempPath(), $"convkit-vgg19-pattern-{Environment.ProcessId}.safetensors");
        if (!File.Exists(path))
        {
            var state = TorchPattern.StateDict("vgg19", name => name.StartsWith("features.") || name is "classifier.0.bias" or "classifier.6.bias");
            Safetensors.Save(path, state);
        }
        return path;
    }

    internal static Tensor Picture(int key)
    {
        var shape = Fixtures.Ints(Root.GetProperty("vgg19").GetProperty("picture"));
        return TorchPattern.Pattern(shape, (uint)key, s => (s + 1) / 2);
    }

    [Fact]
    public void WholeObjectiveThroughVgg19AndItsPictureGradientMatchPyTorch()
    {
        var fixture = Root.GetProperty("vgg19");
        var network = StyleNetwork.Vgg19(PatternVgg19File());
        string contentLayer = fixture.GetProperty("content_layer").GetString()!;
        var styleLayers = fixture.GetProperty("style_layers").EnumerateArray().Select(l => (Layer: l[0].GetString()!, Weight: l[1].GetDouble())).ToList();
        string[] layers = [contentLayer, .. styleLayers.Select(l => l.Layer)];

        var contentTarget = network.Features(Picture(fixture.GetProperty("content_key").GetInt32()), [contentLayer])[contentLayer].Detach();
        var style = network.Features(Picture(fixture.GetProperty("style_key").GetInt32()), layers);
        var generated = Picture(fixture.GetProperty("generated_key").GetInt32()).RequireGrad();
        var activations = network.Features(generated, layers);

        var content = StyleCosts.ContentCost(contentTarget, activations[contentLayer]);
        var styleCost = StyleCosts.StyleCost(styleLayers.Select(l => (StyleCosts.GramMatrix(style[l.Layer]).Detach(), activations[l.Layer], l.Weight)));
        var variation = StyleCosts.TotalVariation(generated);
        var total = content * (float)fixture.GetProperty("alpha").GetDouble() + styleCost * (float)fixture.GetProperty("beta").GetDouble()
            + variation * (float)fixture.GetProperty("gamma").GetDouble();
        foreach (var (name, value) in new[] { ("content", content), ("style", styleCost), ("tv", variation), ("total", total) })
        {
            double expected = fixture.GetProperty(name).GetDouble();
            output.WriteLine($"{name}: {value.Item():G9} against PyTorch's {expected:G9}");
            Assert.True(Math.Abs(value.Item() - expected) <= 1e-4 * Math.Abs(expected), $"{name}: {value.Item()}, expected {expected}");
        }

        total.Backward();
        var expectedGradient = Fixtures.Doubles(fixture.GetProperty("gradient"));
        var gradient = generated.Grad!.ToArray();
        double scale = expectedGradient.Max(Math.Abs);
        double error = expectedGradient.Select((e, i) => Math.Abs(gradient[i] - e)).Max();
        output.WriteLine($"picture gradient: max error {error / scale:G3} of scale {scale:G4}");
        // float32 through 30 layers and squared Gram differences against float64: within 1e-4 of the gradient's scale.
        Close.All(expectedGradient, gradient, 0, 1e-4 * scale, "picture gradient");
    }

    [Fact]
    public void ShapeMismatchesNameTheCostAndBothShapes()
    {
        var content = Assert.Throws<ArgumentException>(() => StyleCosts.ContentCost(Tensor.Zeros([1, 4, 5, 5]), Tensor.Zeros([1, 4, 5, 6])));
        Assert.Contains("ContentCost", content.Message);
        Assert.Contains("[1, 4, 5, 5]", content.Message);
        Assert.Contains("[1, 4, 5, 6]", content.Message);
        var style = Assert.Throws<ArgumentException>(() => StyleCosts.LayerStyleCost(Tensor.Zeros([3, 3]), Tensor.Zeros([1, 4, 5, 5])));
        Assert.Contains("[3, 3]", style.Message);
        Assert.Contains("[4, 4]", style.Message);
        var batch = Assert.Throws<ArgumentException>(() => StyleCosts.GramMatrix(Tensor.Zeros([2, 4, 5, 5])));
        Assert.Contains("GramMatrix", batch.Message);
        Assert.Contains("[2, 4, 5, 5]", batch.Message);
        Assert.Throws<ArgumentException>(() => StyleCosts.StyleCost([]));
        Assert.Throws<ArgumentException>(() => StyleCosts.TotalVariation(Tensor.Zeros([1, 3, 1, 8])));
    }
}
