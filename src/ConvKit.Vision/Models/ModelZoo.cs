using ConvKit.NN;
using ConvKit.Training;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Models;

/// <summary>A model the zoo can build, with the input it was designed for (its defaults).</summary>
/// <param name="Create">builds a fresh model from (input channels, number of classes)</param>
public sealed record ZooModel(string Name, string Description, int InChannels, int NumClasses, Size2 InputSize,
    Func<int, int, Module> Create)
{
    /// <summary>
    /// Builds the model for pictures of another (height, width) than <see cref="InputSize"/>, from (input channels,
    /// number of classes, size), for models whose layers depend on the size (SmallCnn's linear layer); null when the
    /// layers are the same at every size (the model either adapts, by adaptive pooling, or takes one size only).
    /// </summary>
    public Func<int, int, Size2, Module>? CreateSized { get; init; }

    /// <summary>
    /// A fresh model for pictures of <paramref name="inputSize"/>: built for that size when the model can be, else
    /// checked by running one picture of that size through it (in evaluation mode, without gradients). A size the
    /// model cannot take throws an <see cref="ArgumentException"/> that names the model, the size it takes and why,
    /// before any training starts.
    /// </summary>
    public Module CreateFor(int inChannels, int numClasses, Size2 inputSize)
    {
        Module model;
        try { model = Build(inChannels, numClasses, inputSize); }
        catch (ArgumentException e) { throw CannotTake(inChannels, inputSize, e); }
        if (inputSize == InputSize) return model;
        bool training = model.Training;
        model.Eval();
        try
        {
            using (Tensor.NoGrad()) model.Forward(Tensor.Zeros(1, inChannels, inputSize.Height, inputSize.Width));
        }
        catch (ArgumentException e) { throw CannotTake(inChannels, inputSize, e); }
        finally { model.Train(training); }
        return model;
    }

    /// <summary>The model as built for <paramref name="inputSize"/>, unchecked (a checkpoint's model was checked when it was trained).</summary>
    internal Module Build(int inChannels, int numClasses, Size2 inputSize) =>
        CreateSized != null && inputSize != InputSize ? CreateSized(inChannels, numClasses, inputSize) : Create(inChannels, numClasses);

    ArgumentException CannotTake(int channels, Size2 size, ArgumentException cause)
    {
        // The layer's own words without .NET's "(Parameter 'x')" suffix.
        string reason = cause.ParamName is { } name ? cause.Message.Replace($" (Parameter '{name}')", "") : cause.Message;
        return new ArgumentException($"model '{Name}' cannot take {channels}×{size.Height}×{size.Width} pictures ({reason.TrimEnd('.')}); " +
            $"it is made for {InputSize.Height}×{InputSize.Width}: use that size, or a model whose layers adapt to the size (see 'convkit models').", cause);
    }
}

/// <summary>The named architectures, for the command line and anything else that picks a model by name.</summary>
public static class ModelZoo
{
    static readonly SortedDictionary<string, ZooModel> models = new(StringComparer.OrdinalIgnoreCase);

