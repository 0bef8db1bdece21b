using System.Globalization;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Labels proposals (or anchors) by their best IoU with a picture's ground-truth boxes, as torchvision 0.14's
/// <c>Matcher</c> with the R-CNN paper's background band: a proposal whose best IoU is at least
/// <see cref="ForegroundIou"/> is foreground and matched to that box (the first box on ties); one whose best IoU lies in
/// [<see cref="BackgroundLowIou"/>, <see cref="BackgroundIou"/>) is background; the rest are ignored in training.
/// With <see cref="KeepBestMatches"/> (Faster R-CNN's RPN), each ground truth's best-overlapping proposals are foreground
/// too, whatever their IoU (above 0: unlike torchvision's, a box no anchor touches does not make every anchor its
/// match), so that no object is left without a positive. A picture without ground truth makes every proposal background.
/// </summary>
/// <param name="ForegroundIou">R-CNN and Fast R-CNN 0.5; the RPN 0.7</param>
/// <param name="BackgroundIou">R-CNN and Fast R-CNN 0.5; the RPN 0.3</param>
/// <param name="BackgroundLowIou">Fast R-CNN's 0.1 (below it a proposal is too easy a negative to teach anything); the RPN 0</param>
/// <param name="KeepBestMatches">torchvision's <c>allow_low_quality_matches</c></param>
public sealed record RegionMatcher(float ForegroundIou, float BackgroundIou, float BackgroundLowIou = 0, bool KeepBestMatches = false)
{
    /// <summary>A proposal in the background band.</summary>
    public const int Background = -1;

    /// <summary>A proposal left out of training (between the bands, or below <see cref="BackgroundLowIou"/>).</summary>
    public const int Ignored = -2;

    /// <summary>Throws an <see cref="ArgumentException"/> unless 0 ≤ low ≤ background ≤ foreground ≤ 1.</summary>
    public void Validate()
    {
        if (!(BackgroundLowIou >= 0 && BackgroundLowIou <= BackgroundIou && BackgroundIou <= ForegroundIou && ForegroundIou <= 1))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"RegionMatcher: the IoU thresholds must satisfy 0 ≤ low ({BackgroundLowIou}) ≤ background ({BackgroundIou}) ≤ foreground ({ForegroundIou}) ≤ 1."));
    }

    /// <summary>Each proposal's label: the index of its ground-truth box (foreground), <see cref="Background"/> or <see cref="Ignored"/>.</summary>
    /// <param name="proposals">(P·4) xyxy pixels</param>
    /// <param name="truths">(G·4) xyxy pixels</param>
    public int[] Match(ReadOnlySpan<float> proposals, ReadOnlySpan<float> truths)
    {
        Validate();
        if (proposals.Length % 4 != 0 || truths.Length % 4 != 0)
            throw new ArgumentException($"RegionMatcher.Match: proposals and truths must be rows of 4 (xyxy), got {proposals.Length} and {truths.Length} numbers.");
        int count = proposals.Length / 4, truthCount = truths.Length / 4;
        var matches = new int[count];
        if (truthCount == 0)
        {
            Array.Fill(matches, Background);
            return matches;
        }
        var best = new float[count];
        var bestOfTruth = new float[truthCount];
        for (int p = 0; p < count; p++)
        {
            best[p] = -1;
            for (int g = 0; g < truthCount; g++)
            {
                float iou = Iou(proposals.Slice(4 * p, 4), truths.Slice(4 * g, 4));
                if (iou > best[p]) (best[p], matches[p]) = (iou, g);
                bestOfTruth[g] = MathF.Max(bestOfTruth[g], iou);
            }
        }
        var firstMatches = (int[])matches.Clone();
        for (int p = 0; p < count; p++)
            if (best[p] < ForegroundIou)
                matches[p] = best[p] < BackgroundIou && best[p] >= BackgroundLowIou ? Background : Ignored;
        if (KeepBestMatches)
            for (int p = 0; p < count; p++)
                for (int g = 0; g < truthCount; g++)
                    if (bestOfTruth[g] > 0 && Iou(proposals.Slice(4 * p, 4), truths.Slice(4 * g, 4)) == bestOfTruth[g])
                    {
                        matches[p] = firstMatches[p];
                        break;
                    }
        return matches;
    }

    /// <summary>IoU of two xyxy boxes; 0 when their union has no area (as <see cref="BoxOps.BoxIou"/>).</summary>
    internal static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float width = MathF.Min(a[2], b[2]) - MathF.Max(a[0], b[0]), height = MathF.Min(a[3], b[3]) - MathF.Max(a[1], b[1]);
        float inter = width > 0 && height > 0 ? width * height : 0;
        float union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }
}
