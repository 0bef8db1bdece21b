using ConvKit.Ops;

namespace ConvKit.Vision.Style;

/// <summary>
/// The costs of neural style transfer (Gatys, Ecker and Bethge), with the course's normalisations:
/// <code>
/// J_content(C, G)  = 1/(4·nH·nW·nC) · Σ (a_C − a_G)²                         at one middle layer
/// G = A·Aᵀ          where A is the activation unrolled to (nC, nH·nW)      the Gram matrix (channel correlations)
/// J_style^l(S, G)  = 1/(2·nH·nW·nC)² · Σ_ij (G_S − G_G)²                    at layer l
/// J_style(S, G)    = Σ_l λ_l · J_style^l(S, G)
/// J(G)             = α·J_content + β·J_style (+ γ·TV)
/// </code>
/// Activations are (1, nC, nH, nW) or (nC, nH, nW); every cost is a rank-0 tensor connected to the autograd graph,
/// so its gradient reaches the generated picture. Gradients come from the ops they are made of.
/// </summary>
public static class StyleCosts
{
    /// <summary>G = A·Aᵀ of an activation (1, nC, nH, nW) or (nC, nH, nW), unrolled to A of shape (nC, nH·nW); (nC, nC), not normalised.</summary>
    public static Tensor GramMatrix(Tensor activation)
    {
        var (channels, _, _) = Dimensions(activation, "GramMatrix");
        var unrolled = activation.Reshape(channels, -1);
        return F.MatMul(unrolled, unrolled.Transpose(0, 1));
    }

    /// <summary>1/(4·nH·nW·nC) · Σ (a_C − a_G)²: how far the generated picture's activation is from the content picture's.</summary>
    public static Tensor ContentCost(Tensor contentActivation, Tensor generatedActivation)
    {
        var (channels, height, width) = SameDimensions(contentActivation, generatedActivation, "ContentCost");
        return F.Sum((contentActivation - generatedActivation).Square()) * (float)(1.0 / (4.0 * channels * height * width));
    }

    /// <summary>
    /// One layer's style cost 1/(2·nH·nW·nC)² · Σ_ij (G_S − G_G)², from the style picture's Gram matrix
    /// <paramref name="styleGram"/> (computed once, see <see cref="GramMatrix"/>) and the generated picture's activation.
    /// </summary>
    public static Tensor LayerStyleCost(Tensor styleGram, Tensor generatedActivation)
    {
        var (channels, height, width) = Dimensions(generatedActivation, "LayerStyleCost");
        if (!styleGram.Shape.SequenceEqual([channels, channels]))
            throw new ArgumentException($"LayerStyleCost: the style Gram matrix has shape [{string.Join(", ", styleGram.Shape)}] but the generated activation " +
                $"[{string.Join(", ", generatedActivation.Shape)}] has {channels} channels (expected [{channels}, {channels}]).");
        double normaliser = 2.0 * channels * height * width;
        return F.Sum((styleGram - GramMatrix(generatedActivation)).Square()) * (float)(1.0 / (normaliser * normaliser));
    }

    /// <summary>Σ_l λ_l · J_style^l over layers given as (style Gram matrix, generated activation, weight λ_l).</summary>
    public static Tensor StyleCost(IEnumerable<(Tensor StyleGram, Tensor GeneratedActivation, double Weight)> layers)
    {
        Tensor? total = null;
        foreach (var (gram, activation, weight) in layers)
        {
            var term = LayerStyleCost(gram, activation) * (float)weight;
            total = total is null ? term : total + term;
        }
        return total ?? throw new ArgumentException("StyleCost: give at least one layer.");
    }

    /// <summary>
    /// Total variation of a picture (N, C, H, W): the mean squared difference between vertically neighbouring pixels
    /// plus that between horizontally neighbouring ones. Penalising it smooths the high-frequency noise that pixel
    /// optimisation leaves; the means keep its scale independent of the picture's size.
    /// </summary>
    public static Tensor TotalVariation(Tensor picture)
    {
        if (picture.Rank != 4 || picture.Shape[2] < 2 || picture.Shape[3] < 2)
            throw new ArgumentException($"TotalVariation: expected a picture of shape (N, C, H, W) with H, W ≥ 2, got [{string.Join(", ", picture.Shape)}].");
        int height = picture.Shape[2], width = picture.Shape[3];
        var vertical = picture.Narrow(2, 1, height - 1) - picture.Narrow(2, 0, height - 1);
        var horizontal = picture.Narrow(3, 1, width - 1) - picture.Narrow(3, 0, width - 1);
        return F.Mean(vertical.Square()) + F.Mean(horizontal.Square());
    }

    static (int Channels, int Height, int Width) Dimensions(Tensor activation, string op) => activation.Rank switch
    {
        3 => (activation.Shape[0], activation.Shape[1], activation.Shape[2]),
        4 when activation.Shape[0] == 1 => (activation.Shape[1], activation.Shape[2], activation.Shape[3]),
        _ => throw new ArgumentException($"{op}: expected one picture's activation of shape (1, nC, nH, nW) or (nC, nH, nW), got [{string.Join(", ", activation.Shape)}]."),
    };

    static (int Channels, int Height, int Width) SameDimensions(Tensor content, Tensor generated, string op)
    {
        var dimensions = Dimensions(content, op);
        if (!content.Shape.SequenceEqual(generated.Shape))
            throw new ArgumentException($"{op}: the content activation has shape [{string.Join(", ", content.Shape)}] but the generated one has shape [{string.Join(", ", generated.Shape)}].");
        return dimensions;
    }
}
