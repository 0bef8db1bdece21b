using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>
/// LeNet-5 (LeCun et al., 1998) as the course teaches it, on a 32×32 grey image:
/// conv 5×5 → 6 @ 28×28, average pool → 6 @ 14×14, conv 5×5 → 16 @ 10×10, average pool → 16 @ 5×5,
/// fully connected 400 → 120 → 84 → classes, with tanh after every hidden layer (61,706 parameters for 10 classes).
/// Sub-modules: <c>features</c> (the convolutions) and <c>classifier</c> (the fully connected layers).
/// </summary>
public sealed class LeNet5 : Module
{
    /// <summary>The convolutions, tanh and average pools.</summary>
    public Sequential Features { get; }
    /// <summary>The fully connected layers.</summary>
    public Sequential Classifier { get; }

    /// <param name="inputSize">
    /// the side of the square input, at most 32. A smaller image is centred in the 32×32 field the network was
    /// designed for by padding the first convolution — the paper did this with MNIST's 28×28 digits — so
    /// the layers and parameters stay those of LeNet-5.
    /// </param>
    /// <param name="activation">makes each hidden activation; tanh when null (e.g. <c>() =&gt; new ReLU()</c>)</param>
    /// <param name="pooling">makes each 2×2 sub-sampling layer; average pooling when null (e.g. <c>() =&gt; new MaxPool2d(2)</c>)</param>
    public LeNet5(int numClasses = 10, int inChannels = 1, int inputSize = 32, Func<Module>? activation = null, Func<Module>? pooling = null)
    {
        ModelChecks.ClassesAndChannels("LeNet5", numClasses, inChannels);
        int padding = 32 - inputSize;
        if (padding < 0 || padding % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize),
                $"LeNet5: inputSize must be 32, or smaller by an even number so it can be centred in 32×32 by padding; got {inputSize}.");
        activation ??= () => new Tanh();
        pooling ??= () => new AvgPool2d(2);

        Features = RegisterModule("features", new Sequential(
            new Conv2d(inChannels, 6, kernelSize: 5, padding: padding / 2), activation(), pooling(),
            new Conv2d(6, 16, kernelSize: 5), activation(), pooling()));
        Classifier = RegisterModule("classifier", new Sequential(
            new Linear(16 * 5 * 5, 120), activation(),
            new Linear(120, 84), activation(),
            new Linear(84, numClasses)));
    }

    /// <param name="input">(N, inChannels, inputSize, inputSize)</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) => Classifier.Forward(F.Flatten(Features.Forward(input), 1));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => Classifier.OutputShape(ShapeInference.Flatten(Features.OutputShape(inputShape), 1));
}
