using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>Selective search on hand-built pictures: every drawn rectangle's box is proposed exactly.</summary>
public class SelectiveSearchTests
{
    /// <summary>(x1, y1, x2, y2) ends exclusive, and the colour (per channel) drawn there; one is striped.</summary>
    static readonly (RegionProposal Box, float[] Colour, bool Striped)[] Rectangles =
    [
        (new(5, 8, 20, 30), [0.9f, 0.2f, 0.2f], false),
        (new(30, 10, 50, 25), [0.3f, 0.8f, 0.3f], false),
        (new(12, 38, 55, 58), [0.5f, 0.5f, 0.95f], true),
        (new(52, 2, 62, 12), [0.7f, 0.7f, 0.1f], false),
    ];

    /// <summary>The rectangles on a black 64×64 canvas; the striped one alternates its colour and 60% of it every 2 rows.</summary>
    static Tensor Picture(int channels)
    {
        const int size = 64;
        var pixels = new float[channels * size * size];
        foreach (var (box, colour, striped) in Rectangles)
            for (int y = (int)box.Y1; y < box.Y2; y++)
                for (int x = (int)box.X1; x < box.X2; x++)
                    for (int c = 0; c < channels; c++)
                    {
                        float value = channels == 1 ? colour.Average() : colour[c];
                        pixels[(c * size + y) * size + x] = striped && (y / 2) % 2 == 1 ? 0.6f * value : value;
                    }
        return Tensor.FromArray(pixels, channels, size, size);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ProposesEachDrawnRectanglesBoxExactly(int channels)
    {
        var proposals = SelectiveSearch.Propose(Picture(channels));
        foreach (var (box, _, _) in Rectangles) Assert.Contains(box, proposals);
        Assert.Contains(new RegionProposal(0, 0, 64, 64), proposals); // the top of every hierarchy
    }

    [Fact]
    public void ProposalsAreUniqueInsideThePictureAndRepeatable()
    {
        var picture = Picture(3);
        var proposals = SelectiveSearch.Propose(picture, new SelectiveSearchOptions { ColourSpaces = [ColourSpace.Rgb, ColourSpace.Hsv, ColourSpace.Lab, ColourSpace.Intensity] });
        Assert.Equal(proposals.Count, proposals.Distinct().Count());
        Assert.All(proposals, p => Assert.True(p.X1 >= 0 && p.Y1 >= 0 && p.X1 < p.X2 && p.Y1 < p.Y2 && p.X2 <= 64 && p.Y2 <= 64, $"{p}"));
        Assert.Equal(proposals, SelectiveSearch.Propose(picture, new SelectiveSearchOptions { ColourSpaces = [ColourSpace.Rgb, ColourSpace.Hsv, ColourSpace.Lab, ColourSpace.Intensity] }));
        // Another seed ranks the same boxes differently.
        var reseeded = SelectiveSearch.Propose(picture, new SelectiveSearchOptions { ColourSpaces = [ColourSpace.Rgb, ColourSpace.Hsv, ColourSpace.Lab, ColourSpace.Intensity], Seed = 1 });
        Assert.Equal(proposals.ToHashSet(), reseeded.ToHashSet());
        Assert.NotEqual(proposals, reseeded);
    }

    [Fact]
    public void StripesAreGroupedIntoOneRegionOnlyByTheHierarchy()
    {
        // The striped rectangle's stripes are separate segments: its box comes from merging them, not from a segment.
        var striped = Rectangles.Single(r => r.Striped).Box;
        var segmentOnly = SelectiveSearch.Propose(Picture(1), new SelectiveSearchOptions { Scales = [1], MinSize = 0, Sigma = 0 });
        var labels = GraphSegmentation.Segment(Picture(1), scale: 1, sigma: 0, minSize: 0);
        Assert.True(labels.Distinct().Count() > Rectangles.Length + 1);
        Assert.Contains(striped, segmentOnly);
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        Assert.Contains("(1, H, W) or (3, H, W)", Assert.Throws<ArgumentException>(() => SelectiveSearch.Propose(Tensor.Zeros(2, 8, 8))).Message);
        Assert.Contains("Scales", Assert.Throws<ArgumentException>(() => SelectiveSearch.Propose(Tensor.Zeros(1, 8, 8), new SelectiveSearchOptions { Scales = [] })).Message);
        Assert.Contains("Similarities", Assert.Throws<ArgumentException>(() => SelectiveSearch.Propose(Tensor.Zeros(1, 8, 8), new SelectiveSearchOptions { Similarities = [0] })).Message);
        Assert.Contains("MinSize", Assert.Throws<ArgumentException>(() => SelectiveSearch.Propose(Tensor.Zeros(1, 8, 8), new SelectiveSearchOptions { MinSize = -1 })).Message);
    }
}
