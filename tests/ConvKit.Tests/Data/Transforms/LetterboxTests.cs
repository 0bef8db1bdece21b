using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class LetterboxTests
{
    [Theory]
    [InlineData(48, 64, 80)]
    [InlineData(64, 48, 80)]
    [InlineData(48, 64, 33)]
    public void TheBoxesFollowThePictureIntoTheSquare(int height, int width, int size)
    {
        var rectangles = height < width ? BoxedPicture.TwoRectangles : [(8, 5, 20, 21, 1), (24, 36, 43, 58, 2)];
        var sample = BoxedPicture.Make(rectangles, height, width);
        var letterbox = new Letterbox(size, fill: 0.25f);
        var boxed = letterbox.Apply(sample, new Generator(0));

        Assert.Equal([3, size, size], boxed.Image.Shape);
        Assert.All(BoxedPicture.AssertBoxesMatchPixels(boxed, tolerance: 1), count => Assert.True(count > 0));

        // The padding: fill in the image, the ignore index in the mask, the picture centred.
        var (resizedHeight, resizedWidth, top, left, _, _) = letterbox.Place(height, width);
        Assert.Equal(size, Math.Max(resizedHeight, resizedWidth));
        Assert.Equal((size - Math.Min(resizedHeight, resizedWidth)) / 2, Math.Max(top, left));
        var image = boxed.Image.ToArray();
        var mask = boxed.Mask!.ToArray();
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                bool onPicture = y >= top && y < top + resizedHeight && x >= left && x < left + resizedWidth;
                if (onPicture) Assert.NotEqual(Sample.IgnoreIndex, mask[y * size + x]);
                else
                {
                    Assert.Equal(Sample.IgnoreIndex, mask[y * size + x]);
                    Assert.Equal(0.25f, image[y * size + x]);
                }
            }
    }

    [Fact]
    public void ThePlacementMapsBoxCornersBack()
    {
        var letterbox = new Letterbox(640);
        var (_, _, top, left, scaleY, scaleX) = letterbox.Place(480, 600);
        Assert.Equal((64, 0, 512 / 480f, 640 / 600f), (top, left, scaleY, scaleX));
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles, 480, 600);
        var box = letterbox.Apply(sample, new Generator(0)).Boxes![1];
        Assert.Equal(36, (box[0] - left) / scaleX, 4);
        Assert.Equal(43, (box[3] - top) / scaleY, 4);
    }
}
