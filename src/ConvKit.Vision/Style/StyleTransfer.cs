using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Vision.Style;

/// <summary>How the generated picture's pixels are optimised.</summary>
public enum StyleOptimizer
{
    /// <summary>L-BFGS with the strong Wolfe line search.</summary>
    Lbfgs,
    /// <summary>Adam.</summary>
    Adam,
}

/// <summary>Where the generated picture starts.</summary>
public enum StyleStart
{
    /// <summary>The content picture.</summary>
    Content,
    /// <summary>Uniform noise, seeded by <see cref="StyleTransferOptions.Seed"/>.</summary>
    Noise,
}

/// <summary>The recipe of a <see cref="StyleTransfer"/>; every field has the default the CLI uses.</summary>
public sealed record StyleTransferOptions
{
    /// <summary>
    /// Cost evaluations (forward and backward passes) per scale. L-BFGS evaluates up to about 20 times per step and
    /// finishes the step under way, so it may run a few more.
    /// </summary>
    public int Steps { get; init; } = 300;
    /// <summary>α, the content cost's weight.</summary>
    public double ContentWeight { get; init; } = 1;
    /// <summary>β, the style cost's weight. The defaults (α = 1, β = 100, γ = 10) were tuned on the packaged ResNet-18 at 256 pixels.</summary>
    public double StyleWeight { get; init; } = 100;
    /// <summary>γ, the total-variation term's weight (0: none).</summary>
    public double TotalVariationWeight { get; init; } = 10;
    /// <summary>The content layer; null: the network's default.</summary>
    public string? ContentLayer { get; init; }
    /// <summary>The style layers, each with its weight λ_l; null: the network's defaults, weighted equally (1/L each).</summary>
    public IReadOnlyList<(string Layer, double Weight)>? StyleLayers { get; init; }
    /// <summary>How the pixels are optimised: L-BFGS (the default) or Adam.</summary>
    public StyleOptimizer Optimizer { get; init; } = StyleOptimizer.Lbfgs;
    /// <summary>The optimiser's learning rate; null: 1 for L-BFGS (its line search scales the step), 0.02 for Adam (pixels are in [0, 1]).</summary>
    public double? LearningRate { get; init; }
    /// <summary>Where the generated picture starts: the content picture (the default) or noise.</summary>
    public StyleStart Start { get; init; } = StyleStart.Content;
    /// <summary>Seeds the noise of <see cref="StyleStart.Noise"/>.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>
    /// How many sizes to optimise at, coarse to fine: with 3, at a quarter, then half, then the full size, each scale
    /// starting from the last one's result enlarged (bilinear) and running <see cref="Steps"/> steps. Big pictures
    /// settle their large structures cheaply at the small sizes.
    /// </summary>
    public int Scales { get; init; } = 1;
}

/// <summary>The costs after one evaluation: <see cref="Total"/> = α·Content + β·Style + γ·TotalVariation.</summary>
public sealed record StyleStep(int Scale, int Step, double Content, double Style, double TotalVariation, double Total);

/// <summary>
/// Neural style transfer (Gatys, Ecker and Bethge, as the course teaches it): starting from the content picture (or noise),
/// gradient descent changes the generated picture's pixels to lower J(G) = α·J_content(C, G) + β·J_style(S, G) (+ γ·TV(G))
/// while the <see cref="StyleNetwork"/> stays frozen. Pixels are kept in [0, 1]: clamped before every evaluation (as
/// PyTorch's tutorial does) and at the end.
/// </summary>
public sealed class StyleTransfer(StyleNetwork network, StyleTransferOptions? options = null)
{
    /// <summary>The frozen network whose activations the costs compare.</summary>
    public StyleNetwork Network { get; } = network;
    /// <summary>The recipe, checked against the network's layers.</summary>
    public StyleTransferOptions Options { get; } = Check(options ?? new StyleTransferOptions(), network);

