using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Vision.Models;

namespace ConvKit.Vision.Style;

/// <summary>
/// A frozen, pretrained network whose middle activations measure content and style: the packaged ImageNet ResNet-18
/// (<see cref="ResNet18"/>) or VGG-19 with torchvision's weights (<see cref="Vgg19(string)"/>). It takes pictures as
/// <see cref="Imaging.ImageFiles"/> gives them — RGB in [0, 1], (1, 3, H, W) — and applies the network's own
/// preprocessing inside the graph, so gradients reach the pixels. Layers are chosen by name: the friendly names in
/// <see cref="LayerNames"/>, or the model's own (module names such as <c>features.21</c>, or ONNX value names).
/// </summary>
public sealed class StyleNetwork
{
    readonly Module model;
    readonly IReadOnlyDictionary<string, string> aliases;
    readonly IReadOnlyCollection<string> ownNames;
    readonly Func<Tensor, Tensor> preprocess;

    StyleNetwork(string name, Module model, IReadOnlyDictionary<string, string> aliases, Func<Tensor, Tensor> preprocess,
        string contentLayer, IReadOnlyList<string> styleLayers, int sizeMultiple)
    {
        (Name, this.model, this.aliases, this.preprocess, SizeMultiple) = (name, model, aliases, preprocess, sizeMultiple);
        (DefaultContentLayer, DefaultStyleLayers) = (contentLayer, styleLayers);
        model.Eval();
        foreach (var parameter in model.Parameters()) parameter.RequiresGrad = false;
        ownNames = model is IFeatureModel features ? features.FeatureNames
            : model.NamedModules().Select(m => m.Name).Where(n => n.Length > 0).ToList();
    }

    /// <summary>"resnet18" or "vgg19".</summary>
    public string Name { get; }

    /// <summary>Picture sides must be multiples of this (32 for ResNet-18, whose residual branches disagree on odd sizes; 1 for VGG-19).</summary>
    public int SizeMultiple { get; }

    /// <summary>The friendly layer names, shallow to deep.</summary>
    public IReadOnlyList<string> LayerNames => [.. aliases.Keys];

    /// <summary>The layer whose activation the content cost compares unless told otherwise.</summary>
    public string DefaultContentLayer { get; }

    /// <summary>The layers the style cost compares unless told otherwise (equal weights).</summary>
    public IReadOnlyList<string> DefaultStyleLayers { get; }

    /// <summary>The activations of <paramref name="layers"/> (friendly or own names) for a picture (1, 3, H, W) in [0, 1].</summary>
    public TensorDict Features(Tensor picture, IReadOnlyList<string> layers)
    {
        if (picture.Rank != 4 || picture.Shape[0] != 1 || picture.Shape[1] != 3)
            throw new ArgumentException($"StyleNetwork ({Name}): expected one RGB picture of shape (1, 3, H, W), got [{string.Join(", ", picture.Shape)}].");
        if (picture.Shape[2] % SizeMultiple != 0 || picture.Shape[3] % SizeMultiple != 0)
            throw new ArgumentException($"StyleNetwork ({Name}): picture sides must be multiples of {SizeMultiple}, got {picture.Shape[3]}×{picture.Shape[2]} pixels.");
        var resolved = layers.Select(Resolve).ToArray();
        var activations = new FeatureExtractor(model, [.. resolved.Distinct()]).Forward(preprocess(picture));
        var result = new TensorDict();
        for (int i = 0; i < layers.Count; i++) result.Add(layers[i], activations[resolved[i]]);
        return result;
    }

    /// <summary>The model's own name for <paramref name="layer"/>; an unknown name throws, listing the valid ones.</summary>
    public string Resolve(string layer) =>
        aliases.TryGetValue(layer, out var own) ? own
        : ownNames.Contains(layer) ? layer
        : throw new ArgumentException($"StyleNetwork ({Name}) has no layer '{layer}'; valid names are [{string.Join(", ", aliases.Keys)}] " +
            $"(or the model's own {ownNames.Count} names, such as {string.Join(", ", ownNames.Take(3))}).");

    // ----- ResNet-18 -------------------------------------------------------------------------------------

    /// <summary>The packaged ResNet-18's mean image (BGR, 0–255), averaged per channel.</summary>
    static readonly float[] ResNet18MeanBgr = [103.0626f, 115.9029f, 123.1516f];

