using ConvKit.NN;
using ConvKit.Ops;
using static ConvKit.Vision.Models.ResidualBlockKind;

namespace ConvKit.Vision.Models;

/// <summary>
/// ResNet (He et al., 2015): a stem (7×7 stride-2 convolution, batch norm, ReLU, 3×3 stride-2 max-pool), stages of
/// residual blocks — each stage after the first halves the resolution in its first block — global average
/// pooling and a linear classifier. One class for the family; the builders differ only in the block and the
/// number of blocks per stage: <c>ResNet.ResNet50()</c> is <c>new ResNet(Bottleneck, [3, 4, 6, 3])</c>.
/// Sub-modules <c>conv1, bn1, relu, maxpool, layer1 … layer4, avgpool, fc</c> and the blocks' names follow
/// torchvision, so its state dicts load by name. Convolutions start from Kaiming-normal weights (fan out), as in torchvision.
/// </summary>
public sealed class ResNet : Module
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly ReLU relu;
    readonly Module maxpool;
    readonly Sequential[] stages;
    readonly AdaptiveAvgPool2d avgpool;

    /// <summary>The final classifier.</summary>
    public Linear Fc { get; }
    /// <c>layer1</c> … <c>layer4</c>, each a sequence of residual blocks.
    public IReadOnlyList<Sequential> Stages => stages;

    /// <param name="block">the residual block of every stage</param>
    /// <param name="blocks">blocks per stage, e.g. [3, 4, 6, 3]</param>
    /// <param name="widths">each stage's block width (64, 128, 256, 512 by default); the stem has widths[0] channels</param>
    /// <param name="smallInputStem">
    /// for small images (28×28, 32×32): a 3×3 stride-1 stem convolution and no max-pool, so the first stage
    /// sees the full resolution
    /// </param>
    public ResNet(ResidualBlockKind block, int[] blocks, int numClasses = 1000, int inChannels = 3, int[]? widths = null, bool smallInputStem = false)
    {
        ModelChecks.ClassesAndChannels("ResNet", numClasses, inChannels);
        widths ??= [64, 128, 256, 512];
        if (blocks.Length == 0 || blocks.Length != widths.Length)
            throw new ArgumentException($"ResNet: blocks ({blocks.Length} stages) and widths ({widths.Length} stages) must describe the same, non-zero number of stages.");
        for (int i = 0; i < blocks.Length; i++)
        {
            ModelChecks.Positive("ResNet", $"blocks[{i}]", blocks[i]);
            ModelChecks.Positive("ResNet", $"widths[{i}]", widths[i]);
        }

        int channels = widths[0];
        conv1 = RegisterModule("conv1", KaimingConv(smallInputStem
            ? new Conv2d(inChannels, channels, kernelSize: 3, padding: 1, bias: false)
            : new Conv2d(inChannels, channels, kernelSize: 7, stride: 2, padding: 3, bias: false)));
        bn1 = RegisterModule("bn1", new BatchNorm2d(channels));
        relu = RegisterModule("relu", new ReLU());
        maxpool = RegisterModule("maxpool", smallInputStem ? new Identity() : (Module)new MaxPool2d(3, stride: 2, padding: 1));

        stages = new Sequential[blocks.Length];
        for (int stage = 0; stage < blocks.Length; stage++)
        {
            var layer = new Sequential();
            for (int i = 0; i < blocks[stage]; i++)
            {
                int stride = stage > 0 && i == 0 ? 2 : 1;
                layer.Add(ResidualBlock.Create(block, channels, widths[stage], stride));
                channels = widths[stage] * ResidualBlock.Expansion(block);
            }
            stages[stage] = RegisterModule($"layer{stage + 1}", layer);
        }
        avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        Fc = RegisterModule("fc", new Linear(channels, numClasses));
    }

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2].</summary>
    public static ResNet ResNet18(int numClasses = 1000, int inChannels = 3) => new(Basic, [2, 2, 2, 2], numClasses, inChannels);
    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet34(int numClasses = 1000, int inChannels = 3) => new(Basic, [3, 4, 6, 3], numClasses, inChannels);
    /// <summary>ResNet-50: bottleneck blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet50(int numClasses = 1000, int inChannels = 3) => new(Bottleneck, [3, 4, 6, 3], numClasses, inChannels);
    /// <summary>ResNet-101: bottleneck blocks [3, 4, 23, 3].</summary>
    public static ResNet ResNet101(int numClasses = 1000, int inChannels = 3) => new(Bottleneck, [3, 4, 23, 3], numClasses, inChannels);
    /// <summary>ResNet-152: bottleneck blocks [3, 8, 36, 3].</summary>
    public static ResNet ResNet152(int numClasses = 1000, int inChannels = 3) => new(Bottleneck, [3, 8, 36, 3], numClasses, inChannels);

    /// <summary>ResNet-18's layout at a quarter of its widths (16–128) with the small-input stem, for 28×28 grey images.</summary>
    public static ResNet ResNetMnist(int numClasses = 10, int inChannels = 1) =>
        new(Basic, [2, 2, 2, 2], numClasses, inChannels, widths: [16, 32, 64, 128], smallInputStem: true);

    /// <summary>torchvision's initialisation of ResNet convolutions: Kaiming normal, fan out, for ReLU.</summary>
    internal static Conv2d KaimingConv(Conv2d conv)
    {
        Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
        return conv;
    }

    /// <param name="input">(N, inChannels, H, W); 224×224 for the ImageNet layouts</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) => Fc.Forward(F.Flatten(avgpool.Forward(ForwardStages(input)[^1]), 1));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        Fc.OutputShape(ShapeInference.Flatten(avgpool.OutputShape(StageShapes(inputShape)[^1]), 1));

    /// <summary>The shapes <see cref="ForwardStages"/> would return, stated without computing.</summary>
    public IReadOnlyList<int[]> StageShapes(int[] inputShape)
    {
        var shapes = new int[stages.Length][];
        var x = maxpool.OutputShape(relu.OutputShape(bn1.OutputShape(conv1.OutputShape(inputShape))));
        for (int i = 0; i < stages.Length; i++) x = shapes[i] = stages[i].OutputShape(x);
        return shapes;
    }

    /// <summary>
    /// The output of every stage (<c>layer1</c> … <c>layer4</c>), at 1/4, 1/8, 1/16 and 1/32 of the input's size with the
    /// ImageNet stem: the features a dense head (FCN, a detector's neck) reads. The pooling and classifier do not run.
    /// </summary>
    public IReadOnlyList<Tensor> ForwardStages(Tensor input)
    {
        var outputs = new Tensor[stages.Length];
        var x = maxpool.Forward(relu.Forward(bn1.Forward(conv1.Forward(input))));
        for (int i = 0; i < stages.Length; i++) x = outputs[i] = stages[i].Forward(x);
        return outputs;
    }
}
