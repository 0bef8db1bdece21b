using ConvKit.Data;
using ConvKit.Vision.Faces;

namespace ConvKit.Vision.Tests.Faces;

/// <summary>P identities × K pictures per batch, reproducible from (seed, epoch), and clear errors when the data cannot fill one.</summary>
public class PKBatchSamplerTests
{
    // 5 identities with 7, 7, 6, 3 and 9 pictures, shuffled together.
    static readonly int[] Identities = Enumerable.Repeat(0, 7).Concat(Enumerable.Repeat(1, 7)).Concat(Enumerable.Repeat(2, 6))
        .Concat(Enumerable.Repeat(3, 3)).Concat(Enumerable.Repeat(4, 9)).OrderBy(i => (i * 7919) % 13).ToArray();

    [Fact]
    public void EveryBatchHoldsPDistinctIdentitiesOfKDistinctPictures()
    {
        var sampler = new PKBatchSampler(Identities, identitiesPerBatch: 3, picturesPerIdentity: 4, seed: 5, batchCount: 20);
        Assert.Equal(4, sampler.IdentityCount); // identity 3 has fewer than K pictures
        var batches = sampler.Batches(0);
        Assert.Equal(20, batches.Count);
        foreach (var batch in batches)
        {
            Assert.Equal(12, batch.Length);
            Assert.Equal(12, batch.Distinct().Count());
            var groups = batch.GroupBy(i => Identities[i]).ToList();
            Assert.Equal(3, groups.Count);
            Assert.All(groups, g => Assert.Equal(4, g.Count()));
            Assert.DoesNotContain(groups, g => g.Key == 3);
            // The K pictures of an identity sit together, as the loss's P×K layout reads them.
            for (int p = 0; p < 3; p++) Assert.Single(batch[(p * 4)..(p * 4 + 4)].Select(i => Identities[i]).Distinct());
        }
        // Every usable picture is drawn over an epoch of 20 batches (240 draws from 29 pictures).
        var seen = batches.SelectMany(b => b).ToHashSet();
        Assert.Equal(Enumerable.Range(0, Identities.Length).Where(i => Identities[i] != 3).ToHashSet(), seen);
    }

    [Fact]
    public void BatchesAreAFunctionOfSeedAndEpoch()
    {
        var a = new PKBatchSampler(Identities, 2, 3, seed: 1);
        var b = new PKBatchSampler(Identities, 2, 3, seed: 1);
        Assert.Equal(a.Batches(3), b.Batches(3));
        Assert.NotEqual(a.Batches(3), a.Batches(4));
        Assert.NotEqual(a.Batches(3), new PKBatchSampler(Identities, 2, 3, seed: 2).Batches(3));
        Assert.Equal(Identities.Length / 6, a.BatchCount);
    }

    [Fact]
    public void ADataLoaderWithTheSamplerBatchesItsChoice()
    {
        var dataset = new LabelledPoints(Identities);
        var sampler = new PKBatchSampler(dataset, 2, 3, seed: 9);
        var loader = new DataLoader(dataset, batchSize: 1, batchSampler: sampler, prefetch: 1);
        Assert.Equal(sampler.BatchCount, loader.BatchCount);
        var batches = loader.Batches(2).ToList();
        Assert.Equal(sampler.Batches(2), batches.Select(b => b.Indices.ToArray()).ToList());
        Assert.All(batches, b => Assert.Equal(b.Indices.Select(i => (float)Identities[i]), b.Labels.ToArray()));
    }

    [Fact]
    public void PTimesKLargerThanTheDataIsRefused()
    {
        var tooManyIdentities = Assert.Throws<ArgumentException>(() => new PKBatchSampler(Identities, 6, 2, seed: 0));
        Assert.Contains("PKBatchSampler", tooManyIdentities.Message);
        Assert.Contains("6×2", tooManyIdentities.Message);
        Assert.Contains("5 such identities", tooManyIdentities.Message);
        var tooManyPictures = Assert.Throws<ArgumentException>(() => new PKBatchSampler(Identities, 3, 8, seed: 0));
        Assert.Contains("at least 8 pictures", tooManyPictures.Message);
        Assert.Contains("1 such identities", tooManyPictures.Message);
        Assert.Contains("K (pictures per identity) must be at least 2", Assert.Throws<ArgumentException>(() => new PKBatchSampler(Identities, 3, 1, seed: 0)).Message);
        Assert.Contains("P (identities per batch) must be at least 2", Assert.Throws<ArgumentException>(() => new PKBatchSampler(Identities, 1, 4, seed: 0)).Message);
    }

    [Fact]
    public void ATaskChecksTheDatasetBeforeTraining()
    {
        var task = new TripletTask { IdentitiesPerBatch = 11, PicturesPerIdentity = 2 };
        var error = Assert.Throws<ArgumentException>(() => task.CheckDataset(new LabelledPoints(Identities)));
        Assert.Contains("11×2", error.Message);
    }

    /// <summary>One value per sample (its index), labelled by identity.</summary>
    sealed class LabelledPoints(int[] labels) : Dataset
    {
        public override int Count => labels.Length;
        public override IReadOnlyList<int> SampleShape => [1, 1, 1];
        public override IReadOnlyList<string> Classes => labels.Distinct().Order().Select(l => l.ToString()).ToArray();
        public override int Label(int index) => labels[index];
        public override void ReadImage(int index, Span<float> destination) => destination[0] = index;
    }
}
