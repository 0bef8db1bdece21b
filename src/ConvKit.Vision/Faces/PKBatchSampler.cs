using ConvKit.Data;

namespace ConvKit.Vision.Faces;

/// <summary>
/// Batches of P identities × K pictures each (Hermans et al.'s "PK" batches), the structure online triplet mining
/// needs: every picture of a batch has K − 1 positives and (P − 1)·K negatives beside it. Each batch draws P
/// different identities, and K different pictures of each from that identity's own shuffled queue, refilled with a
/// new shuffle when it runs short, so an epoch sees every picture about equally often. Identities with fewer than
/// K pictures are left out. The batches of an epoch are a function of (seed, epoch) alone.
/// </summary>
public sealed class PKBatchSampler : IBatchSampler
{
    readonly int[][] pictures; // per usable identity, its dataset indices
    readonly long seed;

    /// <param name="identities">each sample's identity (a dataset's labels)</param>
    /// <param name="identitiesPerBatch">P, at least 2 (a batch needs negatives)</param>
    /// <param name="picturesPerIdentity">K, at least 2 (a batch needs positives)</param>
    /// <param name="seed">the run's seed</param>
    /// <param name="batchCount">batches per epoch; by default as many as fill the samples once (N / (P·K))</param>
    public PKBatchSampler(IReadOnlyList<int> identities, int identitiesPerBatch, int picturesPerIdentity, long seed, int? batchCount = null)
    {
        if (identitiesPerBatch < 2)
            throw new ArgumentException($"PKBatchSampler: P (identities per batch) must be at least 2 so that every picture has negatives, not {identitiesPerBatch}.");
        if (picturesPerIdentity < 2)
            throw new ArgumentException($"PKBatchSampler: K (pictures per identity) must be at least 2 so that every picture has a positive, not {picturesPerIdentity}.");
        var byIdentity = identities.Select((identity, index) => (identity, index)).GroupBy(s => s.identity).OrderBy(g => g.Key).ToList();
        pictures = byIdentity.Where(g => g.Count() >= picturesPerIdentity).Select(g => g.Select(s => s.index).ToArray()).ToArray();
        if (pictures.Length < identitiesPerBatch)
            throw new ArgumentException($"PKBatchSampler: P×K = {identitiesPerBatch}×{picturesPerIdentity} needs {identitiesPerBatch} identities with at least " +
                $"{picturesPerIdentity} pictures each, but the {identities.Count} samples have {pictures.Length} such identities ({byIdentity.Count} identities in all).");
        P = identitiesPerBatch;
        K = picturesPerIdentity;
        this.seed = seed;
        BatchCount = batchCount ?? Math.Max(1, identities.Count / (P * K));
        if (BatchCount < 1) throw new ArgumentException($"PKBatchSampler: batchCount must be at least 1, not {BatchCount}.");
    }

    /// <summary>A sampler over <paramref name="dataset"/>'s class labels.</summary>
    public PKBatchSampler(Dataset dataset, int identitiesPerBatch, int picturesPerIdentity, long seed, int? batchCount = null)
        : this(Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray(), identitiesPerBatch, picturesPerIdentity, seed, batchCount) { }

    /// <summary>Identities per batch.</summary>
    public int P { get; }
    /// <summary>Pictures per identity in a batch.</summary>
    public int K { get; }
    /// <summary>Samples per batch, P·K.</summary>
    public int BatchSize => P * K;
    /// <summary>Identities with at least K pictures, the ones batches draw from.</summary>
    public int IdentityCount => pictures.Length;

    /// <inheritdoc/>
    public int BatchCount { get; }

    /// <inheritdoc/>
    public IReadOnlyList<int[]> Batches(int epoch)
    {
        var random = Generator.For(seed, 0x9C_B47C, epoch);
        var queues = pictures.Select(p => new Queue<int>()).ToArray();
        var identityOrder = Enumerable.Range(0, pictures.Length).ToArray();
        var batches = new int[BatchCount][];
        for (int b = 0; b < BatchCount; b++)
        {
            random.Shuffle(identityOrder);
            var batch = new int[BatchSize];
            for (int p = 0; p < P; p++)
            {
                int identity = identityOrder[p];
                var queue = queues[identity];
                var taken = new HashSet<int>();
                for (int k = 0; k < K; k++)
                {
                    if (queue.Count == 0) Refill(queue, pictures[identity], random);
                    int picture = queue.Dequeue();
                    // A refill in the middle of a batch may bring back a picture already in it: take the next one.
                    while (!taken.Add(picture))
                    {
                        queue.Enqueue(picture);
                        picture = queue.Dequeue();
                    }
                    batch[p * K + k] = picture;
                }
            }
            batches[b] = batch;
        }
        return batches;
    }

    static void Refill(Queue<int> queue, int[] indices, Random random)
    {
        var shuffled = indices.ToArray();
        random.Shuffle(shuffled);
        foreach (int index in shuffled) queue.Enqueue(index);
    }
}
