using ConvKit.NN;
using ConvKit.Tests;
using ConvKit.Vision.Models;
using Xunit.Abstractions;

namespace ConvKit.Vision.Tests.Models;

/// <summary>
/// FeatureExtractor on the zoo's ResNet-18 against torchvision with the same closed-form weights
/// (tools/fixtures/gen_features.py): intermediate activations, and the gradient of a scalar made from two of them with
/// respect to the input picture.
/// </summary>
public class FeatureExtractorTests(ITestOutputHelper output)
{
    static readonly System.Text.Json.JsonElement fixture = Fixtures.Load("features.json");
    const double Tolerance = 1e-5;

    static Module PatternResNet18()
    {
        var model = ModelZoo.Create("resnet18");
        model.LoadStateDict(TorchPattern.StateDict("resnet18"), strict: true);
        model.Eval();
        return model;
    }

    [Fact]
    public void ActivationsAndInputGradientMatchPyTorch()
    {
        var features = fixture.GetProperty("features").EnumerateArray().ToList();
        var extractor = new FeatureExtractor(PatternResNet18(), [.. features.Select(f => f.GetProperty("layer").GetString()!)]);
        var input = TorchPattern.Input(Fixtures.Ints(fixture.GetProperty("input"))).RequireGrad();
        var activations = extractor.Forward(input);

        Assert.Equal(extractor.Layers, activations.Keys);
        int stride = fixture.GetProperty("stride").GetInt32();
        foreach (var feature in features)
        {
            string layer = feature.GetProperty("layer").GetString()!;
            var actual = activations[layer];
            Assert.Equal(Fixtures.Ints(feature.GetProperty("shape")), actual.Shape.ToArray());
            var values = actual.ToArray();
            var expected = Fixtures.Doubles(feature.GetProperty("every_stride"));
            double scale = expected.Max(Math.Abs);
            output.WriteLine($"{layer}: max error {expected.Select((e, i) => Math.Abs(values[i * stride] - e)).Max() / scale:G3} of scale {scale:G4}");
            // float32 through up to 13 layers against PyTorch's float64 differs by about 5e-7 of the scale.
            Close.All(expected, [.. values.Where((_, i) => i % stride == 0)], 0, Tolerance * scale, $"{layer} values");
            double sumOfSquares = values.Sum(v => (double)v * v), expectedSquares = feature.GetProperty("sum_of_squares").GetDouble();
            Assert.True(Math.Abs(sumOfSquares - expectedSquares) <= Tolerance * expectedSquares, $"{layer}: sum of squares {sumOfSquares}, expected {expectedSquares}");
        }

        var layer3 = activations["layer3"];
        var weights = TorchPattern.Pattern([.. layer3.Shape], (uint)fixture.GetProperty("weight_key").GetInt32(), s => s);
        var loss = activations["layer2"].Square().Sum() * (1f / activations["layer2"].Numel) + (layer3 * weights).Sum();
        double expectedLoss = fixture.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(loss.Item() - expectedLoss) <= Tolerance * Math.Abs(expectedLoss), $"loss {loss.Item()}, expected {expectedLoss}");
        loss.Backward();

        var gradient = input.Grad!.ToArray();
        var expectedGradient = Fixtures.Doubles(fixture.GetProperty("gradient"));
        double gradientScale = expectedGradient.Max(Math.Abs);
        output.WriteLine($"input gradient: max error {expectedGradient.Select((e, i) => Math.Abs(gradient[i] - e)).Max() / gradientScale:G3} of scale {gradientScale:G4}");
        // Each element within 1e-5 of the gradient's scale (max |g|; about 5e-7 measured); the gradient shifted by one
        // pixel is off by far more than that, so a gradient reaching the wrong pixels cannot pass.
        Close.All(expectedGradient, gradient, 0, Tolerance * gradientScale, "input gradient");
        double wrong = expectedGradient.Zip(ShiftedByOne(gradient)).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(wrong > 100 * Tolerance * gradientScale, $"the tolerance does not tell neighbouring gradients apart ({wrong:G3})");
    }

    static IEnumerable<float> ShiftedByOne(float[] values) => values.Skip(1).Append(values[0]);

    [Fact]
    public void UnknownLayerNameThrowsListingKnownLayers()
    {
        var model = ResNet.ResNet18(numClasses: 10);
        var error = Assert.Throws<ArgumentException>(() => new FeatureExtractor(model, "layer1", "layer9.0"));
        Assert.Contains("'layer9.0'", error.Message);
        Assert.Contains("ResNet", error.Message);
        Assert.Contains("layer1.0.conv1", error.Message);
    }
}
