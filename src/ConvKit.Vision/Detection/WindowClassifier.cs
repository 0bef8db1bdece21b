using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// A classifier of fixed-size windows, the kind sliding-window detection runs at every place of a picture: a
/// <see cref="Features"/> stack that only slides over the picture (convolutions and pools without padding, element-wise
/// activations, batch norm, dropout), then fully connected layers (<see cref="Classifier"/>: <see cref="Linear"/> layers
/// with element-wise layers between them) to class logits. Because nothing in the stack pads or looks at the whole
/// picture, <see cref="ToConvolutional"/> can run the same weights over a larger picture in one pass, each fully
/// connected layer turned into a convolution (<see cref="ConvolutionalWindowClassifier"/>).
/// Sub-modules <c>features</c> and <c>classifier</c>.
/// </summary>
public sealed class WindowClassifier : Module
{
    /// <summary>The sliding part: convolutions and pools without padding, element-wise layers.</summary>
    public Sequential Features { get; }
    /// <summary>The fully connected part: <see cref="Linear"/> layers with element-wise layers between them.</summary>
    public Sequential Classifier { get; }
    /// <summary>Channels of the pictures.</summary>
    public int InChannels { get; }
    /// <summary>The window's (height, width): the input this classifier takes.</summary>
    public Size2 WindowSize { get; }
    /// <summary>The number of classes (the last linear layer's outputs).</summary>
    public int Classes { get; }
    /// <summary>The step between neighbouring windows that the convolutional form computes: the product of the features' strides.</summary>
    public Size2 Stride { get; }
    /// <summary>(channels, height, width) of the features of one window: what the first linear layer reads, flattened.</summary>
    public (int Channels, int Height, int Width) FeatureShape { get; }

    /// <param name="features">convolutions (<see cref="Conv2d"/> or <see cref="ConvBnRelu"/>) and pools
    /// (<see cref="MaxPool2d"/>, <see cref="AvgPool2d"/>) without padding, and element-wise layers (ReLU, LeakyReLU,
    /// ReLU6, Tanh, Sigmoid, GELU, BatchNorm2d, Dropout)</param>
    /// <param name="classifier">at least one <see cref="Linear"/> layer, the first reading the flattened features; element-wise layers between</param>
    /// <param name="inChannels">channels of the pictures</param>
    /// <param name="windowSize">the window's (height, width)</param>
    public WindowClassifier(Sequential features, Sequential classifier, int inChannels, Size2 windowSize)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(classifier);
        ModelChecks.Positive("WindowClassifier", nameof(inChannels), inChannels);
        if (windowSize.Height < 1 || windowSize.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, $"WindowClassifier: the window must be at least 1×1, not {windowSize}.");
        (InChannels, WindowSize) = (inChannels, windowSize);
        Stride = CheckFeatures(features);
        var linears = CheckClassifier(classifier);

