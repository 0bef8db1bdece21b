using ConvKit.Ops;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The multi-task losses of the R-CNN family (Fast R-CNN eq. 1; Faster R-CNN eq. 1), with torchvision 0.14's
/// normalisation: a classification term over every sampled region, and a smooth L1 box term (β = 1/9) summed over the
/// foreground regions' deltas of their own class and divided by the number of sampled regions, so that background
/// regions weigh in the mean without a box term (the paper's Iverson bracket [u ≥ 1]).
/// </summary>
public static class RegionLosses
{
    /// <summary>torchvision's β of the smooth L1 box terms: squared error below 1/9, absolute above.</summary>
    public const float SmoothL1Beta = 1f / 9;

    /// <summary>
    /// Fast R-CNN's loss: cross-entropy of (K, C + 1) <paramref name="logits"/> against <paramref name="labels"/>, and the
    /// smooth L1 of the (K, 4·(C + 1)) <paramref name="deltas"/> of each foreground region's class against its targets.
    /// </summary>
    /// <param name="labels">(K) 0 background, c + 1 object class c</param>
    /// <param name="targets">(K·4) deltas to reach (read for foreground rows only)</param>
    public static (Tensor Classification, Tensor Box) RegionHead(Tensor logits, Tensor deltas, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets)
    {
        int count = labels.Length;
        if (logits.Rank != 2 || logits.Shape[0] != count || deltas.Rank != 2 || deltas.Shape[0] != count || deltas.Shape[1] != 4 * logits.Shape[1] || targets.Length != 4 * count)
            throw new ArgumentException($"RegionLosses.RegionHead: expected logits (K, C + 1) and deltas (K, 4·(C + 1)) for K = {count} labels and {count}·4 targets, " +
                $"got logits ({string.Join(", ", logits.Shape)}), deltas ({string.Join(", ", deltas.Shape)}) and {targets.Length} targets.");
        if (count == 0) return (logits.Sum() * 0f, deltas.Sum() * 0f);
        var classification = F.CrossEntropy(logits, Tensor.FromInt32(labels.ToArray(), count));

        var rows = new List<int>();
        var columns = new List<int>();
        var wanted = new List<float>();
        for (int k = 0; k < count; k++)
            if (labels[k] > 0)
            {
                rows.Add(k);
                for (int j = 0; j < 4; j++) columns.Add(4 * labels[k] + j);
                wanted.AddRange(targets.Slice(4 * k, 4).ToArray());
            }
        // Without foreground the box term is a zero that still reaches the box layer (a zero gradient, not none).
        if (rows.Count == 0) return (classification, deltas.Sum() * 0f);
        var foreground = F.IndexSelect(deltas, 0, Tensor.FromInt32([.. rows], rows.Count));
        var own = F.Gather(foreground, 1, Tensor.FromInt32([.. columns], rows.Count, 4));
        var box = F.SmoothL1Loss(own, Tensor.FromArray([.. wanted], rows.Count, 4), Reduction.Sum, SmoothL1Beta) / count;
        return (classification, box);
    }

    /// <summary>
    /// The region proposal network's loss: binary cross-entropy of the sampled anchors' objectness logits (mean), and the
    /// smooth L1 of the foreground anchors' deltas (<see cref="BoxCoder.RegionProposals"/>) summed and divided by the
    /// number of sampled anchors.
    /// </summary>
    /// <param name="objectness">(A) logits of every anchor of the batch</param>
    /// <param name="deltas">(A, 4) deltas of every anchor</param>
    /// <param name="foreground">indices of the sampled foreground anchors</param>
    /// <param name="background">indices of the sampled background anchors</param>
    /// <param name="targets">(|foreground|·4) deltas onto each foreground anchor's box</param>
    public static (Tensor Objectness, Tensor Box) RegionProposals(Tensor objectness, Tensor deltas, ReadOnlySpan<int> foreground, ReadOnlySpan<int> background, ReadOnlySpan<float> targets)
    {
        if (objectness.Rank != 1 || deltas.Rank != 2 || deltas.Shape[0] != objectness.Shape[0] || deltas.Shape[1] != 4 || targets.Length != 4 * foreground.Length)
            throw new ArgumentException($"RegionLosses.RegionProposals: expected objectness (A) and deltas (A, 4) with 4 targets per foreground anchor, " +
                $"got ({string.Join(", ", objectness.Shape)}), ({string.Join(", ", deltas.Shape)}) and {targets.Length} targets for {foreground.Length} anchors.");
        int sampled = foreground.Length + background.Length;
        if (sampled == 0) return (objectness.Sum() * 0f, deltas.Sum() * 0f);
        var indices = new int[sampled];
        var labels = new float[sampled];
        for (int i = 0; i < foreground.Length; i++) (indices[i], labels[i]) = (foreground[i], 1);
        for (int i = 0; i < background.Length; i++) indices[foreground.Length + i] = background[i];
        var chosen = F.IndexSelect(objectness, 0, Tensor.FromInt32(indices, sampled));
        var objectLoss = F.BinaryCrossEntropyWithLogits(chosen, Tensor.FromArray(labels, sampled));
        if (foreground.Length == 0) return (objectLoss, deltas.Sum() * 0f);
        var positive = F.IndexSelect(deltas, 0, Tensor.FromInt32(indices[..foreground.Length], foreground.Length));
        var box = F.SmoothL1Loss(positive, Tensor.FromArray(targets.ToArray(), foreground.Length, 4), Reduction.Sum, SmoothL1Beta) / sampled;
        return (objectLoss, box);
    }
}
