using ConvKit.NN;
using ConvKit.Vision.Models;
using static ConvKit.Vision.Models.ResidualBlockKind;

namespace ConvKit.Vision.Tests.Models;

/// <summary>The course's named ideas, visible in the models' structure, and their configuration checks.</summary>
public class ArchitectureTests
{
    /// <summary>
    /// Each builder's block type and blocks per stage, as in the paper's table 1, and its parameter count as torchvision
    /// prints it (sum(p.numel() for p in torchvision.models.resnetNN().parameters())).
    /// </summary>
    [Theory]
    [InlineData(18, "BasicBlock", new[] { 2, 2, 2, 2 }, 11_689_512L)]
    [InlineData(34, "BasicBlock", new[] { 3, 4, 6, 3 }, 21_797_672L)]
    [InlineData(50, "BottleneckBlock", new[] { 3, 4, 6, 3 }, 25_557_032L)]
    [InlineData(101, "BottleneckBlock", new[] { 3, 4, 23, 3 }, 44_549_160L)]
    [InlineData(152, "BottleneckBlock", new[] { 3, 8, 36, 3 }, 60_192_808L)]
    public void ResNetBuildersDifferOnlyInBlockAndCounts(int depth, string block, int[] blocks, long parameters)
    {
        var model = depth switch
        {
            18 => ResNet.ResNet18(), 34 => ResNet.ResNet34(), 50 => ResNet.ResNet50(), 101 => ResNet.ResNet101(), _ => ResNet.ResNet152(),
        };
        Assert.Equal(blocks, model.Stages.Select(stage => stage.Count));
        Assert.All(model.Stages.SelectMany(stage => Enumerable.Range(0, stage.Count).Select(i => stage[i])), b => Assert.Equal(block, b.GetType().Name));
        Assert.Equal(parameters, model.ParameterCount());
    }

    [Fact]
    public void ResidualShortcutsAreIdentitiesUntilTheShapeChanges()
    {
        var resnet18 = ResNet.ResNet18();
        Assert.Null(Block(resnet18, 0, 0).Downsample);        // 64 → 64, stride 1: identity block
        Assert.NotNull(Block(resnet18, 1, 0).Downsample);     // 64 → 128, stride 2: convolutional block
        Assert.Null(Block(resnet18, 1, 1).Downsample);

        var bottlenecks = new ResNet(Bottleneck, [2, 1, 1, 3], widths: [4, 8, 16, 32]);
        Assert.NotNull(Block(bottlenecks, 0, 0).Downsample);   // 4 → 16 channels at stride 1
        Assert.Null(Block(bottlenecks, 0, 1).Downsample);
        Assert.IsType<BottleneckBlock>(Block(bottlenecks, 3, 2));
    }

    static ResidualBlock Block(ResNet model, int stage, int index) => (ResidualBlock)model.Stages[stage][index];

    [Fact]
    public void TheSmallInputStemKeepsTheResolution()
    {
        var summary = ModelSummary.Of(ModelZoo.Create("resnet-mnist"), 1, 1, 28, 28);
        Assert.Equal([1, 16, 28, 28], summary.Layers.Single(l => l.Name == "layer1.1.bn2").OutputShape);
        Assert.Equal([1, 128, 4, 4], summary.Layers.Single(l => l.Name == "layer4.1.bn2").OutputShape);
    }

    [Fact]
    public void GoogLeNetReturnsSideClassifiersOnlyWhenTrainingWithThem()
    {
        var model = new GoogLeNet(numClasses: 5);
        var input = Tensor.Randn([1, 3, 64, 64], seed: 1);
        model.Eval();
        using (Tensor.NoGrad())
        {
            var outputs = model.ForwardOutputs(input);
            Assert.Equal(["logits"], outputs.Keys);
            Assert.Equal(outputs.Main.ToArray(), model.Forward(input).ToArray());

            var withoutAux = new GoogLeNet(numClasses: 5, auxLogits: false).Train();
            Assert.Equal(["logits"], withoutAux.ForwardOutputs(input).Keys);
            Assert.DoesNotContain(withoutAux.StateDict().Keys, k => k.StartsWith("aux"));
        }
    }