        int[] shape;
        try { shape = OutputShape(features, [1, inChannels, windowSize.Height, windowSize.Width]); }
        catch (ArgumentException e) { throw new ArgumentException($"WindowClassifier: a {windowSize.Height}×{windowSize.Width} window of {inChannels} channels does not fit the features: {e.Message}", e); }
        FeatureShape = (shape[1], shape[2], shape[3]);
        int flattened = shape[1] * shape[2] * shape[3];
        if (linears[0].InFeatures != flattened)
            throw new ArgumentException($"WindowClassifier: the first linear layer reads {linears[0].InFeatures} features, but a {windowSize.Height}×{windowSize.Width} window " +
                $"gives features of shape [{shape[1]}, {shape[2]}, {shape[3]}] = {flattened}.");
        for (int i = 1; i < linears.Count; i++)
            if (linears[i].InFeatures != linears[i - 1].OutFeatures)
                throw new ArgumentException($"WindowClassifier: linear layer {i} reads {linears[i].InFeatures} features but the one before gives {linears[i - 1].OutFeatures}.");
        Classes = linears[^1].OutFeatures;
        Features = RegisterModule("features", features);
        Classifier = RegisterModule("classifier", classifier);
    }

    /// <summary>
    /// The course's example: a 14×14×3 window, 16 filters of 5×5 (→ 10×10×16), ReLU, 2×2 max-pool (→ 5×5×16), fully
    /// connected layers of 400 and 400 units with ReLU, and a softmax over 4 classes. Its convolutional form takes a 16×16
    /// picture to 2×2×4: the four 14×14 windows at a stride of 2.
    /// </summary>
    public static WindowClassifier Course(int inChannels = 3, int classes = 4) => new(
        new Sequential(new Conv2d(inChannels, 16, 5), new ReLU(), new MaxPool2d(2)),
        new Sequential(new Linear(5 * 5 * 16, 400), new ReLU(), new Linear(400, 400), new ReLU(), new Linear(400, classes)),
        inChannels, 14);

    /// <summary>
    /// A classifier of 28×28 windows (a Fashion-MNIST item at its own size): two 3×3 convolutions of 32 channels with
    /// batch norm and ReLU, a 2×2 max-pool, two of 64, a 2×2 max-pool (→ 64×4×4), then 256 units, dropout, and the
    /// classes — all without padding, so its convolutional form slides at a stride of 4.
    /// </summary>
    public static WindowClassifier Small(int classes = 10, int inChannels = 1, float dropout = 0.25f)
    {
        ModelChecks.ClassesAndChannels("WindowClassifier", classes, inChannels);
        ConvBnRelu Block(int from, int to) => new(from, to, 3);
        return new WindowClassifier(
            new Sequential(Block(inChannels, 32), Block(32, 32), new MaxPool2d(2), Block(32, 64), Block(64, 64), new MaxPool2d(2)),
            new Sequential(new Linear(64 * 4 * 4, 256), new ReLU(), new Dropout(dropout), new Linear(256, classes)),
            inChannels, 28);
    }

    /// <summary>The same weights run over whole pictures: each linear layer as a convolution (see <see cref="ConvolutionalWindowClassifier"/>).</summary>
    public ConvolutionalWindowClassifier ToConvolutional() => new(this);

    /// <summary>
    /// The number of window positions down and across a <paramref name="height"/> × <paramref name="width"/> picture:
    /// ⌊(H − window height) / stride⌋ + 1 and the same across. Throws when the picture is smaller than the window.
    /// </summary>
    public (int Rows, int Columns) Positions(int height, int width)
    {
        var (window, stride) = (WindowSize, Stride);
        if (height < window.Height || width < window.Width)
            throw new ArgumentException($"WindowClassifier: a {height}×{width} picture is smaller than the {window.Height}×{window.Width} window.");
        return ((height - window.Height) / stride.Height + 1, (width - window.Width) / stride.Width + 1);
    }

    /// <param name="input">(N, InChannels, window height, window width)</param>
    /// <returns>logits (N, Classes)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank != 4 || input.Shape[1] != InChannels || input.Shape[2] != WindowSize.Height || input.Shape[3] != WindowSize.Width)
            throw new ArgumentException($"WindowClassifier: the input must be (N, {InChannels}, {WindowSize.Height}, {WindowSize.Width}) windows, got {ModelChecks.Format(input.Shape)}; " +
                "run it over larger pictures with SlidingWindows.");
        return Classifier.Forward(F.Flatten(Features.Forward(input), 1));
    }

    /// <summary>The linear layers of the classifier; throws unless it holds only linear and element-wise layers, a linear one last.</summary>
    internal static IReadOnlyList<Linear> CheckClassifier(Sequential classifier)
    {
        var linears = new List<Linear>();
        foreach (var (name, layer) in classifier.NamedChildren())
        {
            if (layer is Linear linear) linears.Add(linear);
            else if (!IsElementwise(layer))
                throw new ArgumentException($"WindowClassifier: classifier layer '{name}' is a {layer.GetType().Name}; the classifier may hold only Linear layers and element-wise ones (ReLU, LeakyReLU, ReLU6, Tanh, Sigmoid, GELU, Dropout).");
        }
        if (linears.Count == 0 || classifier.NamedChildren().Last().Module is not Linear)
            throw new ArgumentException("WindowClassifier: the classifier must end with a Linear layer giving the class logits.");
        return linears;
    }

    /// <summary>The product of the features' strides; throws for a layer that pads or is not translation-equivariant.</summary>
    static Size2 CheckFeatures(Sequential features)
    {
        var (strideHeight, strideWidth) = (1, 1);
        foreach (var (name, layer) in features.NamedChildren())
        {
            Size2 stride;
            switch (layer)
            {
                case Conv2d conv:
                    CheckNoPadding(name, conv.Padding);
                    stride = conv.Stride;
                    break;
                case ConvBnRelu block:
                    CheckNoPadding(name, block.Conv.Padding);
                    stride = block.Conv.Stride;
                    break;
                case MaxPool2d pool when !pool.SamePadding && pool.Padding == (Size2)0 && !pool.CeilMode:
                    stride = pool.Stride;
                    break;
                case AvgPool2d pool when pool.Padding == (Size2)0 && !pool.CeilMode:
                    stride = pool.Stride;
                    break;
                case BatchNorm2d:
                case var _ when IsElementwise(layer):
                    stride = 1;
                    break;
                default:
                    throw new ArgumentException($"WindowClassifier: feature layer '{name}' ({layer}) cannot slide over a picture; the features may hold convolutions and pools " +
                        "without padding or ceil mode, and element-wise layers (ReLU, LeakyReLU, ReLU6, Tanh, Sigmoid, GELU, BatchNorm2d, Dropout).");
            }
            (strideHeight, strideWidth) = (strideHeight * stride.Height, strideWidth * stride.Width);
        }
        return new Size2(strideHeight, strideWidth);

        static void CheckNoPadding(string name, Padding padding)
        {
            if (padding.Mode != PaddingMode.Explicit || padding.Size != (Size2)0)
                throw new ArgumentException($"WindowClassifier: feature layer '{name}' pads by {padding}; padding would make a window's features depend on where it lies, so sliding windows need unpadded convolutions.");
        }
    }

    static bool IsElementwise(Module layer) => layer is ReLU or LeakyReLU or ReLU6 or Tanh or Sigmoid or GELU or Dropout;

    /// <summary>The features' output shape for an input shape, layer by layer (shape errors name the layer).</summary>
    internal static int[] OutputShape(Sequential features, int[] shape)
    {
        foreach (var (_, layer) in features.NamedChildren())
            shape = layer switch
            {
                Conv2d conv => conv.OutputShape(shape),
                ConvBnRelu block => block.Conv.OutputShape(shape),
                MaxPool2d pool => pool.OutputShape(shape),
                AvgPool2d pool => pool.OutputShape(shape),
                _ => shape,
            };
        return shape;
    }
}
