using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Models;

/// <summary>
/// GoogLeNet, Inception v1 (Szegedy et al., 2014), laid out as torchvision's <c>googlenet</c> (names, sizes,
/// batch norm with eps 0.001, 3×3 third branch): a stem, nine <see cref="InceptionBlock"/>s with max-pools between
/// the groups, global average pooling, dropout and a linear classifier. During training two
/// <see cref="AuxiliaryClassifier"/>s on intermediate features add gradient to the middle of the network:
/// in training mode <see cref="Module.ForwardOutputs"/> returns <c>logits</c>, <c>aux1</c> and <c>aux2</c> (the
/// paper weights the side losses by 0.3, as the classification task of the trainer does); in evaluation mode, and
/// from <see cref="Module.Forward(Tensor)"/> and export, only <c>logits</c>. No input transform: feed images normalised as for the other models.
/// </summary>
public sealed class GoogLeNet : Module
{
    readonly ConvBnRelu conv1, conv2, conv3;
    readonly MaxPool2d maxpool1, maxpool2, maxpool3, maxpool4;
    readonly InceptionBlock inception3a, inception3b, inception4a, inception4b, inception4c, inception4d, inception4e, inception5a, inception5b;
    readonly AdaptiveAvgPool2d avgpool;
    readonly Dropout dropout;

    /// <summary>The side classifier after <c>inception4a</c>, or null without auxiliary logits.</summary>
    public AuxiliaryClassifier? Aux1 { get; }
    /// <summary>The side classifier after <c>inception4d</c>, or null without auxiliary logits.</summary>
    public AuxiliaryClassifier? Aux2 { get; }
    /// <summary>The final classifier, 1024 features to the classes.</summary>
    public Linear Fc { get; }

    /// <param name="auxLogits">build the two side classifiers (used in training mode only)</param>
    public GoogLeNet(int numClasses = 1000, int inChannels = 3, bool auxLogits = true, float dropout = 0.2f, float dropoutAux = 0.7f)
    {
        ModelChecks.ClassesAndChannels("GoogLeNet", numClasses, inChannels);
        conv1 = RegisterModule("conv1", Conv(inChannels, 64, 7, stride: 2, padding: 3));
        maxpool1 = RegisterModule("maxpool1", Pool(3, 2));
        conv2 = RegisterModule("conv2", Conv(64, 64, 1));
        conv3 = RegisterModule("conv3", Conv(64, 192, 3, padding: 1));
        maxpool2 = RegisterModule("maxpool2", Pool(3, 2));

        inception3a = RegisterModule("inception3a", Inception(192, 64, 96, 128, 16, 32, 32));
        inception3b = RegisterModule("inception3b", Inception(256, 128, 128, 192, 32, 96, 64));
        maxpool3 = RegisterModule("maxpool3", Pool(3, 2));

        inception4a = RegisterModule("inception4a", Inception(480, 192, 96, 208, 16, 48, 64));
        inception4b = RegisterModule("inception4b", Inception(512, 160, 112, 224, 24, 64, 64));
        inception4c = RegisterModule("inception4c", Inception(512, 128, 128, 256, 24, 64, 64));
        inception4d = RegisterModule("inception4d", Inception(512, 112, 144, 288, 32, 64, 64));
        inception4e = RegisterModule("inception4e", Inception(528, 256, 160, 320, 32, 128, 128));
        maxpool4 = RegisterModule("maxpool4", Pool(2, 2));

        inception5a = RegisterModule("inception5a", Inception(832, 256, 160, 320, 32, 128, 128));
        inception5b = RegisterModule("inception5b", Inception(832, 384, 192, 384, 48, 128, 128));

        if (auxLogits)
        {
            Aux1 = RegisterModule("aux1", new AuxiliaryClassifier(512, numClasses, dropoutAux));
            Aux2 = RegisterModule("aux2", new AuxiliaryClassifier(528, numClasses, dropoutAux));
        }
        avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        this.dropout = RegisterModule("dropout", new Dropout(dropout));
        Fc = RegisterModule("fc", new Linear(1024, numClasses));

        // torchvision's initialisation: every convolution and linear weight from N(0, 0.01²).
        foreach (var (name, parameter) in NamedParameters())
            if (parameter.Rank > 1) Init.Normal(parameter, 0, 0.01f);
    }

    static ConvBnRelu Conv(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0) =>
        new(inChannels, outChannels, kernel, stride, padding, eps: 1e-3f);

    static MaxPool2d Pool(int kernel, int stride) => new(kernel, stride, ceilMode: true);

