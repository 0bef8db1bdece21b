using ConvKit.NN;
using ConvKit.Vision.Style;

namespace ConvKit.Onnx.Tests;

/// <summary>
/// The packaged ResNet-18 as style transfer's network: friendly block names reach the right values at any picture size
/// that is a multiple of 32, the preprocessing is the package's (BGR, 0–255, less the mean), and a feature plan runs
/// only the nodes its values need.
/// </summary>
public class StyleNetworkTests
{
    static readonly Lazy<OnnxModule> AnySize = new(() => OnnxModel.Load(Reference.ResNet18Path, new OnnxImportOptions { AnyPictureSize = true }));

    [Fact]
    public void BlockNamesGiveEachStagesActivationAtAnyMultipleOf32()
    {
        var network = StyleNetwork.ResNet18(AnySize.Value);
        var picture = Tensor.Rand([1, 3, 96, 160], 5);
        string[] layers = ["relu", "layer1", "layer2.0", "layer3", "layer4"];
        TensorDict features;
        using (Tensor.NoGrad()) features = network.Features(picture, layers);
        Assert.Equal([1, 64, 48, 80], features["relu"].Shape);
        Assert.Equal([1, 64, 24, 40], features["layer1"].Shape);
        Assert.Equal([1, 128, 12, 20], features["layer2.0"].Shape);
        Assert.Equal([1, 256, 6, 10], features["layer3"].Shape);
        Assert.Equal([1, 512, 3, 5], features["layer4"].Shape);

        // The same values as the graph's own names on the package's preprocessing, done by hand.
        var x = picture.ToArray();
        int plane = 96 * 160;
        float[] meanBgr = [103.0626f, 115.9029f, 123.1516f];
        var bgr = new float[x.Length];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) bgr[c * plane + i] = x[(2 - c) * plane + i] * 255f - meanBgr[c];
        TensorDict direct;
        using (Tensor.NoGrad()) direct = new FeatureExtractor(AnySize.Value, "ReLU347_Output_0").Forward(Tensor.FromArray(bgr, 1, 3, 96, 160));
        var expected = direct["ReLU347_Output_0"].ToArray();
        var actual = features["layer3"].ToArray();
        double scale = expected.Max(Math.Abs);
        Assert.True(expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second)) <= 1e-5 * scale, "layer3 differs from ReLU347_Output_0");
    }

    [Fact]
    public void AFeaturePlanRunsOnlyTheNodesItsValuesNeed()
    {
        // At 32×32 layer4 is 1×1, too small for the final 7×7 average pool: reading layer1 must not run that pool.
        var network = StyleNetwork.ResNet18(AnySize.Value);
        using (Tensor.NoGrad())
        {
            Assert.Equal([1, 64, 8, 8], network.Features(Tensor.Rand([1, 3, 32, 32], 1), ["layer1"])["layer1"].Shape);
            var whole = Assert.Throws<ArgumentException>(() => AnySize.Value.Forward(Tensor.Rand([1, 3, 32, 32], 1)));
            Assert.Contains("AveragePool", whole.Message);
        }
    }

    [Fact]
    public void SizesTheGraphCannotTakeAreRefusedClearly()
    {
        var network = StyleNetwork.ResNet18(AnySize.Value);
        var odd = Assert.Throws<ArgumentException>(() => network.Features(Tensor.Rand([1, 3, 100, 160], 1), ["layer1"]));
        Assert.Contains("multiples of 32", odd.Message);
        Assert.Contains("160×100", odd.Message);
        // Without AnyPictureSize the graph's declared 224 × 224 holds.
        var declared = StyleNetwork.ResNet18(OnnxModel.Load(Reference.ResNet18Path));
        var error = Assert.Throws<ArgumentException>(() => declared.Features(Tensor.Rand([1, 3, 96, 96], 1), ["layer1"]));
        Assert.Contains("expects shape [1, 3, 224, 224]", error.Message);
        var transfer = new StyleTransfer(network, new StyleTransferOptions { Scales = 2 });
        Assert.Equal(new Size2(192, 256), transfer.SizeFor(300, 451, 256));
        var unaligned = Assert.Throws<ArgumentException>(() => transfer.Run(Tensor.Rand([3, 96, 96], 1), Tensor.Rand([3, 64, 64], 2)));
        Assert.Contains("multiples of 64", unaligned.Message);
        Assert.Contains("resize it to 128×128", unaligned.Message);
    }
}
