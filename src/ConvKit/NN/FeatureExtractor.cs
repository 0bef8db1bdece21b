namespace ConvKit.NN;

/// <summary>
/// A model whose intermediate values are named by something other than its module tree — an imported ONNX graph,
/// whose values are named by the graph. <see cref="FeatureExtractor"/> asks it for them directly.
/// </summary>
public interface IFeatureModel
{
    /// <summary>Every name <see cref="ForwardFeatures"/> accepts.</summary>
    IReadOnlyCollection<string> FeatureNames { get; }

    /// <summary>Runs the model on <paramref name="inputs"/> and returns the values called <paramref name="names"/>, in that order, connected to the autograd graph.</summary>
    TensorDict ForwardFeatures(IReadOnlyList<Tensor> inputs, IReadOnlyList<string> names);
}

/// <summary>
/// Named intermediate activations of a model, as torchvision's <c>create_feature_extractor</c>: the outputs of the
/// modules called <see cref="Layers"/> (dotted names as in <see cref="Module.NamedModules"/>, e.g.
/// <c>layer2.1.conv2</c>), or the named values of an <see cref="IFeatureModel"/> (an imported ONNX model).
/// The activations stay in the autograd graph, so a scalar made from them back-propagates to the input picture
/// (style transfer, saliency maps). The whole model runs; its outputs are not returned.
/// </summary>
public sealed class FeatureExtractor
{
    readonly Module model;

    /// <param name="model">a zoo model or an imported ONNX model</param>
    /// <param name="layers">module names (or graph value names); an unknown name throws, listing the known ones</param>
    public FeatureExtractor(Module model, params string[] layers)
    {
        if (layers.Length == 0) throw new ArgumentException("FeatureExtractor: name at least one layer.");
        if (layers.Distinct().Count() != layers.Length) throw new ArgumentException($"FeatureExtractor: a layer is named twice in [{string.Join(", ", layers)}].");
        var known = model is IFeatureModel features ? features.FeatureNames : model.NamedModules().Select(m => m.Name).Where(n => n.Length > 0).ToList();
        foreach (var layer in layers)
            if (!known.Contains(layer))
                throw new ArgumentException($"FeatureExtractor: {model.GetType().Name} has no layer '{layer}'; " +
                    $"it has {known.Count} named layers: [{string.Join(", ", known.Take(40))}{(known.Count > 40 ? ", …" : "")}].");
        this.model = model;
        Layers = layers;
    }

    /// <summary>The names whose activations <see cref="Forward"/> returns, in this order.</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>Runs the model on <paramref name="inputs"/> and returns each layer's activation (a module called more than once: its last call).</summary>
    public TensorDict Forward(params Tensor[] inputs)
    {
        if (model is IFeatureModel features) return features.ForwardFeatures(inputs, Layers);
        var modules = model.NamedModules().ToDictionary(m => m.Name, m => m.Module);
        var seen = new Dictionary<string, Tensor>();
        var registrations = Layers.Select(layer => modules[layer].RegisterForwardHook((_, _, outputs) => seen[layer] = outputs.Main)).ToList();
        try
        {
            model.ForwardOutputs(inputs);
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
        }
        var result = new TensorDict();
        foreach (var layer in Layers)
            result.Add(layer, seen.TryGetValue(layer, out var activation) ? activation
                : throw new InvalidOperationException($"FeatureExtractor: layer '{layer}' of {model.GetType().Name} did not run in this forward pass (a branch used only in training?)."));
        return result;
    }
}
