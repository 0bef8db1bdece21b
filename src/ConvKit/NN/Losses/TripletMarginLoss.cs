using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Triplet loss for embeddings (face verification): pulls the anchor towards the positive and pushes it at
/// least <see cref="Margin"/> further from the negative; see <see cref="F.TripletMarginLoss"/>.
/// </summary>
public class TripletMarginLoss
{
    /// <summary>How much further the negative must be than the positive before the loss is zero.</summary>
    public float Margin { get; }
    /// <summary>Degree of the norm that measures distances (2: Euclidean).</summary>
    public float P { get; }
    /// <summary>Added to the differences before the norm, keeping its gradient finite at zero distance.</summary>
    public float Eps { get; }
    /// <summary>Whether the positive–negative distance replaces the anchor–negative one when smaller (the distance swap of Balntas et al.).</summary>
    public bool Swap { get; }
    /// <summary>How the per-triplet losses are combined: mean, sum or none.</summary>
    public Reduction Reduction { get; }

    /// <summary>A triplet loss with the given margin, norm degree and reduction (torch.nn.TripletMarginLoss's defaults).</summary>
    public TripletMarginLoss(float margin = 1, float p = 2, float eps = 1e-6f, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        if (!(p > 0)) throw new ArgumentException($"TripletMarginLoss: the norm degree p must be positive, got {p}.", nameof(p));
        (Margin, P, Eps, Swap, Reduction) = (margin, p, eps, swap, reduction);
    }

    /// <param name="anchor">(N, D) or (D)</param>
    /// <param name="positive">same shape as the anchor: the same identity</param>
    /// <param name="negative">same shape as the anchor: another identity</param>
    public Tensor Forward(Tensor anchor, Tensor positive, Tensor negative) =>
        F.TripletMarginLoss(anchor, positive, negative, Margin, P, Eps, Swap, Reduction);

    /// <inheritdoc/>
    public override string ToString() => $"TripletMarginLoss(margin={Margin}, p={P}, eps={Eps}, swap={Swap.ToString().ToLowerInvariant()}, reduction={Reduction})";
}
