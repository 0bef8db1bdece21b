namespace ConvKit.Data;

/// <summary>
/// Chooses the samples of every batch of an epoch, as torch.utils.data's <c>batch_sampler</c>: for batches that must
/// hold a structure a shuffle cannot give, such as P identities × K pictures for the triplet loss. The batches of an
/// epoch must be a function of the epoch number alone, so a run stays reproducible and resumable inside an epoch.
/// </summary>
public interface IBatchSampler
{
    /// <summary>Batches per epoch (the same for every epoch).</summary>
    int BatchCount { get; }

    /// <summary>The dataset indices of each batch of epoch <paramref name="epoch"/>.</summary>
    IReadOnlyList<int[]> Batches(int epoch);
}
