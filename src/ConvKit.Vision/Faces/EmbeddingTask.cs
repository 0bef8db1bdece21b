using ConvKit.Vision.Models;
using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Training;

namespace ConvKit.Vision.Faces;

/// <summary>
/// What training an encoder for verification shares, whatever its loss: batches of P identities × K pictures
/// (<see cref="PKBatchSampler"/>, whose batch size replaces the options'), identities read from the batch (its
/// <see cref="Batch.Identities"/>, or its class labels when a dataset's classes stand in for identities), and the
/// in-batch pair AUC as a metric. <see cref="TripletTask"/> and <see cref="SiameseTask"/> bring the losses.
/// </summary>
public abstract class EmbeddingTask : TrainingTask
{
    /// <summary>The name of the embeddings (N, D) among a step's outputs.</summary>
    public const string EmbeddingsOutput = "embeddings";

    /// <summary>P, identities per batch.</summary>
    public int IdentitiesPerBatch { get; init; } = 16;
    /// <summary>K, pictures of each identity per batch.</summary>
    public int PicturesPerIdentity { get; init; } = 8;
    /// <summary>Batches per epoch; by default as many as fill the training set once.</summary>
    public int? BatchesPerEpoch { get; init; }

    /// <inheritdoc/>
    public override IBatchSampler? CreateBatchSampler(Dataset train, long seed) =>
        new PKBatchSampler(train, IdentitiesPerBatch, PicturesPerIdentity, seed, BatchesPerEpoch);

    /// <inheritdoc/>
    public override void CheckDataset(Dataset dataset) => CreateBatchSampler(dataset, 0);

    /// <summary>The batch's identities: <see cref="Batch.Identities"/>, or its class labels.</summary>
    protected static Tensor Identities(Batch batch, string task)
    {
        var identities = batch.Identities ?? (batch.Labels.Numel == batch.Count ? batch.Labels : null);
        return identities ?? throw new InvalidOperationException($"{task}: the batch has neither identities nor class labels to stand in for them.");
    }

    /// <summary>The model's embeddings of the batch's pictures, checked to be (N, D).</summary>
    protected static Tensor Embed(Module model, Batch batch, string task)
    {
        var embeddings = model.Forward(batch.Images);
        if (embeddings.Rank != 2 || embeddings.Shape[0] != batch.Count)
            throw new InvalidOperationException($"{task}: the model's output has shape {ModelChecks.Format(embeddings.Shape)}, but an encoder must give [{batch.Count}, D] embeddings for a batch of {batch.Count}.");
        return embeddings;
    }
}

/// <summary>
/// Trains an encoder with the <see cref="TripletLoss"/> mined online in each P×K batch. Reported: the loss, the
/// fraction of mined triplets that still cost something (<c>active_triplets</c>) and the in-batch pair AUC
/// (<c>pair_auc</c>), which picks the best checkpoint.
/// </summary>
public sealed class TripletTask : EmbeddingTask
{
    /// <summary>The loss, with its margin, mining and distance.</summary>
    public TripletLoss Loss { get; init; } = new();

    /// <inheritdoc/>
    public override string Monitor => "pair_auc";

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() => [new PairAuc()];

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        var identities = Identities(batch, "TripletTask");
        var embeddings = Embed(model, batch, "TripletTask");
        var result = Loss.Compute(embeddings, identities);
        var active = Tensor.Scalar(result.Triplets.Count == 0 ? 0f : (float)result.Active / result.Triplets.Count);
        return new TaskStep(result.Loss, new TensorDict { { EmbeddingsOutput, embeddings } })
        {
            Terms = new Dictionary<string, Tensor> { ["active_triplets"] = active },
        };
    }
}

/// <summary>
/// Trains a <see cref="SiameseNetwork"/> on the pairs of each P×K batch: every pair (i &lt; j) of the batch goes
/// through the head, with binary cross-entropy on its logit, same-identity and different-identity pairs weighted so
/// that each kind counts half (a batch holds about P times more different pairs than same ones). Reported: the loss,
/// the balanced pair accuracy of the head at probability ½ (<c>pair_accuracy</c>, which picks the best checkpoint)
/// and the in-batch pair AUC of the embeddings' distances (<c>pair_auc</c>).
/// </summary>
public sealed class SiameseTask : EmbeddingTask
{
    /// <summary>The name of the pairs' logits (M) among a step's outputs.</summary>
    public const string PairLogitsOutput = "pair_logits";
    /// <summary>The name of the pairs' truth (M), 1 for the same identity, among a step's outputs.</summary>
    public const string PairTargetsOutput = "pair_targets";

    /// <inheritdoc/>
    public override string Monitor => "pair_accuracy";

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() => [new PairAccuracy(), new PairAuc()];

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        if (model is not SiameseNetwork siamese)
            throw new InvalidOperationException($"SiameseTask: the model is a {model.GetType().Name}, not a SiameseNetwork (an encoder with a SiameseHead).");
        var identities = Identities(batch, "SiameseTask").ToArray();
        var embeddings = Embed(model, batch, "SiameseTask");
        var (loss, logits, target) = PairLoss(siamese.Head, embeddings, identities);
        return new TaskStep(loss, new TensorDict { { EmbeddingsOutput, embeddings }, { PairLogitsOutput, logits }, { PairTargetsOutput, target } });
    }

    /// <summary>
    /// The Siamese loss of a batch: every pair i &lt; j through <paramref name="head"/>, binary cross-entropy on the logits
    /// against "same identity", the same pairs weighted 1/(2·#same) and the different ones 1/(2·#different), summed.
    /// </summary>
    /// <param name="embeddings">(N, D)</param>
    /// <param name="identities">(N) each picture's identity</param>
    /// <returns>the loss (a scalar), the pairs' logits (M = N(N−1)/2, pairs in row-major order of i &lt; j) and their targets (M)</returns>
    public static (Tensor Loss, Tensor Logits, Tensor Targets) PairLoss(SiameseHead head, Tensor embeddings, IReadOnlyList<float> identities)
    {
        TripletLoss.CheckEmbeddings("SiameseTask", embeddings, identities.Count);
        int n = identities.Count;
        if (n < 2) throw new ArgumentException("SiameseTask: a batch of one picture has no pairs.");
        List<int> first = [], second = [];
        List<float> targets = [];
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                first.Add(i);
                second.Add(j);
                targets.Add(identities[i] == identities[j] ? 1 : 0);
            }
        float same = targets.Sum(), different = targets.Count - same;
        // Each kind counts half; a batch of one kind only has it count whole.
        float sameWeight = different == 0 ? 1f / same : 0.5f / Math.Max(1, same), differentWeight = same == 0 ? 1f / different : 0.5f / Math.Max(1, different);
        var weights = targets.Select(t => t == 1 ? sameWeight : differentWeight).ToArray();
        var logits = head.Forward(F.IndexSelect(embeddings, 0, Tensor.FromInt32([.. first], first.Count)),
            F.IndexSelect(embeddings, 0, Tensor.FromInt32([.. second], second.Count)));
        var target = Tensor.FromArray([.. targets], targets.Count);
        var loss = F.BinaryCrossEntropyWithLogits(logits, target, Tensor.FromArray(weights, weights.Length), reduction: Reduction.Sum);
        return (loss, logits, target);
    }
}
