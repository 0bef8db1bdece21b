using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>k-means anchors with the 1 − IoU distance: recovered clusters, determinism, bad input.</summary>
public class AnchorBoxesTests
{
    /// <summary>Three tight groups of box sizes around 10×10, 20×60 and 80×40, jittered by up to ±1 pixel.</summary>
    static (float Width, float Height)[] ThreeGroups(int seed)
    {
        var random = new Random(seed);
        var sizes = new List<(float Width, float Height)>();
        foreach (var (width, height, count) in new[] { (80f, 40f, 30), (10f, 10f, 50), (20f, 60f, 40) })
            for (int i = 0; i < count; i++)
                sizes.Add((width + (float)(random.NextDouble() * 2 - 1), height + (float)(random.NextDouble() * 2 - 1)));
        return [.. sizes.OrderBy(_ => random.Next())];
    }

    [Fact]
    public void ThreeTightGroupsGiveTheirMeansSortedByArea()
    {
        var sizes = ThreeGroups(1);
        var anchors = AnchorBoxes.KMeans(sizes, 3, seed: 4);

        // Each group's mean, computed here directly from the group's members (they lie within 1 pixel of its centre).
        (float, float) Mean(float width, float height)
        {
            var members = sizes.Where(s => Math.Abs(s.Width - width) <= 1 && Math.Abs(s.Height - height) <= 1).ToArray();
            return (members.Average(m => m.Width), members.Average(m => m.Height));
        }
        var expected = new[] { Mean(10, 10), Mean(20, 60), Mean(80, 40) };
        Assert.Equal(3, anchors.Length);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(expected[c].Item1, anchors[c].Width, 3);
            Assert.Equal(expected[c].Item2, anchors[c].Height, 3);
        }
        Assert.True(AnchorBoxes.MeanIou(sizes, anchors) > 0.9);
        // One anchor fits the three groups worse than three do.
        Assert.True(AnchorBoxes.MeanIou(sizes, AnchorBoxes.KMeans(sizes, 1)) < 0.6);
    }

    [Fact]
    public void MeanIouIsTheAverageBestShapeIou()
    {
        // 10×10 against anchors 10×10 (IoU 1) and 20×20; 20×10 against them: 100/200 = 0.5 and 200/400 = 0.5.
        Assert.Equal((1 + 0.5) / 2, AnchorBoxes.MeanIou([(10f, 10f), (20f, 10f)], [(10f, 10f), (20f, 20f)]), 6);
    }

    [Fact]
    public void ASeedAlwaysGivesTheSameAnchors()
    {
        // Many loose sizes, where the initial centres decide the result.
        var random = new Random(9);
        var sizes = Enumerable.Range(0, 300).Select(_ => ((float)(5 + random.NextDouble() * 100), (float)(5 + random.NextDouble() * 100))).ToArray();
        var first = AnchorBoxes.KMeans(sizes, 5, seed: 11);
        Assert.Equal(first, AnchorBoxes.KMeans(sizes, 5, seed: 11));
        Assert.Equal(5, first.Distinct().Count());
        Assert.True(first.Zip(first.Skip(1)).All(p => p.First.Width * p.First.Height <= p.Second.Width * p.Second.Height), "not sorted by area");
        var seeds = Enumerable.Range(0, 6).Select(seed => AnchorBoxes.KMeans(sizes, 5, seed: seed)).ToArray();
        Assert.Contains(seeds, other => !other.SequenceEqual(first));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        (float, float)[] sizes = [(10f, 10f), (10f, 10f), (20f, 30f)];
        Assert.Contains("k must be at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => AnchorBoxes.KMeans(sizes, 0)).Message);
        Assert.Contains("k = 3 anchors from only 2 distinct box sizes", Assert.Throws<ArgumentException>(() => AnchorBoxes.KMeans(sizes, 3)).Message);
        Assert.Contains("size 1 is 0×5", Assert.Throws<ArgumentException>(() => AnchorBoxes.KMeans([(3f, 4f), (0f, 5f)], 1)).Message);
        Assert.Contains("size 0 is -2×5", Assert.Throws<ArgumentException>(() => AnchorBoxes.MeanIou([(-2f, 5f)], [(1f, 1f)])).Message);
        Assert.Contains("no box sizes", Assert.Throws<ArgumentException>(() => AnchorBoxes.KMeans([], 1)).Message);
        Assert.Equal(2, AnchorBoxes.KMeans(sizes, 2).Length);
    }
}
