using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Segmentation;

namespace ConvKit.Vision.Models;

/// <summary>
/// U-Net (Ronneberger, Fischer and Brox, 2015) for semantic segmentation: an encoder of <see cref="Depth"/> levels,
/// each two 3×3 conv-bn-relu then a 2×2 max-pool that halves the image and (through the doubled width) keeps the
/// information; a bottleneck; and a decoder that at each level up-samples with a 2×2 stride-2 transposed
/// convolution, concatenates the encoder's features of the same size (the skip connection, which brings back the
/// detail lost in pooling) and applies two 3×3 conv-bn-relu; a final 1×1 convolution gives a score per class for
/// every pixel. The convolutions are padded ("same"), so the output has the input's height and width, which must
/// be divisible by 2^depth. Level i has width·2^i channels. Sub-modules <c>encoder.i</c>, <c>bottleneck</c>,
/// <c>upsample.i</c>, <c>decoder.i</c> (index i counts levels from the top) and <c>head</c>.
/// </summary>
public sealed class UNet : Module, ISegmentationModel
{
    readonly ModuleList encoder, upsample, decoder;
    readonly Sequential bottleneck;
    readonly MaxPool2d pool;
    readonly Conv2d head;

    /// <summary>Levels of the encoder (and of the decoder).</summary>
    public int Depth { get; }
    /// <summary>Channels of the top level; level i has Width·2^i.</summary>
    public int Width { get; }

    /// <summary>2^depth: the input's height and width must be multiples of it.</summary>
    public int SizeMultiple => 1 << Depth;

    /// <param name="numClasses">output channels: one score map per class</param>
    /// <param name="depth">number of down-sampling steps (the paper: 4)</param>
    /// <param name="width">channels of the top level (the paper: 64); level i has width·2^i</param>
    public UNet(int numClasses = 2, int inChannels = 3, int depth = 4, int width = 64)
    {
        ModelChecks.ClassesAndChannels("UNet", numClasses, inChannels);
        ModelChecks.Positive("UNet", "depth", depth);
        ModelChecks.Positive("UNet", "width", width);
        if (depth > 16 || (long)width << depth > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(depth), $"UNet: depth {depth} with width {width} is too large.");
        (Depth, Width) = (depth, width);

        encoder = RegisterModule("encoder", new ModuleList());
        int channels = inChannels;
        for (int level = 0; level < depth; level++)
        {
            encoder.Add(DoubleConv(channels, width << level));
            channels = width << level;
        }
        pool = RegisterModule("pool", new MaxPool2d(2));
        bottleneck = RegisterModule("bottleneck", DoubleConv(channels, width << depth));

        upsample = RegisterModule("upsample", new ModuleList());
        decoder = RegisterModule("decoder", new ModuleList());
        for (int level = 0; level < depth; level++)
        {
            int below = width << (level + 1), here = width << level;
            upsample.Add(new ConvTranspose2d(below, here, kernelSize: 2, stride: 2));
            decoder.Add(DoubleConv(2 * here, here));   // skip features and up-sampled features, concatenated
        }
        head = RegisterModule("head", new Conv2d(width, numClasses, kernelSize: 1));
    }

    static Sequential DoubleConv(int inChannels, int outChannels) =>
        new(new ConvBnRelu(inChannels, outChannels, 3, padding: 1), new ConvBnRelu(outChannels, outChannels, 3, padding: 1));

    /// <param name="input">(N, inChannels, H, W) with H and W divisible by 2^depth</param>
    /// <returns>per-pixel class scores (N, numClasses, H, W)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput(input.Shape);

        var skips = new Tensor[Depth];
        var x = input;
        for (int level = 0; level < Depth; level++)
        {
            skips[level] = encoder[level].Forward(x);
            x = pool.Forward(skips[level]);
        }
        x = bottleneck.Forward(x);
        for (int level = Depth - 1; level >= 0; level--)
            x = decoder[level].Forward(F.Concat([skips[level], upsample[level].Forward(x)], 1));
        return head.Forward(x);
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        CheckInput(inputShape);
        var skips = new int[Depth][];
        var x = inputShape;
        for (int level = 0; level < Depth; level++)
        {
            skips[level] = encoder[level].OutputShape(x);
            x = pool.OutputShape(skips[level]);
        }
        x = bottleneck.OutputShape(x);
        for (int level = Depth - 1; level >= 0; level--)
            x = decoder[level].OutputShape(ShapeInference.Concat([skips[level], upsample[level].OutputShape(x)], 1));
        return head.OutputShape(x);
    }

    void CheckInput(IReadOnlyList<int> shape)
    {
        int multiple = SizeMultiple;
        if (shape.Count != 4 || shape[2] % multiple != 0 || shape[3] % multiple != 0)
            throw new ArgumentException(
                $"UNet: expected an input (N, C, H, W) with H and W divisible by 2^depth = {multiple}, got {ModelChecks.Format(shape)}.");
    }
}
