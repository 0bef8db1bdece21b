using ConvKit.NN;

namespace ConvKit.Vision.Models;

/// <summary>The two residual blocks of ResNet.</summary>
public enum ResidualBlockKind
{
    /// <summary><see cref="BasicBlock"/>: two 3×3 convolutions (ResNet-18, -34).</summary>
    Basic,
    /// <summary><see cref="BottleneckBlock"/>: 1×1 reduce, 3×3, 1×1 expand ×4 (ResNet-50, -101, -152).</summary>
    Bottleneck,
}

/// <summary>
/// A residual block: output = ReLU(F(x) + shortcut(x)), where F is the block's stack of convolutions.
/// The shortcut is the identity when F keeps the shape (the course's "identity block"); when F changes the
/// number of channels or strides, the shortcut is a projection — a 1×1 convolution with the same stride
/// followed by batch norm, registered as <c>downsample</c> like torchvision (the course's "convolutional block").
/// </summary>
public abstract class ResidualBlock : Module
{
    /// <summary>The block's ReLU (after the first convolutions and after the sum).</summary>
    protected ReLU Relu { get; private set; } = null!;

    /// <summary>The projection shortcut, or null for the identity shortcut.</summary>
    public Sequential? Downsample { get; private set; }

    /// <summary>Output channels over the block's width: 1 for <see cref="BasicBlock"/>, 4 for <see cref="BottleneckBlock"/>.</summary>
    public static int Expansion(ResidualBlockKind kind) => kind == ResidualBlockKind.Bottleneck ? 4 : 1;

    /// <summary>A block of <paramref name="kind"/> from <paramref name="inChannels"/> to width·expansion channels.</summary>
    public static ResidualBlock Create(ResidualBlockKind kind, int inChannels, int width, int stride) => kind switch
    {
        ResidualBlockKind.Basic => new BasicBlock(inChannels, width, stride),
        ResidualBlockKind.Bottleneck => new BottleneckBlock(inChannels, width, stride),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"ResidualBlock: unknown kind {kind}."),
    };

    /// <summary>Registers the ReLU and the shortcut after the block's own layers (torchvision's order of names).</summary>
    protected void AddShortcut(int inChannels, int outChannels, int stride)
    {
        Relu = RegisterModule("relu", new ReLU());
        // Identity block: the residual keeps the input's shape, so the input is added as it is.
        if (stride == 1 && inChannels == outChannels) return;
        // Convolutional block: the residual has other channels or a smaller image; project the input to match.
        Downsample = RegisterModule("downsample", new Sequential(
            ResNet.KaimingConv(new Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false)),
            new BatchNorm2d(outChannels)));
    }

    /// <summary>F(x): the block's convolutions, without the final ReLU.</summary>
    protected abstract Tensor Residual(Tensor input);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        var residual = Residual(input);
        var shortcut = Downsample == null ? input : Downsample.Forward(input);
        return Relu.Forward(residual + shortcut);
    }

    /// <summary>The residual branch's output shape for <paramref name="inputShape"/>, stated in the order <see cref="Residual"/> runs.</summary>
    protected abstract int[] ResidualShape(int[] inputShape);

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        var residual = ResidualShape(inputShape);
        var shortcut = Downsample == null ? inputShape : Downsample.OutputShape(inputShape);
        return Relu.OutputShape(ShapeInference.Broadcast(residual, shortcut));
    }
}

/// <summary>
/// ResNet's basic block: conv 3×3 (stride) – bn – relu – conv 3×3 – bn, plus the shortcut. Sub-modules
/// <c>conv1, bn1, conv2, bn2, relu, downsample</c> as in torchvision.
/// </summary>
public sealed class BasicBlock : ResidualBlock
{
    readonly Conv2d conv1, conv2;
    readonly BatchNorm2d bn1, bn2;

    /// <summary>A block from <paramref name="inChannels"/> to <paramref name="width"/> channels; a stride above 1, or a change of channels, gives the shortcut a 1×1 convolution with batch norm.</summary>
    public BasicBlock(int inChannels, int width, int stride = 1)
    {
        conv1 = RegisterModule("conv1", ResNet.KaimingConv(new Conv2d(inChannels, width, 3, stride, padding: 1, bias: false)));
        bn1 = RegisterModule("bn1", new BatchNorm2d(width));
        conv2 = RegisterModule("conv2", ResNet.KaimingConv(new Conv2d(width, width, 3, padding: 1, bias: false)));
        bn2 = RegisterModule("bn2", new BatchNorm2d(width));
        AddShortcut(inChannels, width, stride);
    }

    /// <inheritdoc/>
    protected override Tensor Residual(Tensor input) =>
        bn2.Forward(conv2.Forward(Relu.Forward(bn1.Forward(conv1.Forward(input)))));

    /// <inheritdoc/>
    protected override int[] ResidualShape(int[] inputShape) =>
        bn2.OutputShape(conv2.OutputShape(Relu.OutputShape(bn1.OutputShape(conv1.OutputShape(inputShape)))));
}

/// <summary>
/// ResNet's bottleneck block: a 1×1 convolution reduces to <c>width</c> channels, a 3×3 convolution (carrying the
/// stride, as torchvision's "ResNet v1.5") works at that width, and a 1×1 convolution expands to 4·width;
/// batch norm after each, plus the shortcut. Sub-modules <c>conv1, bn1, conv2, bn2, conv3, bn3, relu, downsample</c>.
/// </summary>
public sealed class BottleneckBlock : ResidualBlock
{
    readonly Conv2d conv1, conv2, conv3;
    readonly BatchNorm2d bn1, bn2, bn3;

    /// <summary>A block from <paramref name="inChannels"/> to 4·<paramref name="width"/> channels; a stride above 1, or a change of channels, gives the shortcut a 1×1 convolution with batch norm.</summary>
    public BottleneckBlock(int inChannels, int width, int stride = 1)
    {
        int outChannels = width * Expansion(ResidualBlockKind.Bottleneck);
        conv1 = RegisterModule("conv1", ResNet.KaimingConv(new Conv2d(inChannels, width, 1, bias: false)));
        bn1 = RegisterModule("bn1", new BatchNorm2d(width));
        conv2 = RegisterModule("conv2", ResNet.KaimingConv(new Conv2d(width, width, 3, stride, padding: 1, bias: false)));
        bn2 = RegisterModule("bn2", new BatchNorm2d(width));
        conv3 = RegisterModule("conv3", ResNet.KaimingConv(new Conv2d(width, outChannels, 1, bias: false)));
        bn3 = RegisterModule("bn3", new BatchNorm2d(outChannels));
        AddShortcut(inChannels, outChannels, stride);
    }

    /// <inheritdoc/>
    protected override Tensor Residual(Tensor input)
    {
        var x = Relu.Forward(bn1.Forward(conv1.Forward(input)));
        x = Relu.Forward(bn2.Forward(conv2.Forward(x)));
        return bn3.Forward(conv3.Forward(x));
    }

    /// <inheritdoc/>
    protected override int[] ResidualShape(int[] inputShape)
    {
        var x = Relu.OutputShape(bn1.OutputShape(conv1.OutputShape(inputShape)));
        x = Relu.OutputShape(bn2.OutputShape(conv2.OutputShape(x)));
        return bn3.OutputShape(conv3.OutputShape(x));
    }
}