    static ModelZoo()
    {
        const string Mnist = "for 28×28 grey images";
        Register("lenet5", "LeNet-5 as taught: tanh, average pooling, 32×32 grey input", (c, n) => new LeNet5(n, c), 1, 10, 32);
        Register("lenet5-mnist", $"LeNet-5 {Mnist} (the first convolution pads by 2, as the paper centred digits in 32×32)",
            (c, n) => new LeNet5(n, c, inputSize: 28), 1, 10, 28);
        Register("small-cnn", $"two conv-bn-relu pairs at 32 and 64 channels, max-pools, dropout, linear; {Mnist}",
            (c, n) => new SmallCnn(n, c), 1, 10, 28);
        BuildsForAnySize("small-cnn", (c, n, size) => size.Height == size.Width ? new SmallCnn(n, c, inputSize: size.Height)
            : throw new ArgumentException($"SmallCnn takes square pictures, not {size.Height}×{size.Width}."));
        Register("resnet-mnist", $"ResNet with basic blocks [2, 2, 2, 2], widths 16–128, a 3×3 stride-1 stem and no max-pool; {Mnist}",
            (c, n) => ResNet.ResNetMnist(n, c), 1, 10, 28);

        Register("alexnet", "AlexNet, torchvision's variant (64-192-384-256-256 channels, no LRN)", (c, n) => AlexNet.TorchVision(n, c));
        Register("alexnet-lrn", "AlexNet as in the 2012 paper: 96-256-384-384-256 channels, local response norm, 227×227 input",
            (c, n) => AlexNet.Original(n, c), inputSize: 227);
        foreach (int depth in Vgg.Depths)
        {
            Register($"vgg{depth}", $"VGG-{depth}", (c, n) => new Vgg(depth, batchNorm: false, n, c));
            Register($"vgg{depth}-bn", $"VGG-{depth} with batch normalisation", (c, n) => new Vgg(depth, batchNorm: true, n, c));
        }
        Register("resnet18", "ResNet-18: basic blocks [2, 2, 2, 2]", (c, n) => ResNet.ResNet18(n, c));
        Register("resnet34", "ResNet-34: basic blocks [3, 4, 6, 3]", (c, n) => ResNet.ResNet34(n, c));
        Register("resnet50", "ResNet-50: bottleneck blocks [3, 4, 6, 3]", (c, n) => ResNet.ResNet50(n, c));
        Register("resnet101", "ResNet-101: bottleneck blocks [3, 4, 23, 3]", (c, n) => ResNet.ResNet101(n, c));
        Register("resnet152", "ResNet-152: bottleneck blocks [3, 8, 36, 3]", (c, n) => ResNet.ResNet152(n, c));
        Register("googlenet", "GoogLeNet (Inception v1) with its two auxiliary classifiers", (c, n) => new GoogLeNet(n, c));
        Register("unet", "U-Net: depth 4, widths 64–1024, transposed-convolution up-sampling, skip concatenation",
            (c, n) => new UNet(n, c), numClasses: 2, inputSize: 256);
        Register("unet-small", "U-Net at a quarter of the width: depth 4, widths 16–256 (1.9M parameters), for training on a CPU",
            (c, n) => new UNet(n, c, width: 16), inChannels: 1, numClasses: 11, inputSize: 64);
        Register("fcn-resnet18", "FCN-16s on a ResNet-18 backbone: 1×1 class scores at 1/32 and 1/16, transposed-convolution up-sampling",
            (c, n) => new FcnResNet(n, c), numClasses: 21);
        Register("yolo-small", "YOLO v2 at small scale: six 3×3 conv-bn-leaky layers (16–256 channels, stride 16), a 1×1 head for 5 anchors, for training on a CPU",
            (c, n) => new YoloV2(n, c), inChannels: 1, numClasses: 10, inputSize: 128);
        Register("rcnn", "R-CNN: selective-search proposals warped to 32×32, each classified by a small CNN (3 conv-bn-relu blocks, fc 256-256) with a background class and per-class box regression",
            (c, n) => new RCnn(n, c), inChannels: 1, numClasses: 10, inputSize: 128);
        Register("fast-rcnn", "Fast R-CNN: one stride-8 backbone pass (4 conv-bn-relu blocks, 16–128 channels), 7×7 RoI max pooling of the selective-search proposals, fc 256-256 class and box heads",
            (c, n) => new FastRCnn(n, c), inChannels: 1, numClasses: 10, inputSize: 128);
        Register("faster-rcnn", "Faster R-CNN: the Fast R-CNN backbone and head (7×7 RoIAlign) fed by a region proposal network over 9 anchors a cell (24–64 pixels, ratios ½–2), trained end to end",
            (c, n) => new FasterRCnn(n, c), inChannels: 1, numClasses: 10, inputSize: 128);
        Register("localizer-small", "classification with localisation: five conv-bn-relu blocks (16–128 channels, stride 16), a fully connected box head (pc, bx, by, bh, bw) and a global-max-pooled class head (c1..cn)",
            (c, n) => new Localizer(n, c), inChannels: 1, numClasses: 10, inputSize: 64);
    }

    /// <summary>Builds <paramref name="name"/> for pictures of another size than its designed one (see <see cref="ZooModel.CreateSized"/>).</summary>
    static void BuildsForAnySize(string name, Func<int, int, Size2, Module> createSized) => models[name] = models[name] with { CreateSized = createSized };

    /// <summary>Adds (or replaces) a model; <paramref name="create"/> takes (input channels, number of classes).</summary>
    /// <param name="inChannels">default input channels</param>
    /// <param name="numClasses">default number of classes</param>
    /// <param name="inputSize">the (height, width) the model was designed for; 224×224 when null</param>
    public static void Register(string name, string description, Func<int, int, Module> create,
        int inChannels = 3, int numClasses = 1000, Size2? inputSize = null) =>
        models[name] = new ZooModel(name, description, inChannels, numClasses, inputSize ?? 224, create);

    /// <summary>Every model, by name.</summary>
    public static IEnumerable<ZooModel> All => models.Values;

    /// <summary>Every model's name and one-line description.</summary>
    public static IEnumerable<(string Name, string Description)> Models => models.Values.Select(m => (m.Name, m.Description));

    /// <summary>The entry for <paramref name="name"/> (case-insensitive); an unknown name throws, listing the known ones.</summary>
    public static ZooModel Get(string name) =>
        models.TryGetValue(name, out var model) ? model
        : throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", models.Keys)}");

    /// <summary>A fresh model; channels and classes default to the model's own (e.g. 3 and 1000 for ImageNet models).</summary>
    public static Module Create(string name, int? inChannels = null, int? numClasses = null)
    {
        var model = Get(name);
        return model.Create(inChannels ?? model.InChannels, numClasses ?? model.NumClasses);
    }

    /// <summary>A fresh model as <paramref name="card"/> describes it (its zoo name, constructor arguments and input size), untrained.</summary>
    public static Module Create(ModelCard card)
    {
        var (entry, shape) = (Get(card.Model), card.Preprocessing.InputShape);
        return entry.Build(card.Arguments.InChannels, card.Arguments.NumClasses, shape.Count == 3 ? new Size2(shape[1], shape[2]) : entry.InputSize);
    }

    /// <summary>
    /// The trained model of a checkpoint written by <c>convkit train</c> or <c>convkit segment train</c>: its card, which
    /// must be for <paramref name="task"/> (another task's checkpoint is refused, naming <paramref name="path"/>), and the
    /// zoo model it describes holding the checkpoint's weights.
    /// </summary>
    public static (Module Model, ModelCard Card) Load(Checkpoint checkpoint, string path, string task)
    {
        var card = ModelCard.FromCheckpoint(checkpoint, path);
        card.RequireTask(task, path);
        var model = Create(card);
        model.LoadStateDict(checkpoint.ModelState);
        return (model, card);
    }
}
