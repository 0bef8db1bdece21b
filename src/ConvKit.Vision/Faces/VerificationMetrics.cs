namespace ConvKit.Vision.Faces;

/// <summary>
/// Verification scores judged against the truth: pairs are declared the same identity when their score is at least a
/// threshold (for distances, pass the negated distance). The ROC curve, its area, the accuracy at a threshold and the
/// threshold of best accuracy (chosen on a validation set, then applied to the test pairs).
/// </summary>
public static class VerificationMetrics
{
    /// <summary>
    /// The ROC curve: for every distinct score taken as the threshold, from the highest down, the false-positive rate
    /// (different pairs declared the same) and the true-positive rate (same pairs declared the same); it starts at (0, 0)
    /// (threshold +∞) and ends at (1, 1).
    /// </summary>
    /// <param name="scores">one per pair; higher means more likely the same</param>
    /// <param name="same">the truth, one per pair; both kinds must occur</param>
    public static RocCurve Roc(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        Check(scores, same);
        int positives = same.Count(s => s), negatives = same.Count - positives;
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        List<double> fpr = [0], tpr = [0], thresholds = [double.PositiveInfinity];
        int truePositives = 0, falsePositives = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (same[order[k]]) truePositives++; else falsePositives++;
            // Pairs of equal score fall on the same side of any threshold: one point after the last of them.
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            fpr.Add((double)falsePositives / negatives);
            tpr.Add((double)truePositives / positives);
            thresholds.Add(scores[order[k]]);
        }
        return new RocCurve([.. fpr], [.. tpr], [.. thresholds]);
    }

    /// <summary>The fraction of pairs judged rightly when those scoring at least <paramref name="threshold"/> are declared the same.</summary>
    public static double Accuracy(IReadOnlyList<double> scores, IReadOnlyList<bool> same, double threshold)
    {
        Check(scores, same);
        int right = 0;
        for (int i = 0; i < scores.Count; i++) if (scores[i] >= threshold == same[i]) right++;
        return (double)right / scores.Count;
    }

    /// <summary>
    /// The threshold of highest accuracy on these pairs, halfway between two neighbouring scores (so it generalises
    /// to new pairs rather than sitting on one pair's score), and that accuracy.
    /// </summary>
    public static (double Threshold, double Accuracy) BestThreshold(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        Check(scores, same);
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        // Threshold above every score: all pairs declared different, the negatives are right.
        int right = same.Count(s => !s), best = right;
        double threshold = scores[order[0]] + 1;
        for (int k = 0; k < order.Length; k++)
        {
            right += same[order[k]] ? 1 : -1;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            if (right > best)
            {
                best = right;
                threshold = k + 1 < order.Length ? (scores[order[k]] + scores[order[k + 1]]) / 2 : scores[order[k]] - 1;
            }
        }
        return (threshold, (double)best / scores.Count);
    }

    static void Check(IReadOnlyList<double> scores, IReadOnlyList<bool> same)
    {
        if (scores.Count != same.Count)
            throw new ArgumentException($"VerificationMetrics: {scores.Count} scores for {same.Count} pairs; there must be one score per pair.");
        if (scores.Count == 0) throw new ArgumentException("VerificationMetrics: there are no pairs.");
        if (scores.Any(double.IsNaN)) throw new ArgumentException("VerificationMetrics: a score is NaN (did training diverge?).");
        if (same.All(s => s) || same.All(s => !s))
            throw new ArgumentException("VerificationMetrics: the pairs must include both same-identity and different-identity pairs.");
    }
}

/// <summary>A ROC curve: false- and true-positive rates at each threshold, from the strictest (+∞) down.</summary>
public sealed record RocCurve(double[] FalsePositiveRate, double[] TruePositiveRate, double[] Thresholds)
{
    /// <summary>The area under the curve (trapezoids): the chance that a random same pair outscores a random different one, ties counting half.</summary>
    public double Area
    {
        get
        {
            double area = 0;
            for (int i = 1; i < FalsePositiveRate.Length; i++)
                area += (FalsePositiveRate[i] - FalsePositiveRate[i - 1]) * (TruePositiveRate[i] + TruePositiveRate[i - 1]) / 2;
            return area;
        }
    }
}
