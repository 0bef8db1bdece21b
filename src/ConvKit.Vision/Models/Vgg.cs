using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>
/// VGG (Simonyan and Zisserman, 2014): stacks of 3×3 "same" convolutions with ReLU (and optionally batch norm),
/// halved by 2×2 max-pools, then three fully connected layers. Depth 11, 13, 16 or 19 picks the paper's
/// configuration A, B, D or E. Sub-modules <c>features</c>, <c>avgpool</c> (adaptive, to 7×7) and
/// <c>classifier</c>, named as in torchvision. Convolutions start from Kaiming-normal weights (fan out) and
/// zero biases, linear layers from N(0, 0.01²) — torchvision's initialisation.
/// </summary>
public sealed class Vgg : Module
{
    /// <summary>The depths with a configuration: 11, 13, 16, 19.</summary>
    public static IReadOnlyList<int> Depths { get; } = [11, 13, 16, 19];

    const int Pool = 0;

    // Output channels of each convolution, Pool for a 2×2 max-pool; the paper's configurations A, B, D, E.
    static int[] Configuration(int depth) => depth switch
    {
        11 => [64, Pool, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        13 => [64, 64, Pool, 128, 128, Pool, 256, 256, Pool, 512, 512, Pool, 512, 512, Pool],
        16 => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, Pool, 512, 512, 512, Pool, 512, 512, 512, Pool],
        19 => [64, 64, Pool, 128, 128, Pool, 256, 256, 256, 256, Pool, 512, 512, 512, 512, Pool, 512, 512, 512, 512, Pool],
        _ => throw new ArgumentOutOfRangeException(nameof(depth), $"Vgg: depth must be one of {string.Join(", ", Depths)}, got {depth}."),
    };

    /// <summary>Weight layers: 11, 13, 16 or 19.</summary>
    public int Depth { get; }
    /// <summary>Whether each convolution is followed by batch normalisation.</summary>
    public bool BatchNorm { get; }
    /// <summary>The convolutions, ReLUs and max-pools.</summary>
    public Sequential Features { get; }
    /// <summary>Adaptive average pooling to 7×7.</summary>
    public AdaptiveAvgPool2d AvgPool { get; }
    /// <summary>The three fully connected layers with dropout.</summary>
    public Sequential Classifier { get; }

    /// <summary>A VGG of <paramref name="depth"/> weight layers for <paramref name="numClasses"/> classes.</summary>
    public Vgg(int depth, bool batchNorm = false, int numClasses = 1000, int inChannels = 3, float dropout = 0.5f)
    {
        ModelChecks.ClassesAndChannels("Vgg", numClasses, inChannels);
        (Depth, BatchNorm) = (depth, batchNorm);
        Features = RegisterModule("features", FeatureLayers(depth, batchNorm, inChannels));
        AvgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(7));
        Classifier = RegisterModule("classifier", new Sequential(
            new Linear(512 * 7 * 7, 4096), new ReLU(), new Dropout(dropout),
            new Linear(4096, 4096), new ReLU(), new Dropout(dropout),
            new Linear(4096, numClasses)));
        foreach (var linear in Classifier.NamedChildren().Select(c => c.Module).OfType<Linear>())
        {
            Init.Normal(linear.Weight, 0, 0.01f);
            Init.Zeros(linear.Bias!);
        }
    }

    /// <summary>
    /// The convolutional part alone (torchvision's <c>features</c>: indices as there, so <c>features.34.weight</c> of
    /// VGG-19 is <c>34.weight</c> here), for feature extraction without the 120M-parameter classifier.
    /// </summary>
    public static Sequential FeatureLayers(int depth, bool batchNorm = false, int inChannels = 3)
    {
        var features = new Sequential();
        int channels = inChannels;
        foreach (int outChannels in Configuration(depth))
        {
            if (outChannels == Pool)
            {
                features.Add(new MaxPool2d(2));
                continue;
            }
            var conv = new Conv2d(channels, outChannels, kernelSize: 3, padding: 1);
            Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
            Init.Zeros(conv.Bias!);
            features.Add(conv);
            if (batchNorm) features.Add(new BatchNorm2d(outChannels));
            features.Add(new ReLU());
            channels = outChannels;
        }
        return features;
    }

    /// <summary>VGG-11 (configuration A).</summary>
    public static Vgg Vgg11(int numClasses = 1000, int inChannels = 3) => new(11, false, numClasses, inChannels);
    /// <summary>VGG-11 with batch normalisation.</summary>
    public static Vgg Vgg11Bn(int numClasses = 1000, int inChannels = 3) => new(11, true, numClasses, inChannels);
    /// <summary>VGG-13 (configuration B).</summary>
    public static Vgg Vgg13(int numClasses = 1000, int inChannels = 3) => new(13, false, numClasses, inChannels);
    /// <summary>VGG-13 with batch normalisation.</summary>
    public static Vgg Vgg13Bn(int numClasses = 1000, int inChannels = 3) => new(13, true, numClasses, inChannels);
    /// <summary>VGG-16 (configuration D).</summary>
    public static Vgg Vgg16(int numClasses = 1000, int inChannels = 3) => new(16, false, numClasses, inChannels);
    /// <summary>VGG-16 with batch normalisation.</summary>
    public static Vgg Vgg16Bn(int numClasses = 1000, int inChannels = 3) => new(16, true, numClasses, inChannels);
    /// <summary>VGG-19 (configuration E).</summary>
    public static Vgg Vgg19(int numClasses = 1000, int inChannels = 3) => new(19, false, numClasses, inChannels);
    /// <summary>VGG-19 with batch normalisation.</summary>
    public static Vgg Vgg19Bn(int numClasses = 1000, int inChannels = 3) => new(19, true, numClasses, inChannels);

    /// <param name="input">(N, inChannels, 224, 224)</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) =>
        Classifier.Forward(F.Flatten(AvgPool.Forward(Features.Forward(input)), 1));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        Classifier.OutputShape(ShapeInference.Flatten(AvgPool.OutputShape(Features.OutputShape(inputShape)), 1));
}
