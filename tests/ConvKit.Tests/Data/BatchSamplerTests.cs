using ConvKit.Data;

namespace ConvKit.Tests.Data;

/// <summary>A DataLoader with a batch sampler batches exactly the sampler's choice, and refuses a sampler that breaks its word.</summary>
public class BatchSamplerTests
{
    /// <summary>Epoch e's batches: [e, e+1, e+2], [e+3], ... within the dataset.</summary>
    sealed class Fixed(int[][] batches, int? claimed = null) : IBatchSampler
    {
        public int BatchCount => claimed ?? batches.Length;
        public IReadOnlyList<int[]> Batches(int epoch) => batches.Select(b => b.Select(i => i + epoch).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void BatchesAreTheSamplersChoiceInOrder(int prefetch)
    {
        var dataset = DataLoaderTests.Numbered(10);
        var loader = new DataLoader(dataset, batchSize: 4, shuffle: true, batchSampler: new Fixed([[0, 1, 2], [5], [3, 3]]), prefetch: prefetch);
        Assert.Equal(3, loader.BatchCount);
        var batches = loader.Batches(1).ToList();
        Assert.Equal([[1, 2, 3], [6], [4, 4]], batches.Select(b => b.Indices.ToArray()));
        // The pictures are the chosen samples' (each pixel is its sample's index / 255), repeats included.
        Assert.Equal([[1, 2, 3], [6], [4, 4]], batches.Select(b => b.Images.ToArray().Where((_, i) => i % 4 == 0).Select(v => (int)Math.Round(v * 255)).ToArray()));
        Assert.Equal([[4, 4]], loader.Batches(1, firstBatch: 2).Select(b => b.Indices.ToArray()));
    }

    [Fact]
    public void ASamplerThatBreaksItsWordIsRefused()
    {
        var dataset = DataLoaderTests.Numbered(5);
        var miscounted = Assert.Throws<InvalidOperationException>(() => new DataLoader(dataset, batchSampler: new Fixed([[0], [1]], claimed: 3)).Batches(0).ToList());
        Assert.Contains("gave 2 batches for epoch 0 but says it gives 3", miscounted.Message);
        var outside = Assert.Throws<InvalidOperationException>(() => new DataLoader(dataset, batchSampler: new Fixed([[4]])).Batches(1).ToList());
        Assert.Contains("sample 5, outside the dataset's 5", outside.Message);
    }
}
