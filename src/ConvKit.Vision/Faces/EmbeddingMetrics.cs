using ConvKit.Data;
using ConvKit.Training;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The area under the ROC curve of the pairs inside each batch (every i &lt; j), scored by the negated distance
/// between their embeddings: the chance that a same-identity pair is closer than a different one. Averaged over
/// the batches, weighted by their pairs. A quick, threshold-free view of how well the embedding separates identities.
/// </summary>
public sealed class PairAuc : Metric
{
    double weightedArea, pairs;

    /// <inheritdoc/>
    public override string Name => "pair_auc";

    /// <inheritdoc/>
    public override void Update(Batch batch, TaskStep step)
    {
        var embeddings = step.Outputs[EmbeddingTask.EmbeddingsOutput];
        var identities = (batch.Identities ?? batch.Labels).ToArray();
        int n = embeddings.Shape[0];
        var distances = TripletLoss.PairwiseDistances(embeddings.ToArray(), n, embeddings.Shape[1], squared: true);
        List<double> scores = [];
        List<bool> same = [];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                scores.Add(-distances[i, j]);
                same.Add(identities[i] == identities[j]);
            }
        if (!same.Contains(true) || !same.Contains(false)) return; // no ROC without both kinds
        weightedArea += VerificationMetrics.Roc(scores, same).Area * scores.Count;
        pairs += scores.Count;
    }

    /// <inheritdoc/>
    public override double Compute() => pairs == 0 ? double.NaN : weightedArea / pairs;

    /// <inheritdoc/>
    public override double[] State
    {
        get => [weightedArea, pairs];
        set => (weightedArea, pairs) = (value[0], value[1]);
    }
}

/// <summary>
/// The balanced accuracy of a Siamese head on the batches' pairs at probability ½ (logit 0): the mean of the
/// fraction of same-identity pairs declared the same and of different ones declared different.
/// </summary>
public sealed class PairAccuracy : Metric
{
    double sameRight, sameCount, differentRight, differentCount;

    /// <inheritdoc/>
    public override string Name => "pair_accuracy";

    /// <inheritdoc/>
    public override void Update(Batch batch, TaskStep step)
    {
        var logits = step.Outputs[SiameseTask.PairLogitsOutput].ToArray();
        var targets = step.Outputs[SiameseTask.PairTargetsOutput].ToArray();
        for (int m = 0; m < logits.Length; m++)
            if (targets[m] == 1) { sameCount++; if (logits[m] > 0) sameRight++; }
            else { differentCount++; if (logits[m] <= 0) differentRight++; }
    }

    /// <inheritdoc/>
    public override double Compute() => sameCount == 0 || differentCount == 0 ? double.NaN
        : (sameRight / sameCount + differentRight / differentCount) / 2;

    /// <inheritdoc/>
    public override double[] State
    {
        get => [sameRight, sameCount, differentRight, differentCount];
        set => (sameRight, sameCount, differentRight, differentCount) = (value[0], value[1], value[2], value[3]);
    }
}