    static StyleTransferOptions Check(StyleTransferOptions options, StyleNetwork network)
    {
        if (options.Steps < 1) throw new ArgumentOutOfRangeException(nameof(options), $"StyleTransfer: Steps must be at least 1, not {options.Steps}.");
        if (options.Scales < 1) throw new ArgumentOutOfRangeException(nameof(options), $"StyleTransfer: Scales must be at least 1, not {options.Scales}.");
        foreach (var (name, weight) in new[] { ("ContentWeight", options.ContentWeight), ("StyleWeight", options.StyleWeight), ("TotalVariationWeight", options.TotalVariationWeight) })
            if (!(weight >= 0 && double.IsFinite(weight))) throw new ArgumentOutOfRangeException(nameof(options), $"StyleTransfer: {name} must be a finite number ≥ 0, not {weight}.");
        if (options.StyleLayers is { Count: 0 }) throw new ArgumentException("StyleTransfer: StyleLayers is empty; name at least one layer or leave it null for the network's defaults.");
        // Unknown names fail here, listing the valid ones, before any picture is touched.
        network.Resolve(options.ContentLayer ?? network.DefaultContentLayer);
        foreach (var (layer, weight) in options.StyleLayers ?? [])
        {
            network.Resolve(layer);
            if (!(weight >= 0 && double.IsFinite(weight))) throw new ArgumentOutOfRangeException(nameof(options), $"StyleTransfer: style layer '{layer}' has weight {weight}; weights must be finite and ≥ 0.");
        }
        return options;
    }

    string ContentLayer => Options.ContentLayer ?? Network.DefaultContentLayer;

    IReadOnlyList<(string Layer, double Weight)> StyleLayers =>
        Options.StyleLayers ?? [.. Network.DefaultStyleLayers.Select(l => (l, 1.0 / Network.DefaultStyleLayers.Count))];

    /// <summary>
    /// Paints <paramref name="content"/> (3, H, W) in the style of <paramref name="style"/> (3, h, w), both RGB in [0, 1]
    /// (<see cref="Imaging.ImageFiles.Load"/>). The style picture is scaled to cover H × W, keeping its aspect ratio, and
    /// centre-cropped, so textures are not stretched. Returns the generated picture (3, H, W); <paramref name="progress"/>
    /// hears the costs after every evaluation.
    /// </summary>
    public Tensor Run(Tensor content, Tensor style, Action<StyleStep>? progress = null)
    {
        CheckPicture(content, "content");
        CheckPicture(style, "style");
        int height = content.Shape[1], width = content.Shape[2];
        int multiple = Network.SizeMultiple << (Options.Scales - 1);
        if (height % multiple != 0 || width % multiple != 0)
            throw new ArgumentException($"StyleTransfer: {Network.Name} at {Options.Scales} scale(s) needs picture sides that are multiples of {multiple}; " +
                $"the content picture is {width}×{height} (resize it to {RoundTo(width, multiple)}×{RoundTo(height, multiple)}, see SizeFor).");
        var fullContent = content.Unsqueeze(0);
        var fullStyle = CoverAndCrop(style, height, width).Unsqueeze(0);
        Tensor? generated = null;
        for (int scale = 0; scale < Options.Scales; scale++)
        {
            int divisor = 1 << (Options.Scales - 1 - scale);
            var size = new Size2(height / divisor, width / divisor);
            var contentAtScale = Resize(fullContent, size);
            var start = generated is not null ? Resize(generated, size)
                : Options.Start == StyleStart.Content ? contentAtScale
                : Tensor.Rand(contentAtScale.Shape.ToArray(), seed: Options.Seed);
            generated = Optimize(contentAtScale, Resize(fullStyle, size), start, scale, progress);
        }
        return generated!.Squeeze(0);
    }

