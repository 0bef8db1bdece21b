using ConvKit.Tests;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// Felzenszwalb–Huttenlocher segmentation against scikit-image's <c>felzenszwalb</c> (tools/fixtures/gen_felzenszwalb.py:
/// grey and colour pictures, random and a Fashion-MNIST photograph, several scale / sigma / min_size), label for label,
/// and on hand-built pictures whose segments are known.
/// </summary>
public class GraphSegmentationTests
{
    static readonly System.Text.Json.JsonElement Root = Fixtures.Load("felzenszwalb.json");

    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        int i = 0;
        foreach (var c in Root.GetProperty("cases").EnumerateArray())
            data.Add(i++, $"{c.GetProperty("name").GetString()} k={c.GetProperty("scale").GetDouble()} σ={c.GetProperty("sigma").GetDouble()} min={c.GetProperty("min_size").GetInt32()}");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LabelsEqualScikitImages(int index, string name)
    {
        var c = Root.GetProperty("cases")[index];
        var shape = Fixtures.Ints(c.GetProperty("shape"));
        var pixels = Fixtures.Ints(c.GetProperty("pixels")).Select(b => b / 255f).ToArray();
        var labels = GraphSegmentation.Segment(Tensor.FromArray(pixels, shape), c.GetProperty("scale").GetDouble(),
            c.GetProperty("sigma").GetDouble(), c.GetProperty("min_size").GetInt32());

        // Both number segments by their first pixel in raster order, so equal partitions have equal labels.
        var expected = Fixtures.Ints(c.GetProperty("labels"));
        Assert.Equal(c.GetProperty("segments").GetInt32(), labels.Max() + 1);
        int mismatch = Enumerable.Range(0, expected.Length).FirstOrDefault(i => labels[i] != expected[i], -1);
        Assert.True(mismatch < 0, $"{name}: pixel {mismatch} has label {(mismatch < 0 ? 0 : labels[mismatch])}, scikit-image's {(mismatch < 0 ? 0 : expected[mismatch])}");
    }

    static Tensor Picture(int height, int width, Func<int, int, float> value)
    {
        var pixels = new float[height * width];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) pixels[y * width + x] = value(y, x);
        return Tensor.FromArray(pixels, 1, height, width);
    }

    [Fact]
    public void TwoFlatRegionsSeparatedByAnEdgeAreTwoSegments()
    {
        var labels = GraphSegmentation.Segment(Picture(10, 12, (y, x) => x < 5 ? 0.2f : 0.8f), scale: 100, sigma: 0, minSize: 0);
        for (int p = 0; p < labels.Length; p++) Assert.Equal(p % 12 < 5 ? 0 : 1, labels[p]);
    }

    [Fact]
    public void SmoothedEdgeColumnsJoinASideWhenTooSmall()
    {
        // Smoothing blurs the edge: the columns near it (10 pixels each, weight 0 inside) stay apart at k = 1 ...
        var picture = Picture(10, 16, (y, x) => x < 8 ? 0.1f : 0.9f);
        Assert.True(GraphSegmentation.Segment(picture, scale: 1, sigma: 0.8, minSize: 0).Max() + 1 > 2);
        // ... and join one side or the other when a segment needs 11 pixels.
        var labels = GraphSegmentation.Segment(picture, scale: 1, sigma: 0.8, minSize: 11);
        Assert.Equal(2, labels.Max() + 1);
        Assert.NotEqual(labels[0], labels[15]);
    }

    [Theory]
    [InlineData(100, 2)] // the edge (0.02) is above Int + k/255/|C| = 100/255/60 ≈ 0.0065
    [InlineData(500, 1)] // ... and below 500/255/60 ≈ 0.033
    public void LargerScaleMergesAcrossWeakerEdges(double scale, int segments)
    {
        var labels = GraphSegmentation.Segment(Picture(6, 20, (y, x) => x < 10 ? 0.5f : 0.52f), scale, sigma: 0, minSize: 0);
        Assert.Equal(segments, labels.Max() + 1);
    }

    [Fact]
    public void MinSizeMergesSmallSegments()
    {
        var picture = Picture(12, 12, (y, x) => y is 5 or 6 && x is 5 or 6 ? 1f : 0f);
        var apart = GraphSegmentation.Segment(picture, scale: 1, sigma: 0, minSize: 4);
        Assert.Equal(2, apart.Max() + 1);
        Assert.Equal(4, apart.Count(label => label == apart[5 * 12 + 5]));
        Assert.All(GraphSegmentation.Segment(picture, scale: 1, sigma: 0, minSize: 5), label => Assert.Equal(0, label));
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        var grey = Tensor.Zeros(1, 4, 4);
        Assert.Contains("(C, H, W)", Assert.Throws<ArgumentException>(() => GraphSegmentation.Segment(Tensor.Zeros(4, 4), 1, 0.8, 5)).Message);
        Assert.Contains("scale", Assert.Throws<ArgumentOutOfRangeException>(() => GraphSegmentation.Segment(grey, 0, 0.8, 5)).Message);
        Assert.Contains("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => GraphSegmentation.Segment(grey, 1, -1, 5)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GraphSegmentation.Segment(grey, 1, 0.8, -1));
        Assert.Contains("NaN at index 5", Assert.Throws<ArgumentException>(() => GraphSegmentation.Segment(Picture(4, 4, (y, x) => y * 4 + x == 5 ? float.NaN : 0), 1, 0.8, 5)).Message);
    }
}
