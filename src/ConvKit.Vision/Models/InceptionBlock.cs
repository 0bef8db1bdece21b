using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>
/// The Inception block (Szegedy et al., 2014): four branches see the same input and their outputs are stacked
/// along the channels — a 1×1 convolution; a 1×1 bottleneck then a 3×3 convolution; a 1×1 bottleneck then a
/// larger convolution; a 3×3 stride-1 max-pool then a 1×1 projection. The 1×1 bottlenecks are what keep the
/// larger convolutions affordable (the course's 120M → 12.4M multiplications). Every convolution is a
/// <see cref="ConvBnRelu"/>; the output has ch1x1 + ch3x3 + ch5x5 + poolProj channels and the input's height
/// and width. Sub-modules <c>branch1 … branch4</c> as in torchvision.
/// </summary>
public sealed class InceptionBlock : Module
{
    readonly Module branch1;
    readonly Sequential branch2, branch3, branch4;

    /// <summary>Channels of the output: the sum of the four branches'.</summary>
    public int OutChannels { get; }

    /// <param name="ch5x5Kernel">
    /// the kernel of the third branch: 5 as in the paper; torchvision's GoogLeNet uses 3 (a known slip it keeps
    /// for its pretrained weights), and <see cref="GoogLeNet"/> follows torchvision
    /// </param>
    /// <param name="eps">the batch norms' epsilon</param>
    public InceptionBlock(int inChannels, int ch1x1, int ch3x3Reduce, int ch3x3, int ch5x5Reduce, int ch5x5, int poolProj,
        int ch5x5Kernel = 5, float eps = 1e-5f)
    {
        foreach (var (name, value) in new[] { ("inChannels", inChannels), ("ch1x1", ch1x1), ("ch3x3Reduce", ch3x3Reduce), ("ch3x3", ch3x3),
                     ("ch5x5Reduce", ch5x5Reduce), ("ch5x5", ch5x5), ("poolProj", poolProj) })
            ModelChecks.Positive("InceptionBlock", name, value);
        if (ch5x5Kernel < 1 || ch5x5Kernel % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(ch5x5Kernel), $"InceptionBlock: ch5x5Kernel must be odd and positive (to keep the size), got {ch5x5Kernel}.");
        branch1 = RegisterModule("branch1", new ConvBnRelu(inChannels, ch1x1, 1, eps: eps));
        branch2 = RegisterModule("branch2", new Sequential(
            new ConvBnRelu(inChannels, ch3x3Reduce, 1, eps: eps),
            new ConvBnRelu(ch3x3Reduce, ch3x3, 3, padding: 1, eps: eps)));
        branch3 = RegisterModule("branch3", new Sequential(
            new ConvBnRelu(inChannels, ch5x5Reduce, 1, eps: eps),
            new ConvBnRelu(ch5x5Reduce, ch5x5, ch5x5Kernel, padding: ch5x5Kernel / 2, eps: eps)));
        branch4 = RegisterModule("branch4", new Sequential(
            new MaxPool2d(3, stride: 1, padding: 1, ceilMode: true),
            new ConvBnRelu(inChannels, poolProj, 1, eps: eps)));
        OutChannels = ch1x1 + ch3x3 + ch5x5 + poolProj;
    }

    /// <param name="input">(N, inChannels, H, W)</param>
    /// <returns>(N, OutChannels, H, W)</returns>
    protected override Tensor ForwardCore(Tensor input) =>
        F.Concat([branch1.Forward(input), branch2.Forward(input), branch3.Forward(input), branch4.Forward(input)], 1);

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => ShapeInference.Concat(
        [branch1.OutputShape(inputShape), branch2.OutputShape(inputShape), branch3.OutputShape(inputShape), branch4.OutputShape(inputShape)], 1);
}
