using ConvKit.Vision.Models;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Judges a trained encoder on verification: embeds every picture of a set once, scores pairs of them — by the
/// negated Euclidean distance, or by a <see cref="SiameseNetwork"/>'s head as a probability — chooses the threshold of
/// best accuracy on validation pairs and applies it, unchanged, to held-out test pairs.
/// </summary>
public static class VerificationEvaluator
{
    /// <summary>The (N, D) embeddings of every picture of <paramref name="dataset"/>, in evaluation mode, without gradients.</summary>
    /// <param name="transform">applied to each picture first (the training's normalisation)</param>
    public static Tensor Embed(Module encoder, Dataset dataset, ISampleTransform? transform = null, int batchSize = 500)
    {
        bool wasTraining = encoder.Training;
        encoder.Eval();
        try
        {
            using var _ = Tensor.NoGrad();
            var parts = new List<Tensor>();
            foreach (var batch in new DataLoader(dataset, batchSize, transform: transform))
            {
                var embeddings = encoder.Forward(batch.Images);
                if (embeddings.Rank != 2 || embeddings.Shape[0] != batch.Count)
                    throw new InvalidOperationException($"VerificationEvaluator: the encoder's output has shape {ModelChecks.Format(embeddings.Shape)}, not [{batch.Count}, D].");
                parts.Add(embeddings);
            }
            return parts.Count == 1 ? parts[0] : Tensor.Concat(parts);
        }
        finally { encoder.Train(wasTraining); }
    }

    /// <summary>
    /// One score per pair, higher meaning more likely the same identity: σ(head logit) when <paramref name="head"/> is
    /// given, else −‖e(a) − e(b)‖₂.
    /// </summary>
    /// <param name="embeddings">(N, D), indexed by the pairs</param>
    public static double[] Scores(Tensor embeddings, VerificationPairs pairs, SiameseHead? head = null)
    {
        if (embeddings.Rank != 2)
            throw new ArgumentException($"VerificationEvaluator: embeddings must have shape (N, D), got {ModelChecks.Format(embeddings.Shape)}.");
        int n = embeddings.Shape[0];
        foreach (int index in pairs.First.Concat(pairs.Second))
            if ((uint)index >= (uint)n)
                throw new ArgumentException($"VerificationEvaluator: a pair names sample {index}, but there are {n} embeddings ({ModelChecks.Format(embeddings.Shape)}).");
        using var _ = Tensor.NoGrad();
        Tensor Rows(int[] indices) => F.IndexSelect(embeddings, 0, Tensor.FromInt32(indices));
        var first = Rows(pairs.First);
        var second = Rows(pairs.Second);
        var scores = head != null ? F.Sigmoid(head.Forward(first, second)) : -(first - second).Square().Sum(1).Sqrt();
        return scores.ToArray().Select(v => (double)v).ToArray();
    }

    /// <summary>
    /// Embeds <paramref name="validation"/> and <paramref name="test"/>, chooses the threshold on the validation pairs
    /// and reports the test pairs' accuracy at it, with their ROC curve. A <see cref="SiameseNetwork"/> is scored by
    /// its head, any other encoder by distance.
    /// </summary>
    public static VerificationReport Evaluate(Module model, Dataset validation, VerificationPairs validationPairs, Dataset test, VerificationPairs testPairs,
        ISampleTransform? transform = null)
    {
        var head = (model as SiameseNetwork)?.Head;
        var validationScores = Scores(Embed(model, validation, transform), validationPairs, head);
        var testEmbeddings = Embed(model, test, transform);
        var testScores = Scores(testEmbeddings, testPairs, head);
        var (threshold, validationAccuracy) = VerificationMetrics.BestThreshold(validationScores, validationPairs.Same);
        var roc = VerificationMetrics.Roc(testScores, testPairs.Same);
        return new VerificationReport(head != null ? VerificationScore.Probability : VerificationScore.NegativeDistance, threshold, validationAccuracy,
            VerificationMetrics.Accuracy(testScores, testPairs.Same, threshold), roc, testPairs.Count, testEmbeddings);
    }
}

/// <summary>What a verification score is.</summary>
public enum VerificationScore
{
    /// <summary>−‖e(a) − e(b)‖₂ (the threshold is a negated distance).</summary>
    NegativeDistance,
    /// <summary>A Siamese head's probability that the pair is the same identity.</summary>
    Probability,
}

/// <summary>
/// The outcome of <see cref="VerificationEvaluator.Evaluate"/>: the threshold chosen on validation pairs and its
/// accuracy there, the test pairs' accuracy at it and their ROC curve, and the test set's embeddings (for plots).
/// </summary>
public sealed record VerificationReport(VerificationScore Score, double Threshold, double ValidationAccuracy, double TestAccuracy, RocCurve TestRoc,
    int TestPairs, Tensor TestEmbeddings)
{
    /// <summary>The threshold in its natural unit: a distance (pairs closer are the same) or a probability (pairs above are the same).</summary>
    public double NaturalThreshold => Score == VerificationScore.NegativeDistance ? -Threshold : Threshold;
}
