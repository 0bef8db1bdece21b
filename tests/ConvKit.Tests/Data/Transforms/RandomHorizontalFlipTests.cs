using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class RandomHorizontalFlipTests
{
    [Fact]
    public void TheBoxesAndTheMaskAreMirroredWithThePixels()
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        var flipped = ((ISampleTransform)new RandomHorizontalFlip(p: 1)).Apply(sample, new Generator(0));

        Assert.Equal([64 - 21, 8, 64 - 5, 20], flipped.Boxes![0].ToArray());
        Assert.All(BoxedPicture.AssertBoxesMatchPixels(flipped, tolerance: 0), count => Assert.True(count > 0));
        Assert.Equal(7, flipped.Label);
    }

    [Fact]
    public void BoxesKeepTheirDeclaredFormat()
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles, format: BoxFormat.Cxcywh, relative: true);
        var flipped = new RandomHorizontalFlip(p: 1).Apply(sample, new Generator(0));
        Assert.Equal(BoxFormat.Cxcywh, flipped.Boxes!.Format);
        Assert.True(flipped.Boxes.Relative);
        Assert.Equal(1 - 13 / 64f, flipped.Boxes[0][0], 5);
        BoxedPicture.AssertBoxesMatchPixels(flipped, tolerance: 0);
    }

    [Fact]
    public void TheSampleAndTheImageOnlyPathsMakeTheSameDraw()
    {
        var flip = new RandomHorizontalFlip();
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        for (int seed = 0; seed < 20; seed++)
        {
            var values = sample.Image.ToArray();
            flip.Apply(values, sample.Image.Shape, new Generator(seed));
            var whole = flip.Apply(sample, new Generator(seed));
            Assert.Equal(values, whole.Image.ToArray());
            BoxedPicture.AssertBoxesMatchPixels(whole, tolerance: 0);
            BoxedPicture.AssertSame(whole, flip.Apply(sample, new Generator(seed)));
        }
    }
}
