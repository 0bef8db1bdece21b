using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class RandomCropTests
{
    [Fact]
    public void TheBoxesAndTheMaskShiftWithThePixels()
    {
        var crop = new RandomCrop(padding: 12);
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        for (int seed = 0; seed < 30; seed++)
        {
            var shifted = crop.Apply(sample, new Generator(seed));
            Assert.Equal([3, 48, 64], shifted.Image.Shape);
            BoxedPicture.AssertBoxesMatchPixels(shifted, tolerance: 0);

            // The same draw as the image-only path.
            var values = sample.Image.ToArray();
            crop.Apply(values, sample.Image.Shape, new Generator(seed));
            Assert.Equal(values, shifted.Image.ToArray());
            BoxedPicture.AssertSame(shifted, crop.Apply(sample, new Generator(seed)));
        }
    }

    [Fact]
    public void UncoveredMaskPixelsGetTheMaskFill()
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        bool padded = false;
        for (int seed = 0; seed < 10; seed++)
        {
            var replay = new Generator(seed);
            int shiftY = 3 - replay.Next(7), shiftX = 3 - replay.Next(7);
            var ignored = new RandomCrop(3).Apply(sample, new Generator(seed)).Mask!.ToArray();
            int uncovered = 48 * 64 - (48 - Math.Abs(shiftY)) * (64 - Math.Abs(shiftX));
            Assert.Equal(uncovered, ignored.Count(v => v == Sample.IgnoreIndex));

            var background = new RandomCrop(3, maskFill: 0).Apply(sample, new Generator(seed)).Mask!.ToArray();
            Assert.Equal(ignored.Select(v => v == Sample.IgnoreIndex ? 0 : v), background);
            padded |= uncovered > 0;
        }
        Assert.True(padded);
    }

    [Fact]
    public void ABoxShiftedOutOfThePictureIsDropped()
    {
        // A box in the top-left corner, 2 pixels wide; a shift of 2 or more to the left pushes it out.
        var sample = BoxedPicture.Make([(0, 0, 2, 2, 1), (30, 20, 40, 30, 2)]);
        for (int seed = 0; seed < 40; seed++)
        {
            var replay = new Generator(seed);
            int shiftY = 4 - replay.Next(9), shiftX = 4 - replay.Next(9);
            var shifted = new RandomCrop(4).Apply(sample, new Generator(seed));
            int expected = shiftX <= -2 || shiftY <= -2 ? 1 : 2;
            Assert.Equal(expected, shifted.Boxes!.Count);
            BoxedPicture.AssertBoxesMatchPixels(shifted, tolerance: 0);
        }
    }
}
