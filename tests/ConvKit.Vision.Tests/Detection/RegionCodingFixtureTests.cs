using System.Text.Json;
using ConvKit.Tests;
using ConvKit.Vision.Detection;

namespace ConvKit.Vision.Tests.Detection;

/// <summary>
/// The R-CNN box parameterisation and the RPN's anchors against torchvision 0.14 (tools/fixtures/gen_rcnn.py):
/// <c>BoxCoder.encode_single</c>/<c>decode_single</c> with the RPN's and the head's weights (a size delta beyond the
/// log(1000/16) clamp, a box running off the picture), and <c>AnchorGenerator</c>'s cell anchors and shifted anchors.
/// </summary>
public class RegionCodingFixtureTests
{
    static readonly JsonElement Root = Fixtures.Load("rcnn.json");

    public static TheoryData<int> CoderCases() => [.. Enumerable.Range(0, Root.GetProperty("box_coder").GetArrayLength())];
    public static TheoryData<int> AnchorCases() => [.. Enumerable.Range(0, Root.GetProperty("anchors").GetArrayLength())];

    static BoxCoder Coder(JsonElement c)
    {
        var w = Fixtures.Floats(c.GetProperty("weights"));
        return new BoxCoder(w[0], w[1], w[2], w[3]);
    }

    [Theory]
    [MemberData(nameof(CoderCases))]
    public void EncodingMatchesTorchvision(int index)
    {
        var c = Root.GetProperty("box_coder")[index];
        var deltas = new float[16];
        Coder(c).Encode(Fixtures.Floats(c.GetProperty("reference")), Fixtures.Floats(c.GetProperty("proposals")), deltas);
        Close.All(Fixtures.Doubles(c.GetProperty("encoded")), deltas, 1e-5, 1e-6, $"weights {Coder(c)}: encode");
    }

    [Theory]
    [MemberData(nameof(CoderCases))]
    public void DecodingMatchesTorchvisionAndUndoesEncoding(int index)
    {
        var c = Root.GetProperty("box_coder")[index];
        var coder = Coder(c);
        var proposals = Fixtures.Floats(c.GetProperty("proposals"));
        var boxes = new float[16];
        coder.Decode(Fixtures.Floats(c.GetProperty("deltas")), proposals, boxes);
        Close.All(Fixtures.Doubles(c.GetProperty("decoded")), boxes, 1e-5, 1e-4, $"weights {coder}: decode");

        coder.Decode(Fixtures.Floats(c.GetProperty("encoded")), proposals, boxes);
        Close.All(Fixtures.Doubles(c.GetProperty("reference")), boxes, 1e-5, 1e-4, $"weights {coder}: decode(encode(reference))");
    }

    [Fact]
    public void TheSizeClampIsTorchvisions() => Assert.Equal(Root.GetProperty("clamp").GetDouble(), BoxCoder.SizeDeltaClamp, 6);

    [Theory]
    [MemberData(nameof(AnchorCases))]
    public void AnchorsMatchTorchvisionsAnchorGenerator(int index)
    {
        var c = Root.GetProperty("anchors")[index];
        var generator = new AnchorGenerator(Fixtures.Floats(c.GetProperty("sizes")), Fixtures.Floats(c.GetProperty("ratios")));
        var feature = Fixtures.Ints(c.GetProperty("feature"));
        var image = Fixtures.Ints(c.GetProperty("image"));
        Assert.Equal(Fixtures.Floats(c.GetProperty("cell")), generator.CellAnchors.ToArray());
        Assert.Equal(Fixtures.Floats(c.GetProperty("anchors")), generator.Anchors(feature[0], feature[1], image[0] / feature[0], image[1] / feature[1]));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var deltas = new float[4];
        Assert.Contains("proposal 0 [5, 5, 5, 9] has no area",
            Assert.Throws<ArgumentException>(() => BoxCoder.RegionHead.Encode([1, 1, 4, 4], [5, 5, 5, 9], deltas)).Message);
        Assert.Contains("K·4 numbers", Assert.Throws<ArgumentException>(() => BoxCoder.RegionHead.Decode([1, 1, 4], [5, 5, 5], new float[3])).Message);
        Assert.Contains("positive and finite, got 0", Assert.Throws<ArgumentException>(() => new AnchorGenerator([32, 0], [1])).Message);
        Assert.Contains("at least one size", Assert.Throws<ArgumentException>(() => new AnchorGenerator([], [1])).Message);
        Assert.Contains("must be positive", Assert.Throws<ArgumentException>(() => new AnchorGenerator([32], [1]).Anchors(0, 4, 8, 8)).Message);
    }
}