    [Fact]
    public void InceptionBlockStacksItsBranchesAndKeepsTheSize()
    {
        var block = new InceptionBlock(192, 64, 96, 128, 16, 32, 32);
        Assert.Equal(256, block.OutChannels);
        using var _ = Tensor.NoGrad();
        Assert.Equal([2, 256, 28, 28], block.Forward(Tensor.Randn([2, 192, 28, 28], seed: 2)).Shape);
        // The paper's 5×5 third branch: 16·32·25 weights where torchvision's 3×3 has 16·32·9.
        Assert.Equal(16 * 32 * (25 - 9), block.ParameterCount() - new InceptionBlock(192, 64, 96, 128, 16, 32, 32, ch5x5Kernel: 3).ParameterCount());
        Assert.Throws<ArgumentOutOfRangeException>(() => new InceptionBlock(192, 64, 96, 128, 16, 32, 32, ch5x5Kernel: 4));
    }

    [Theory]
    [InlineData(32, 32)]
    [InlineData(48, 16)]
    [InlineData(8, 24)]
    public void UNetOutputHasTheInputsHeightAndWidth(int height, int width)
    {
        var model = new UNet(numClasses: 3, inChannels: 2, depth: 3, width: 4);
        using var _ = Tensor.NoGrad();
        Assert.Equal([2, 3, height, width], model.Forward(Tensor.Randn([2, 2, height, width], seed: 4)).Shape);
    }

    [Fact]
    public void UNetRejectsSizesNotDivisibleByTwoToTheDepth()
    {
        var model = new UNet(numClasses: 2, inChannels: 1, depth: 3, width: 4);
        var error = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros(1, 1, 36, 32)));
        Assert.Contains("divisible by 2^depth = 8", error.Message);
        Assert.Contains("[1, 1, 36, 32]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new UNet(depth: 0));
    }

    [Fact]
    public void UNetWidthsDoubleWithDepth()
    {
        var names = new UNet(numClasses: 2, inChannels: 1, depth: 2, width: 8).StateDict();
        Assert.Equal([8, 1, 3, 3], names["encoder.0.0.conv.weight"].Shape);
        Assert.Equal([32, 16, 3, 3], names["bottleneck.0.conv.weight"].Shape);
        Assert.Equal([32, 16, 2, 2], names["upsample.1.weight"].Shape);   // (in, out, kH, kW)
        Assert.Equal([16, 32, 3, 3], names["decoder.1.0.conv.weight"].Shape);   // skip + up-sampled channels in
        Assert.Equal([2, 8, 1, 1], names["head.weight"].Shape);
    }

    [Fact]
    public void LeNet5TakesOtherActivationsAndPooling()
    {
        var classic = ModelSummary.Of(new LeNet5(), 1, 1, 32, 32);
        Assert.Equal(["Conv2d", "Tanh", "AvgPool2d"], classic.Layers.Take(3).Select(l => l.Type));

        var modern = ModelSummary.Of(new LeNet5(activation: () => new ReLU(), pooling: () => new MaxPool2d(2)), 1, 1, 32, 32);
        Assert.Equal(["Conv2d", "ReLU", "MaxPool2d"], modern.Layers.Take(3).Select(l => l.Type));
        Assert.Equal(classic.TotalParameters, modern.TotalParameters);

        Assert.Equal([1, 6, 28, 28], ModelSummary.Of(new LeNet5(inputSize: 28), 1, 1, 28, 28).Layers[0].OutputShape);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5(inputSize: 27));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet5(inputSize: 64));
    }

    [Fact]
    public void ConstructorsNameTheBadValue()
    {
        Assert.Contains("numClasses", Assert.Throws<ArgumentOutOfRangeException>(() => new SmallCnn(numClasses: 0)).Message);
        Assert.Contains("Vgg", Assert.Throws<ArgumentOutOfRangeException>(() => new Vgg(12)).Message);
        Assert.Contains("stages", Assert.Throws<ArgumentException>(() => new ResNet(Basic, [2, 2], widths: [8, 16, 32])).Message);
        Assert.Contains("inChannels", Assert.Throws<ArgumentOutOfRangeException>(() => new GoogLeNet(inChannels: 0)).Message);
    }

    [Fact]
    public void AlexNetOriginalHasLocalResponseNormalisationAt227()
    {
        var summary = ModelSummary.Of(AlexNet.Original(numClasses: 10), 1, 3, 227, 227);
        Assert.Equal(2, summary.Layers.Count(l => l.Type == "LocalResponseNorm"));
        Assert.Equal([1, 96, 55, 55], summary.Layers[0].OutputShape);
        Assert.Equal([1, 256, 6, 6], summary.Layers.Last(l => l.Type == "MaxPool2d").OutputShape);
    }
}