    /// <summary>
    /// The packaged ImageNet ResNet-18 (<c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> of the NuGet package
    /// Microsoft.ML.DnnImageFeaturizer.ResNet18), imported with <c>OnnxModel.Load</c>. It was trained on BGR pixels in
    /// 0–255 less a mean image (the package's <c>ResNetPreprocess.onnx</c>); the preprocessing here subtracts that
    /// image's per-channel means, so any picture size works whose sides are multiples of 32. Load it with
    /// <c>AnyPictureSize</c> (and, for speed, <c>FoldBatchNorm</c>) import options. Friendly names: <c>relu</c> (the stem), then the end of
    /// every residual block <c>layer1.0</c> … <c>layer4.2</c> (this CNTK model has 2, 2, 2 and 3 blocks per stage) and
    /// of every stage <c>layer1</c> … <c>layer4</c>. Content at <c>layer3</c>, style at <c>relu</c>, <c>layer1</c>,
    /// <c>layer2</c>, <c>layer3</c>.
    /// </summary>
    /// <exception cref="ArgumentException">the model is not the packaged ResNet-18 (its values are named otherwise)</exception>
    public static StyleNetwork ResNet18(Module packagedResNet18)
    {
        var blockEnds = new (string Block, string Value)[]
        {
            ("relu", "ReLU253_Output_0"),
            ("layer1.0", "ReLU269_Output_0"), ("layer1.1", "ReLU283_Output_0"),
            ("layer2.0", "ReLU301_Output_0"), ("layer2.1", "ReLU315_Output_0"),
            ("layer3.0", "ReLU333_Output_0"), ("layer3.1", "ReLU347_Output_0"),
            ("layer4.0", "ReLU365_Output_0"), ("layer4.1", "ReLU379_Output_0"), ("layer4.2", "ReLU393_Output_0"),
        };
        var names = new OrderedDictionary<string, string>();
        foreach (var (block, value) in blockEnds) names[block] = value;
        names["layer1"] = names["layer1.1"];
        names["layer2"] = names["layer2.1"];
        names["layer3"] = names["layer3.1"];
        names["layer4"] = names["layer4.2"];
        if (packagedResNet18 is not IFeatureModel features || !names.Values.All(features.FeatureNames.Contains))
            throw new ArgumentException($"StyleNetwork.ResNet18: {packagedResNet18.GetType().Name} is not the packaged ResNet-18 " +
                "(DnnImageModels/ResNet18Onnx/ResNet18.onnx): it lacks the values that end its residual blocks (ReLU253_Output_0 … ReLU393_Output_0).");
        var mean = Tensor.FromArray(ResNet18MeanBgr, 1, 3, 1, 1);
        var toBgr = Tensor.FromArray([2f, 1f, 0f], 3);
        return new StyleNetwork("resnet18", packagedResNet18, names,
            picture => Ops.F.IndexSelect(picture, 1, toBgr) * 255f - mean,
            "layer3", ["relu", "layer1", "layer2", "layer3"], sizeMultiple: 32);
    }

    // ----- VGG-19 -----------------------------------------------------------------------------------------

    static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// VGG-19 (the course's and Gatys et al.'s choice) with the weights in <paramref name="safetensorsPath"/>: torchvision's
    /// <c>vgg19</c> state dict saved as safetensors, names as they are (<c>features.0.weight</c> …; the classifier's entries
    /// are read and ignored). A file for another network — missing or misshapen <c>features.*</c> entries, or entries
    /// of neither part — throws an <see cref="ArgumentException"/> naming the file and the problem.
    /// </summary>
    public static StyleNetwork Vgg19(string safetensorsPath)
    {
        var state = Safetensors.Load(safetensorsPath);
        var network = new VggFeatures();
        var features = state.Where(entry => entry.Key.StartsWith("features.", StringComparison.Ordinal)).ToDictionary();
        var foreign = state.Keys.Where(k => !k.StartsWith("features.", StringComparison.Ordinal) && !k.StartsWith("classifier.", StringComparison.Ordinal)).ToList();
        try
        {
            if (foreign.Count > 0)
                throw new ArgumentException($"entries [{string.Join(", ", foreign.Take(5))}{(foreign.Count > 5 ? ", …" : "")}] are not part of torchvision's vgg19");
            network.LoadStateDict(features);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"StyleNetwork.Vgg19: '{safetensorsPath}' does not hold torchvision's VGG-19 weights: {e.Message}", e);
        }
        return Vgg19(network);
    }

    /// <summary>VGG-19 over weights already in <paramref name="network"/> (see <see cref="Vgg19(string)"/>).</summary>
    internal static StyleNetwork Vgg19(VggFeatures network)
    {
        // torchvision's indices of VGG-19's features: convN_M at the index below, reluN_M one after, poolN after the block.
        var names = new OrderedDictionary<string, string>();
        int index = 0;
        foreach (var (block, convolutions) in new[] { (1, 2), (2, 2), (3, 4), (4, 4), (5, 4) })
        {
            for (int m = 1; m <= convolutions; m++, index += 2)
            {
                names[$"conv{block}_{m}"] = $"features.{index}";
                names[$"relu{block}_{m}"] = $"features.{index + 1}";
            }
            names[$"pool{block}"] = $"features.{index++}";
        }
        var mean = Tensor.FromArray(ImageNetMean, 1, 3, 1, 1);
        var std = Tensor.FromArray(ImageNetStd, 1, 3, 1, 1);
        return new StyleNetwork("vgg19", network, names, picture => (picture - mean) / std,
            "relu4_2", ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"], sizeMultiple: 1);
    }

    /// <summary>
    /// VGG-19's <c>features</c> alone, named as in torchvision's state dict. Read as features, it runs only up to the
    /// deepest layer asked for, so small pictures need not survive all five pools.
    /// </summary>
    internal sealed class VggFeatures : Module, IFeatureModel
    {
        readonly Sequential features;

        public VggFeatures()
        {
            features = RegisterModule("features", Vgg.FeatureLayers(19));
            FeatureNames = [.. Enumerable.Range(0, features.Count).Select(i => $"features.{i}")];
        }

        public IReadOnlyCollection<string> FeatureNames { get; }

        public TensorDict ForwardFeatures(IReadOnlyList<Tensor> inputs, IReadOnlyList<string> names)
        {
            if (inputs.Count != 1) throw new ArgumentException($"VGG-19 features take one picture, got {inputs.Count} inputs.");
            var indices = names.Select(n => FeatureNames.Contains(n) ? int.Parse(n["features.".Length..])
                : throw new ArgumentException($"VGG-19 features have no layer '{n}'.")).ToArray();
            var outputs = new Tensor[features.Count];
            var x = inputs[0];
            for (int i = 0; i <= indices.Max(); i++) x = outputs[i] = features[i].Forward(x);
            var result = new TensorDict();
            for (int k = 0; k < names.Count; k++) result.Add(names[k], outputs[indices[k]]);
            return result;
        }

        protected override Tensor ForwardCore(Tensor input) => features.Forward(input);
    }
}
