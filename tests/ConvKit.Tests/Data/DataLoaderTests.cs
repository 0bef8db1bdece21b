using ConvKit.Backends;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Ops;

namespace ConvKit.Tests.Data;

public class DataLoaderTests
{
    /// <summary>count images of 1×2×2 whose pixels all equal the sample's index / 255, labels index % 3.</summary>
    internal static Dataset Numbered(int count) => new ByteImageDataset(
        Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((byte)i, 4)).ToArray(), [1, 2, 2],
        Enumerable.Range(0, count).Select(i => i % 3).ToArray(), ["a", "b", "c"]);

    static int[] SampleIds(Batch batch) => batch.Images.ToArray().Where((_, i) => i % 4 == 0).Select(v => (int)Math.Round(v * 255)).ToArray();

    [Theory]
    [InlineData(10, 4, false, new[] { 4, 4, 2 })]
    [InlineData(10, 4, true, new[] { 4, 4 })]
    [InlineData(8, 4, true, new[] { 4, 4 })]
    [InlineData(3, 5, false, new[] { 3 })]
    [InlineData(3, 5, true, new int[0])]
    public void BatchSizesFollowDropLast(int count, int batchSize, bool dropLast, int[] sizes)
    {
        var loader = new DataLoader(Numbered(count), batchSize, dropLast: dropLast);
        Assert.Equal(sizes.Length, loader.BatchCount);
        Assert.Equal(sizes, loader.Select(b => b.Count).ToArray());
    }

    [Fact]
    public void BatchesHoldImagesNchwAndLabelsInOrderWithoutShuffling()
    {
        var batch = new DataLoader(Numbered(5), batchSize: 3).First();
        Assert.Equal([3, 1, 2, 2], batch.Images.Shape);
        Assert.Equal([0, 1, 2], SampleIds(batch));
        Assert.Equal([0f, 1f, 2f], batch.Labels.ToArray());
        Assert.Equal([0, 1, 2], batch.Indices);
    }

    /// <summary>A labelled picture per label, read through <see cref="Dataset.GetSample"/> (the collating path).</summary>
    sealed class Labelled(params int[] labels) : Dataset
    {
        public override int Count => labels.Length;
        public override IReadOnlyList<string> Classes => ["a"];
        public override bool HasTargets => true;
        public override Sample GetSample(int index) => new(Tensor.Zeros(1, 2, 2)) { Label = labels[index] };
    }

    [Fact]
    public void LabelsAreInt32ClassIndicesOnBothPaths()
    {
        // Read straight into the batch (same-sized labelled pictures) ...
        var direct = new DataLoader(Numbered(4), batchSize: 4).Single();
        Assert.Equal(DType.Int32, direct.Labels.DType);
        Assert.Equal([0, 1, 2, 0], direct.Labels.ToInt32Array());
        // ... and collated from samples: exact beyond float32's 2²⁴ (a float label 16777217 would read 16777216).
        const int beyondFloat = (1 << 24) + 1;
        var collated = new DataLoader(new Labelled(beyondFloat, 3), batchSize: 2).Single();
        Assert.Equal(DType.Int32, collated.Labels.DType);
        Assert.Equal([beyondFloat, 3], collated.Labels.ToInt32Array());
        // Cross-entropy reads them as class indices.
        var logits = Tensor.FromArray([0f, 5f, 0f, 0f, 0f, 5f, 0f, 0f, 0f, 0f, 5f, 0f, 5f, 0f, 0f, 0f], 4, 4);
        Assert.Equal(F.CrossEntropy(logits, Tensor.FromArray([1f, 2f, 2f, 0f])).Item(), F.CrossEntropy(logits, direct.Labels).Item());
    }

    [Fact]
    public void ShufflingIsSeededPerEpochAndVisitsEverySampleOnce()
    {
        var loader = new DataLoader(Numbered(50), batchSize: 7, shuffle: true, seed: 3);
        var epoch0 = loader.Batches(0).SelectMany(SampleIds).ToArray();
        var epoch1 = loader.Batches(1).SelectMany(SampleIds).ToArray();

        Assert.Equal(Enumerable.Range(0, 50), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 50), epoch1.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), epoch0);
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch0, new DataLoader(Numbered(50), batchSize: 5, shuffle: true, seed: 3).Batches(0).SelectMany(SampleIds));
        Assert.NotEqual(epoch0, new DataLoader(Numbered(50), batchSize: 7, shuffle: true, seed: 4).Batches(0).SelectMany(SampleIds));
    }

    [Fact]
    public void EnumeratingTheLoaderAdvancesTheEpochLikePyTorch()
    {
        var loader = new DataLoader(Numbered(20), batchSize: 20, shuffle: true, seed: 1);
        var first = SampleIds(loader.First());
        var second = SampleIds(loader.First());
        Assert.Equal(2, loader.Epoch);
        Assert.Equal(SampleIds(loader.Batches(0).Single()), first);
        Assert.Equal(SampleIds(loader.Batches(1).Single()), second);
    }

    [Fact]
    public void PrefetchedBatchesEqualTheOnesBuiltInline()
    {
        var transform = new RandomCrop(1);
        var inline = new DataLoader(Numbered(30), 4, shuffle: true, seed: 9, transform: transform, prefetch: 0);
        var prefetched = new DataLoader(Numbered(30), 4, shuffle: true, seed: 9, transform: transform, prefetch: 3);
        foreach (var (a, b) in inline.Batches(2).Zip(prefetched.Batches(2)))
        {
            Assert.Equal(a.Images.ToArray(), b.Images.ToArray());
            Assert.Equal(a.Labels.ToArray(), b.Labels.ToArray());
        }
    }

    [Fact]
    public void BatchesCanResumeInsideAnEpoch()
    {
        var loader = new DataLoader(Numbered(30), 4, shuffle: true, seed: 2);
        Assert.Equal(loader.Batches(1).Skip(3).SelectMany(SampleIds), loader.Batches(1, firstBatch: 3).SelectMany(SampleIds));
    }

    [Fact]
    public void LeavingEarlyStopsTheBackgroundThread()
    {
        var loader = new DataLoader(Numbered(1000), 1, prefetch: 2);
        Assert.Equal(3, loader.Batches(0).Take(3).Count());
    }

    sealed class Failing : Dataset
    {
        public override int Count => 10;
        public override IReadOnlyList<int> SampleShape => [1, 1, 1];
        public override IReadOnlyList<string> Classes => ["x"];
        public override int Label(int index) => 0;
        public override void ReadImage(int index, Span<float> destination)
        {
            if (index == 6) throw new IOException("disk on fire");
            destination.Clear();
        }
    }

    [Fact]
    public void ADatasetErrorReachesTheConsumer()
    {
        var error = Assert.Throws<IOException>(() => new DataLoader(new Failing(), 2, prefetch: 2).Batches(0).Count());
        Assert.Equal("disk on fire", error.Message);
    }

    [Fact]
    public void RandomSplitIsDisjointSeededAndSized()
    {
        var (train, validation) = Numbered(100).RandomSplit(0.2, seed: 5);
        var all = new DataLoader(train, 100).SelectMany(SampleIds).Concat(new DataLoader(validation, 100).SelectMany(SampleIds)).Order();

        Assert.Equal(80, train.Count);
        Assert.Equal(20, validation.Count);
        Assert.Equal(Enumerable.Range(0, 100), all);
        Assert.Equal(new DataLoader(validation, 100).SelectMany(SampleIds),
            new DataLoader(Numbered(100).RandomSplit(0.2, seed: 5).Second, 100).SelectMany(SampleIds));
    }

    [Fact]
    public void PadToCentresTheImageInZeros()
    {
        var padded = Numbered(3).PadTo(4, 6);
        var (image, label) = padded[2];
        var expected = new float[24];
        foreach (int y in new[] { 1, 2 })
            foreach (int x in new[] { 2, 3 }) expected[y * 6 + x] = 2 / 255f;
        Assert.Equal([1, 4, 6], image.Shape);
        Assert.Equal(expected, image.ToArray());
        Assert.Equal(2, label);
        Assert.Throws<ArgumentException>(() => Numbered(1).PadTo(1, 2));
    }
}
