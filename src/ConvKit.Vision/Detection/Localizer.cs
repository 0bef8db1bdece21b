using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Classification with localisation: a CNN whose output row per picture is the course's y = (pc, bx, by, bh, bw,
/// c1 … cn) — raw numbers that <see cref="LocalizationLoss"/> trains and decodes (with the logistic loss, pc's logit
/// and class logits).
/// <list type="bullet">
/// <item><c>features</c>: 3×3 conv-bn-relu blocks with 2×2 max-pools down to 1/16 of the input — <c>width</c> channels
/// at full size, 2·width at 1/2, 4·width (two blocks) at 1/4, 8·width at 1/8.</item>
/// <item><c>box_head</c> (pc, bx, by, bh, bw): the flattened (8·width, S/16, S/16) features, a fully connected layer of
/// <c>hidden</c> units, ReLU, dropout, and a linear layer to 5 numbers. Flattening keeps where the features are, which
/// the box needs.</item>
/// <item><c>class_head</c> (c1 … cn): the features' global maximum per channel, dropout, and a linear layer to n
/// numbers. What an item is does not depend on where it lies, and the maximum says so: the same weights see the item
/// at every place, where a layer over the flattened map would have to learn each place apart (that made the class
/// learn several times slower than the box).</item>
/// </list>
/// </summary>
public sealed class Localizer : Module
{
    /// <summary>The conv-bn-relu blocks and max-pools.</summary>
    public Sequential Features { get; }
    /// <summary>The fully connected layers giving pc and the box.</summary>
    public Sequential BoxHead { get; }
    /// <summary>The global max-pool, dropout and the linear layer giving the class scores.</summary>
    public Sequential ClassHead { get; }
    /// <summary>The number of object classes, n.</summary>
    public int Classes { get; }
    /// <summary>Channels of the pictures it takes.</summary>
    public int InChannels { get; }
    /// <summary>The side of the square pictures it takes.</summary>
    public int InputSize { get; }

    /// <param name="numClasses">n: the output has 5 + n numbers per picture</param>
    /// <param name="inChannels">1 for grey pictures, 3 for colour</param>
    /// <param name="inputSize">the side of the square input, a multiple of 16</param>
    /// <param name="width">channels of the first block (the later ones have 2×, 4× and 8×)</param>
    /// <param name="hidden">units of the box head's fully connected layer</param>
    /// <param name="dropout">dropout before each head's last layer</param>
    public Localizer(int numClasses = 10, int inChannels = 1, int inputSize = 64, int width = 16, int hidden = 256, float dropout = 0.25f)
    {
        ModelChecks.ClassesAndChannels("Localizer", numClasses, inChannels);
        ModelChecks.Positive("Localizer", nameof(width), width);
        ModelChecks.Positive("Localizer", nameof(hidden), hidden);
        if (inputSize < 16 || inputSize % 16 != 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, $"Localizer: inputSize must be a positive multiple of 16 (four 2×2 max-pools), not {inputSize}.");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"Localizer: dropout must be in [0, 1), not {dropout}.");
        (Classes, InChannels, InputSize) = (numClasses, inChannels, inputSize);

        ConvBnRelu Block(int from, int to) => new(from, to, 3, padding: 1);
        Features = RegisterModule("features", new Sequential(
            Block(inChannels, width), new MaxPool2d(2),
            Block(width, 2 * width), new MaxPool2d(2),
            Block(2 * width, 4 * width), Block(4 * width, 4 * width), new MaxPool2d(2),
            Block(4 * width, 8 * width), new MaxPool2d(2)));
        int side = inputSize / 16;
        BoxHead = RegisterModule("box_head", new Sequential(
            new Linear(8 * width * side * side, hidden), new ReLU(), new Dropout(dropout), new Linear(hidden, 5)));
        StartAtTheMeanBox((Linear)BoxHead.NamedChildren().Last().Module);
        // The global maximum as a max-pool over the whole (side × side) map: it exports to ONNX as a plain MaxPool.
        ClassHead = RegisterModule("class_head", new Sequential(new MaxPool2d(side), new Flatten(), new Dropout(dropout), new Linear(8 * width, numClasses)));
    }

    /// <summary>
    /// The box head's last layer starts small (weights ×0.1) around pc's logit 0 and the box (bx, by, bh, bw) =
    /// (0.5, 0.5, 0.5, 0.5), a box in the middle of the picture. With the default initialisation its first boxes are off
    /// by ±1 picture, and their gradient — larger than the class's — swamped the shared features for the first hundred
    /// steps: pc, the box and the class all learnt slowly. Starting near the average box, the box loss starts 20× smaller.
    /// </summary>
    static void StartAtTheMeanBox(Linear last)
    {
        using var _ = Tensor.NoGrad();
        last.Weight.CopyFrom(last.Weight * 0.1f);
        last.Bias!.CopyFrom(Tensor.FromArray([0f, 0.5f, 0.5f, 0.5f, 0.5f], 5));
    }

    /// <param name="input">(N, inChannels, inputSize, inputSize)</param>
    /// <returns>(N, 5 + n): pc (or its logit), bx, by, bh, bw, class scores</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput(input.Shape);
        var features = Features.Forward(input);
        return F.Concat([BoxHead.Forward(F.Flatten(features, 1)), ClassHead.Forward(features)], 1);
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        CheckInput(inputShape);
        var features = Features.OutputShape(inputShape);
        return ShapeInference.Concat([BoxHead.OutputShape(ShapeInference.Flatten(features, 1)), ClassHead.OutputShape(features)], 1);
    }

    void CheckInput(IReadOnlyList<int> shape)
    {
        if (shape.Count != 4 || shape[1] != InChannels || shape[2] != InputSize || shape[3] != InputSize)
            throw new ArgumentException($"Localizer: the input must be (N, {InChannels}, {InputSize}, {InputSize}) pictures, got {ModelChecks.Format(shape)}.");
    }
}
