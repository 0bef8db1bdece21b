using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data.Transforms;

public class ColorJitterTests
{
    static float[] Colourful(int height = 6, int width = 5) =>
        Enumerable.Range(0, 3 * height * width).Select(i => 0.1f + 0.8f * ((i * 37) % 101) / 101f).ToArray();

    [Fact]
    public void BoxesAndMaskAreLeftAlone()
    {
        var sample = BoxedPicture.Make(BoxedPicture.TwoRectangles);
        var image = Colourful(48, 64);
        sample = sample with { Image = Tensor.FromArray(image, 3, 48, 64) };
        var jittered = ((ISampleTransform)new ColorJitter(0.4f, 0.4f, 0.4f, 0.1f)).Apply(sample, new Generator(5));

        Assert.Same(sample.Boxes, jittered.Boxes);
        Assert.Same(sample.Mask, jittered.Mask);
        Assert.NotEqual(image, jittered.Image.ToArray());
        Assert.All(jittered.Image.ToArray(), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void TheSameSeedGivesTheSameColours()
    {
        var jitter = new ColorJitter(0.4f, 0.4f, 0.4f, 0.2f);
        float[] first = Colourful(), second = Colourful(), other = Colourful();
        jitter.Apply(first, [3, 6, 5], new Generator(11));
        jitter.Apply(second, [3, 6, 5], new Generator(11));
        jitter.Apply(other, [3, 6, 5], new Generator(12));
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void BrightnessScalesEveryValueByOneFactorInRange()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var image = Colourful();
            new ColorJitter(brightness: 0.5f).Apply(image, [3, 6, 5], new Generator(seed));
            var ratios = image.Zip(Colourful(), (after, before) => after / before).Where((_, i) => image[i] < 1).ToArray(); // 1 is clamped
            Assert.InRange(ratios[0], 0.5f, 1.5f);
            Assert.All(image, v => Assert.InRange(v, 0f, 1f));
            Assert.All(ratios, r => Assert.Equal(ratios[0], r, 4));
        }
    }

    [Fact]
    public void ContrastKeepsTheMeanGrey()
    {
        static double MeanGrey(float[] image) => Enumerable.Range(0, 30).Average(i => 0.2989 * image[i] + 0.587 * image[30 + i] + 0.114 * image[60 + i]);
        var image = Colourful();
        new ColorJitter(contrast: 0.1f).Apply(image, [3, 6, 5], new Generator(1));
        Assert.Equal(MeanGrey(Colourful()), MeanGrey(image), 4);
        Assert.NotEqual(Colourful(), image);
    }

    [Fact]
    public void SaturationAndHueLeaveGreyPicturesAlone()
    {
        var grey = Enumerable.Repeat(0.3f, 90).ToArray();
        new ColorJitter(saturation: 0.9f, hue: 0.5f).Apply(grey, [3, 6, 5], new Generator(2));
        Assert.All(grey, v => Assert.Equal(0.3f, v, 3)); // the grey weights sum to 0.9999, as torchvision's
        var single = Colourful()[..30];
        new ColorJitter(saturation: 0.9f, hue: 0.5f).Apply(single, [1, 6, 5], new Generator(2));
        Assert.Equal(Colourful()[..30], single);
    }

    [Fact]
    public void HueTurnsTheColourWheelKeepingValueAndSaturation()
    {
        // Pure red turned by a third of a turn is pure green; any turn keeps max and min of the channels.
        for (int seed = 0; seed < 20; seed++)
        {
            float[] pixel = [0.8f, 0.2f, 0.2f];
            new ColorJitter(hue: 0.5f).Apply(pixel, [3, 1, 1], new Generator(seed));
            Assert.Equal(0.8f, pixel.Max(), 5);
            Assert.Equal(0.2f, pixel.Min(), 5);
        }
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ColorJitter(brightness: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ColorJitter(hue: 0.6f));
        Assert.Throws<ArgumentException>(() => new ColorJitter(0.1f).Apply(new float[8], [2, 2, 2], new Generator(0)));
    }
}
