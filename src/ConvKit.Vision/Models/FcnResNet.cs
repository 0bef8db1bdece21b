using ConvKit.NN;
using ConvKit.Vision.Segmentation;

namespace ConvKit.Vision.Models;

/// <summary>
/// A fully convolutional network (Long, Shelhamer and Darrell, 2015, the FCN-16s variant) on a ResNet-18 backbone: the
/// classifier's pooling and fully connected layer are dropped, a 1×1 convolution scores every class at each position
/// of the last stage (1/32 of the picture) and of the one before (1/16); the coarse scores are up-sampled ×2 by a
/// transposed convolution and added to the finer ones, and a last transposed convolution brings them ×16 back to the
/// picture's size — the course's "up-sampling by transposed convolution". Both transposed convolutions start as
/// bilinear interpolation (the paper's initialisation), so training begins from smooth up-sampling. Sub-modules
/// <c>backbone</c> (a <see cref="ResNet"/>; its <c>fc</c> is unused), <c>score_layer3</c>, <c>score_layer4</c>,
/// <c>upsample2</c>, <c>upsample16</c>.
/// </summary>
public sealed class FcnResNet : Module, ISegmentationModel
{
    readonly ResNet backbone;
    readonly Conv2d scoreLayer3, scoreLayer4;
    readonly ConvTranspose2d upsample2, upsample16;

    /// <summary>An FCN-16s for <paramref name="numClasses"/> classes (21: Pascal VOC's, background included) on a fresh ResNet-18.</summary>
    public FcnResNet(int numClasses = 21, int inChannels = 3)
    {
        ModelChecks.ClassesAndChannels("FcnResNet", numClasses, inChannels);
        backbone = RegisterModule("backbone", ResNet.ResNet18(numClasses: 1, inChannels));
        scoreLayer3 = RegisterModule("score_layer3", new Conv2d(256, numClasses, kernelSize: 1));
        scoreLayer4 = RegisterModule("score_layer4", new Conv2d(512, numClasses, kernelSize: 1));
        upsample2 = RegisterModule("upsample2", Bilinear(new ConvTranspose2d(numClasses, numClasses, kernelSize: 4, stride: 2, padding: 1, bias: false)));
        upsample16 = RegisterModule("upsample16", Bilinear(new ConvTranspose2d(numClasses, numClasses, kernelSize: 32, stride: 16, padding: 8, bias: false)));
    }

    /// <summary>32: the backbone halves the picture five times.</summary>
    public int SizeMultiple => 32;

    /// <summary>Weights that make a stride-s transposed convolution (kernel 2s, padding s/2) interpolate each channel bilinearly.</summary>
    static ConvTranspose2d Bilinear(ConvTranspose2d up)
    {
        int size = up.KernelSize.Height, channels = up.OutChannels;
        double factor = (size + 1) / 2, centre = size % 2 == 1 ? factor - 1 : factor - 0.5;
        var weight = new float[channels * channels * size * size];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    weight[((c * channels + c) * size + y) * size + x] = (float)((1 - Math.Abs(y - centre) / factor) * (1 - Math.Abs(x - centre) / factor));
        using (Tensor.NoGrad()) up.Weight.CopyFrom(Tensor.FromArray(weight, channels, channels, size, size));
        return up;
    }

    /// <param name="input">(N, inChannels, H, W), H and W multiples of 32</param>
    /// <returns>per-pixel class scores (N, numClasses, H, W)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput(input.Shape);
        var stages = backbone.ForwardStages(input);
        var coarse = upsample2.Forward(scoreLayer4.Forward(stages[3]));
        return upsample16.Forward(coarse + scoreLayer3.Forward(stages[2]));
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        CheckInput(inputShape);
        var stages = backbone.StageShapes(inputShape);
        var coarse = upsample2.OutputShape(scoreLayer4.OutputShape(stages[3]));
        return upsample16.OutputShape(ShapeInference.Broadcast(coarse, scoreLayer3.OutputShape(stages[2])));
    }

    void CheckInput(IReadOnlyList<int> shape)
    {
        if (shape.Count != 4 || shape[2] % SizeMultiple != 0 || shape[3] % SizeMultiple != 0)
            throw new ArgumentException($"FcnResNet: expected an input (N, C, H, W) with H and W divisible by {SizeMultiple}, got {ModelChecks.Format(shape)}.");
    }
}