    static InceptionBlock Inception(int inChannels, int ch1x1, int ch3x3Reduce, int ch3x3, int ch5x5Reduce, int ch5x5, int poolProj) =>
        new(inChannels, ch1x1, ch3x3Reduce, ch3x3, ch5x5Reduce, ch5x5, poolProj, ch5x5Kernel: 3, eps: 1e-3f);

    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) => Run(input, withAuxiliary: false)["logits"];

    /// <param name="inputs">one tensor (N, inChannels, 224, 224)</param>
    /// <returns><c>logits</c>, and in training mode with side classifiers <c>aux1</c> (after inception4a) and <c>aux2</c> (after inception4d), each (N, numClasses)</returns>
    protected override TensorDict ForwardCore(IReadOnlyList<Tensor> inputs) => inputs.Count == 1
        ? Run(inputs[0], withAuxiliary: Training && Aux1 != null)
        : throw new ArgumentException($"GoogLeNet: takes 1 input, got {inputs.Count}.");

    TensorDict Run(Tensor input, bool withAuxiliary)
    {
        var x = maxpool1.Forward(conv1.Forward(input));
        x = maxpool2.Forward(conv3.Forward(conv2.Forward(x)));
        x = maxpool3.Forward(inception3b.Forward(inception3a.Forward(x)));
        x = inception4a.Forward(x);
        var aux1 = withAuxiliary ? Aux1!.Forward(x) : null;
        x = inception4d.Forward(inception4c.Forward(inception4b.Forward(x)));
        var aux2 = withAuxiliary ? Aux2!.Forward(x) : null;
        x = maxpool4.Forward(inception4e.Forward(x));
        x = inception5b.Forward(inception5a.Forward(x));
        var logits = Fc.Forward(dropout.Forward(F.Flatten(avgpool.Forward(x), 1)));
        return aux1 is null ? new TensorDict { { "logits", logits } } : new TensorDict { { "logits", logits }, { "aux1", aux1 }, { "aux2", aux2! } };
    }

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => Shapes(inputShape, withAuxiliary: false)["logits"];

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, int[]> OutputShapesCore(IReadOnlyList<int[]> inputShapes) => inputShapes.Count == 1
        ? Shapes(inputShapes[0], withAuxiliary: Training && Aux1 != null)
        : throw new ArgumentException($"GoogLeNet: takes 1 input, got {inputShapes.Count}.");

    // The shape-only twin of Run: the same calls in the same order.
    OrderedDictionary<string, int[]> Shapes(int[] input, bool withAuxiliary)
    {
        var x = maxpool1.OutputShape(conv1.OutputShape(input));
        x = maxpool2.OutputShape(conv3.OutputShape(conv2.OutputShape(x)));
        x = maxpool3.OutputShape(inception3b.OutputShape(inception3a.OutputShape(x)));
        x = inception4a.OutputShape(x);
        var aux1 = withAuxiliary ? Aux1!.OutputShape(x) : null;
        x = inception4d.OutputShape(inception4c.OutputShape(inception4b.OutputShape(x)));
        var aux2 = withAuxiliary ? Aux2!.OutputShape(x) : null;
        x = maxpool4.OutputShape(inception4e.OutputShape(x));
        x = inception5b.OutputShape(inception5a.OutputShape(x));
        var logits = Fc.OutputShape(dropout.OutputShape(ShapeInference.Flatten(avgpool.OutputShape(x), 1)));
        var shapes = new OrderedDictionary<string, int[]> { ["logits"] = logits };
        if (aux1 != null) (shapes["aux1"], shapes["aux2"]) = (aux1, aux2!);
        return shapes;
    }
}

/// <summary>
/// GoogLeNet's side classifier: adaptive average pooling to 4×4, a 1×1 <see cref="ConvBnRelu"/> to 128 channels,
/// a 2048 → 1024 linear layer with ReLU, dropout (0.7) and a linear layer to the classes. Sub-modules
/// <c>conv, fc1, fc2</c> as torchvision's <c>InceptionAux</c>.
/// </summary>
public sealed class AuxiliaryClassifier : Module
{
    readonly AdaptiveAvgPool2d pool;
    readonly ConvBnRelu conv;
    readonly Linear fc1, fc2;
    readonly ReLU relu;
    readonly Dropout dropout;

    /// <summary>A side classifier on <paramref name="inChannels"/> channels of features.</summary>
    public AuxiliaryClassifier(int inChannels, int numClasses, float dropout = 0.7f)
    {
        pool = RegisterModule("pool", new AdaptiveAvgPool2d(4));
        conv = RegisterModule("conv", new ConvBnRelu(inChannels, 128, 1, eps: 1e-3f));
        fc1 = RegisterModule("fc1", new Linear(128 * 4 * 4, 1024));
        relu = RegisterModule("relu", new ReLU());
        fc2 = RegisterModule("fc2", new Linear(1024, numClasses));
        this.dropout = RegisterModule("dropout", new Dropout(dropout));
    }

    /// <param name="input">(N, inChannels, H, W)</param>
    /// <returns>logits (N, numClasses)</returns>
    protected override Tensor ForwardCore(Tensor input) =>
        fc2.Forward(dropout.Forward(relu.Forward(fc1.Forward(F.Flatten(conv.Forward(pool.Forward(input)), 1)))));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        fc2.OutputShape(dropout.OutputShape(relu.OutputShape(fc1.OutputShape(ShapeInference.Flatten(conv.OutputShape(pool.OutputShape(inputShape)), 1)))));
}
