using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>Which AlexNet: torchvision's (the "one weird trick" network) or the 2012 paper's.</summary>
public enum AlexNetVariant
{
    /// <summary>64-192-384-256-256 channels, no normalisation, 224×224 input (torchvision.models.alexnet; 61.1M parameters).</summary>
    TorchVision,
    /// <summary>
    /// The paper's 96-256-384-384-256 channels with local response normalisation after the first two
    /// convolutions, on a 227×227 input. The paper split the network across two GPUs; this is the single-device
    /// form (groups = 1).
    /// </summary>
    Original,
}

/// <summary>
/// AlexNet (Krizhevsky, Sutskever and Hinton, 2012): five convolutions with ReLU and overlapping 3×3 stride-2
/// max-pools, then three fully connected layers with dropout. Sub-modules <c>features</c>, <c>avgpool</c> (adaptive,
/// to 6×6, so other input sizes work) and <c>classifier</c>, named as in torchvision.
/// </summary>
public sealed class AlexNet : Module
{
    /// <summary>torchvision's layout or the paper's.</summary>
    public AlexNetVariant Variant { get; }
    /// <summary>The convolutions, ReLUs, max-pools (and local response norms).</summary>
    public Sequential Features { get; }
    /// <summary>Adaptive average pooling to 6×6.</summary>
    public AdaptiveAvgPool2d AvgPool { get; }
    /// <summary>The three fully connected layers with dropout.</summary>
    public Sequential Classifier { get; }

    /// <summary>An AlexNet of <paramref name="variant"/> for <paramref name="numClasses"/> classes and <paramref name="inChannels"/> input channels.</summary>
    public AlexNet(AlexNetVariant variant = AlexNetVariant.TorchVision, int numClasses = 1000, int inChannels = 3, float dropout = 0.5f)
    {
        ModelChecks.ClassesAndChannels("AlexNet", numClasses, inChannels);
        Variant = variant;
        Features = RegisterModule("features", variant switch
        {
            AlexNetVariant.TorchVision => new Sequential(
                new Conv2d(inChannels, 64, kernelSize: 11, stride: 4, padding: 2), new ReLU(), new MaxPool2d(3, stride: 2),
                new Conv2d(64, 192, kernelSize: 5, padding: 2), new ReLU(), new MaxPool2d(3, stride: 2),
                new Conv2d(192, 384, kernelSize: 3, padding: 1), new ReLU(),
                new Conv2d(384, 256, kernelSize: 3, padding: 1), new ReLU(),
                new Conv2d(256, 256, kernelSize: 3, padding: 1), new ReLU(), new MaxPool2d(3, stride: 2)),
            AlexNetVariant.Original => new Sequential(
                new Conv2d(inChannels, 96, kernelSize: 11, stride: 4), new ReLU(), PaperLrn(), new MaxPool2d(3, stride: 2),
                new Conv2d(96, 256, kernelSize: 5, padding: 2), new ReLU(), PaperLrn(), new MaxPool2d(3, stride: 2),
                new Conv2d(256, 384, kernelSize: 3, padding: 1), new ReLU(),
                new Conv2d(384, 384, kernelSize: 3, padding: 1), new ReLU(),
                new Conv2d(384, 256, kernelSize: 3, padding: 1), new ReLU(), new MaxPool2d(3, stride: 2)),
            _ => throw new ArgumentOutOfRangeException(nameof(variant), $"AlexNet: unknown variant {variant}."),
        });
        AvgPool = RegisterModule("avgpool", new AdaptiveAvgPool2d(6));
        Classifier = RegisterModule("classifier", new Sequential(
            new Dropout(dropout), new Linear(256 * 6 * 6, 4096), new ReLU(),
            new Dropout(dropout), new Linear(4096, 4096), new ReLU(),
            new Linear(4096, numClasses)));
    }

    /// <summary>torchvision's AlexNet, 224×224 input.</summary>
    public static AlexNet TorchVision(int numClasses = 1000, int inChannels = 3) => new(AlexNetVariant.TorchVision, numClasses, inChannels);

    /// <summary>The paper's AlexNet with local response normalisation, 227×227 input.</summary>
    public static AlexNet Original(int numClasses = 1000, int inChannels = 3) => new(AlexNetVariant.Original, numClasses, inChannels);

    // The paper's b = a / (k + α Σ a²)^β with n = 5, α = 1e-4, β = 0.75, k = 2. PyTorch's layer divides α by n,
    // so the paper's α is passed as n·α.
    static LocalResponseNorm PaperLrn() => new(5, alpha: 5 * 1e-4f, beta: 0.75f, k: 2f);

    /// <param name="input">(N, inChannels, 224, 224), or 227×227 for the original variant</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) =>
        Classifier.Forward(F.Flatten(AvgPool.Forward(Features.Forward(input)), 1));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        Classifier.OutputShape(ShapeInference.Flatten(AvgPool.OutputShape(Features.OutputShape(inputShape)), 1));
}