    Tensor Optimize(Tensor content, Tensor style, Tensor start, int scale, Action<StyleStep>? progress)
    {
        string contentLayer = ContentLayer;
        var styleLayers = StyleLayers;
        Tensor contentTarget;
        Tensor[] styleGrams;
        using (Tensor.NoGrad())
        {
            contentTarget = Network.Features(content, [contentLayer])[contentLayer];
            var styleActivations = Network.Features(style, [.. styleLayers.Select(l => l.Layer)]);
            styleGrams = [.. styleLayers.Select(l => StyleCosts.GramMatrix(styleActivations[l.Layer]))];
        }
        string[] layers = [.. styleLayers.Select(l => l.Layer).Prepend(contentLayer).Distinct()];

        var pixels = start.Clamp(0, 1).Detach().RequireGrad();
        int evaluations = 0;
        float Evaluate()
        {
            using (Tensor.NoGrad()) pixels.CopyFrom(pixels.Clamp(0, 1));
            pixels.ZeroGrad();
            var activations = Network.Features(pixels, layers);
            var contentCost = StyleCosts.ContentCost(contentTarget, activations[contentLayer]);
            var styleCost = StyleCosts.StyleCost(styleLayers.Select((l, i) => (styleGrams[i], activations[l.Layer], l.Weight)));
            var total = contentCost * (float)Options.ContentWeight + styleCost * (float)Options.StyleWeight;
            var variation = Options.TotalVariationWeight > 0 ? StyleCosts.TotalVariation(pixels) : null;
            if (variation is not null) total += variation * (float)Options.TotalVariationWeight;
            total.Backward();
            float value = total.Item();
            progress?.Invoke(new StyleStep(scale, ++evaluations, contentCost.Item(), styleCost.Item(), variation?.Item() ?? 0, value));
            return value;
        }

        if (Options.Optimizer == StyleOptimizer.Adam)
        {
            var adam = new Adam([pixels], lr: Options.LearningRate ?? 0.02);
            while (evaluations < Options.Steps)
            {
                Evaluate();
                adam.Step();
            }
        }
        else
        {
            // One L-BFGS step makes up to 20 iterations, each evaluating once or more (its line search); the step under
            // way when Steps is reached is finished, as in PyTorch's tutorial.
            var lbfgs = new LBFGS([pixels], lr: Options.LearningRate ?? 1, maxIter: 20, lineSearch: LineSearch.StrongWolfe);
            while (evaluations < Options.Steps) lbfgs.Step(Evaluate);
        }
        using (Tensor.NoGrad()) return pixels.Clamp(0, 1).Detach();
    }

    /// <summary>
    /// The size to give a picture of <paramref name="height"/> × <paramref name="width"/> so that its longer side is
    /// about <paramref name="longerSide"/> pixels, its aspect ratio nearly kept, and both sides multiples of what the
    /// network needs at every scale.
    /// </summary>
    public Size2 SizeFor(int height, int width, int longerSide)
    {
        int multiple = Network.SizeMultiple << (Options.Scales - 1);
        double factor = (double)longerSide / Math.Max(height, width);
        return new Size2(RoundTo(height * factor, multiple), RoundTo(width * factor, multiple));
    }

    static int RoundTo(double value, int multiple) => Math.Max(multiple, (int)Math.Round(value / multiple) * multiple);

    static void CheckPicture(Tensor picture, string what)
    {
        if (picture.Rank != 3 || picture.Shape[0] != 3)
            throw new ArgumentException($"StyleTransfer: the {what} picture must be RGB of shape (3, H, W) with values in [0, 1], got [{string.Join(", ", picture.Shape)}] " +
                "(ImageFiles.Load gives RGB for grey and RGBA files too).");
        if (picture.Shape[1] < 16 || picture.Shape[2] < 16)
            throw new ArgumentException($"StyleTransfer: the {what} picture is {picture.Shape[2]}×{picture.Shape[1]} pixels; it needs at least 16×16.");
    }

    static Tensor Resize(Tensor picture, Size2 size) =>
        picture.Shape[2] == size.Height && picture.Shape[3] == size.Width ? picture : F.Upsample(picture, size, mode: UpsampleMode.Bilinear);

    /// <summary>
    /// <paramref name="picture"/> (C, h, w) scaled (bilinear) to cover <paramref name="height"/> × <paramref name="width"/>,
    /// keeping its aspect ratio, with the centre cut out: how the style picture is fitted to the content's size.
    /// </summary>
    public static Tensor CoverAndCrop(Tensor picture, int height, int width)
    {
        if (picture.Rank != 3) throw new ArgumentException($"CoverAndCrop: expected a picture (C, H, W), got [{string.Join(", ", picture.Shape)}].");
        double factor = Math.Max((double)height / picture.Shape[1], (double)width / picture.Shape[2]);
        int coverHeight = Math.Max(height, (int)Math.Ceiling(picture.Shape[1] * factor - 1e-9));
        int coverWidth = Math.Max(width, (int)Math.Ceiling(picture.Shape[2] * factor - 1e-9));
        var covering = Resize(picture.Unsqueeze(0), new Size2(coverHeight, coverWidth)).Squeeze(0);
        return covering.Narrow(1, (coverHeight - height) / 2, height).Narrow(2, (coverWidth - width) / 2, width);
    }
}
