using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class ResizeTests
{
    [Theory]
    [InlineData(30, 40)]
    [InlineData(96, 128)]
    [InlineData(37, 101)]
    public void TheScaledBoxesCoverTheResizedRectangles(int height, int width)
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        var resized = new Resize(height, width).Apply(sample, new Generator(0));

        Assert.Equal([3, height, width], resized.Image.Shape);
        Assert.Equal([height, width], resized.Mask!.Shape);
        Assert.Equal([5 * width / 64f, 8 * height / 48f, 21 * width / 64f, 20 * height / 48f], resized.Boxes![0].ToArray(), (a, b) => Math.Abs(a - b) < 1e-4);
        Assert.All(BoxedPicture.AssertBoxesMatchPixels(resized, tolerance: 1), count => Assert.True(count > 0));
    }

    [Fact]
    public void TheMaskKeepsWholeClassIndices()
    {
        var resized = new Resize(37, 101).Apply(BoxedPicture.Make(BoxedPicture.TwoRectangles), new Generator(0));
        Assert.All(resized.Mask!.ToArray(), v => Assert.Contains(v, new float[] { 0, 1, 2 }));
    }

    [Fact]
    public void TheImageIsInterpolatedAsTorch()
    {
        // torch: F.interpolate(torch.tensor([[[[0., 1.], [2., 3.]]]]), size=(3, 3), mode='bilinear', align_corners=False)
        var sample = new Sample(Tensor.FromArray([0, 1, 2, 3], 1, 2, 2));
        var resized = new Resize(3, 3).Apply(sample, new Generator(0)).Image.ToArray();
        float[] expected = [0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3];
        for (int i = 0; i < 9; i++) Assert.Equal(expected[i], resized[i], 5);
    }

    [Fact]
    public void RelativeBoxesStayRelative()
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles, format: BoxFormat.Cxcywh, relative: true);
        var resized = new Resize(24, 100).Apply(sample, new Generator(0));
        Assert.True(resized.Boxes!.Relative);
        Assert.Equal(sample.Boxes!.Coordinates.ToArray(), resized.Boxes.Coordinates.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void BadSizesAreRejected() => Assert.Throws<ArgumentOutOfRangeException>(() => new Resize(0, 5));
}
