using System.Globalization;
using ConvKit.NN;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// A small YOLO v2 (Redmon and Farhadi, 2016): a Darknet-style backbone of 3×3 conv-bn-leaky (slope 0.1) blocks with four
/// 2×2 max-pools (stride 16), then a 1×1 convolution predicting, for each grid cell and each of the B anchors,
/// (tx, ty, tw, th, objectness, class logits). Output (N, B·(5 + classes), H/16, W/16), anchor-major: anchor b owns
/// channels b·(5 + classes) … (b + 1)·(5 + classes) − 1. <see cref="YoloDecoder"/> turns it into boxes and
/// <see cref="YoloLoss"/> trains it. Sub-modules <c>features</c> (conv, bn, leaky, [pool] flattened as torchvision's
/// VGG <c>features</c>) and <c>head</c>; the anchors are the buffer <c>anchors</c> (B, 2) in input pixels.
/// </summary>
public sealed class YoloV2 : Module, IDetectionModel
{
    /// <summary>The anchors before any k-means: one small square, two elongated, a medium and a large square (pixels).</summary>
    public static readonly IReadOnlyList<(float Width, float Height)> DefaultAnchors = [(16, 16), (24, 40), (40, 24), (40, 40), (64, 64)];

    /// <summary>
    /// The objectness logits' initial bias: σ(−4.6) ≈ 1 %, the share of cells and anchors that hold an object. Starting
    /// there keeps the many empty cells from swamping the first steps' gradients (the prior of Lin et al.'s focal loss).
    /// </summary>
    public const float ObjectnessPriorBias = -4.6f;

    readonly Sequential features;
    readonly Conv2d head;
    readonly Tensor anchors;

    /// <param name="numClasses">object classes (no background class: objectness says whether a box holds anything)</param>
    /// <param name="inChannels">1 for grey pictures, 3 for colour</param>
    /// <param name="anchors">anchor sizes in pixels; <see cref="DefaultAnchors"/> when null</param>
    public YoloV2(int numClasses = 10, int inChannels = 1, IReadOnlyList<(float Width, float Height)>? anchors = null)
    {
        ModelChecks.ClassesAndChannels("YoloV2", numClasses, inChannels);
        anchors ??= DefaultAnchors;
        if (anchors.Count < 1) throw new ArgumentException("YoloV2: there must be at least one anchor.", nameof(anchors));
        Classes = numClasses;

        features = RegisterModule("features", new Sequential());
        int channels = inChannels;
        foreach (var (width, pool) in new[] { (16, true), (32, true), (64, true), (128, true), (256, false), (256, false) })
        {
            features.Add(new Conv2d(channels, width, 3, padding: 1, bias: false));
            features.Add(new BatchNorm2d(width));
            features.Add(new LeakyReLU(0.1f));
            if (pool) features.Add(new MaxPool2d(2));
            channels = width;
        }
        int perAnchor = 5 + numClasses;
        head = RegisterModule("head", new Conv2d(channels, anchors.Count * perAnchor, 1));
        var bias = head.Bias!.ToArray();
        for (int b = 0; b < anchors.Count; b++) bias[b * perAnchor + 4] = ObjectnessPriorBias;
        using (Tensor.NoGrad()) head.Bias!.CopyFrom(Tensor.FromArray(bias, bias.Length));

        this.anchors = RegisterBuffer("anchors", Tensor.Zeros([anchors.Count, 2]));
        SetAnchors(anchors.ToArray());
    }

    /// <inheritdoc/>
    public int Stride => 16;
    /// <inheritdoc/>
    public int Classes { get; }
    /// <inheritdoc/>
    public Tensor Anchors => anchors;

    /// <inheritdoc/>
    public void SetAnchors(ReadOnlySpan<(float Width, float Height)> sizes)
    {
        int count = anchors.Shape[0];
        if (sizes.Length != count)
            throw new ArgumentException($"YoloV2.SetAnchors: {sizes.Length} anchors given, but the head predicts {count} per cell.");
        var values = new float[2 * count];
        for (int b = 0; b < count; b++)
        {
            var (width, height) = sizes[b];
            if (!(width > 0 && height > 0 && float.IsFinite(width) && float.IsFinite(height)))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"YoloV2.SetAnchors: anchor {b} is {width}×{height}; sizes must be positive finite pixels."));
            (values[2 * b], values[2 * b + 1]) = (width, height);
        }
        using (Tensor.NoGrad()) anchors.CopyFrom(Tensor.FromArray(values, count, 2));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput(input.Shape);
        return head.Forward(features.Forward(input));
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        CheckInput(inputShape);
        return head.OutputShape(features.OutputShape(inputShape));
    }

    void CheckInput(IReadOnlyList<int> shape)
    {
        if (shape.Count != 4 || shape[2] % Stride != 0 || shape[3] % Stride != 0)
            throw new ArgumentException($"YoloV2: the input must be (N, C, H, W) with H and W divisible by {Stride}, got {ModelChecks.Format(shape)}.");
    }
}
