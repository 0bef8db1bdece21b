using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>
/// A small, quick network for 28×28 grey images (MNIST, Fashion-MNIST): two conv-bn-relu pairs at 32 channels,
/// 2×2 max-pool, two at 64 channels, 2×2 max-pool, dropout, and one linear layer from 64·7·7 features to the
/// classes (about 100k parameters, 18M multiply-accumulates per image).
/// Sub-modules: <c>features</c> and <c>classifier</c>.
/// </summary>
public sealed class SmallCnn : Module
{
    /// <summary>The conv-bn-relu pairs and max-pools.</summary>
    public Sequential Features { get; }
    /// <summary>Dropout and the linear layer.</summary>
    public Sequential Classifier { get; }

    /// <param name="inputSize">the side of the square input; must be divisible by 4 (the two max-pools)</param>
    public SmallCnn(int numClasses = 10, int inChannels = 1, int inputSize = 28, float dropout = 0.25f)
    {
        ModelChecks.ClassesAndChannels("SmallCnn", numClasses, inChannels);
        if (inputSize < 4 || inputSize % 4 != 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"SmallCnn: inputSize must be a positive multiple of 4, got {inputSize}.");
        Features = RegisterModule("features", new Sequential(
            new ConvBnRelu(inChannels, 32, 3, padding: 1), new ConvBnRelu(32, 32, 3, padding: 1), new MaxPool2d(2),
            new ConvBnRelu(32, 64, 3, padding: 1), new ConvBnRelu(64, 64, 3, padding: 1), new MaxPool2d(2)));
        int side = inputSize / 4;
        Classifier = RegisterModule("classifier", new Sequential(new Dropout(dropout), new Linear(64 * side * side, numClasses)));
    }

    /// <param name="input">(N, inChannels, inputSize, inputSize)</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) => Classifier.Forward(F.Flatten(Features.Forward(input), 1));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => Classifier.OutputShape(ShapeInference.Flatten(Features.OutputShape(inputShape), 1));
}
