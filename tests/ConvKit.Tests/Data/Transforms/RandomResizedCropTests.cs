using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class RandomResizedCropTests
{
    [Fact]
    public void TheBoxesAreClippedToTheWindowAndFollowThePixels()
    {
        var crop = new RandomResizedCrop(40, 40, scale: (0.2, 1));
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        int dropped = 0, clipped = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            var result = crop.Apply(sample, new Generator(seed));
            Assert.Equal([3, 40, 40], result.Image.Shape);
            BoxedPicture.AssertBoxesMatchPixels(result, tolerance: 1);
            BoxedPicture.AssertSame(result, crop.Apply(sample, new Generator(seed)));

            var (top, left, height, width) = crop.DrawWindow(48, 64, new Generator(seed));
            int visible = BoxedPicture.TwoRectangles.Count(r => r.Item1 < left + width && r.Item3 > left && r.Item2 < top + height && r.Item4 > top);
            Assert.Equal(visible, result.Boxes!.Count);
            dropped += 2 - visible;
            clipped += BoxedPicture.TwoRectangles.Count(r => r.Item1 < left || r.Item3 > left + width || r.Item2 < top || r.Item4 > top + height);
        }
        Assert.True(dropped > 0 && clipped > dropped, $"the seeds should both drop ({dropped}) and clip ({clipped}) boxes");
    }

    [Fact]
    public void WindowsRespectScaleAndRatio()
    {
        var crop = new RandomResizedCrop(10, 10, scale: (0.25, 0.5), ratio: (0.5, 2));
        for (int seed = 0; seed < 200; seed++)
        {
            var (top, left, height, width) = crop.DrawWindow(100, 120, new Generator(seed));
            Assert.InRange(top, 0, 100 - height);
            Assert.InRange(left, 0, 120 - width);
            Assert.InRange(height * width / 12000.0, 0.23, 0.52);
            Assert.InRange(width / (double)height, 0.45, 2.2);
        }
    }

    [Fact]
    public void AnImpossibleRatioFallsBackToTheCentredWindow()
    {
        // A 100×10 strip cannot hold any window of ratio 1..1 of at least half its area: the fallback is 10×10 centred.
        var crop = new RandomResizedCrop(5, 5, scale: (0.5, 1), ratio: (1, 1));
        Assert.Equal((45, 0, 10, 10), crop.DrawWindow(100, 10, new Generator(3)));
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(4, 4, scale: (0.5, 0.2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(4, 4, ratio: (0, 1)));
    }
}
