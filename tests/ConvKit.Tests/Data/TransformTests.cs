using ConvKit.Data;
using ConvKit.Data.Transforms;

namespace ConvKit.Tests.Data;

public class TransformTests
{
    static readonly int[] Shape = [2, 3, 4];
    static float[] Image() => Enumerable.Range(1, 24).Select(i => (float)i).ToArray();

    /// <summary>The plain definition: zero-pad by p, then take the H×W window at (top, left) of the padded image.</summary>
    static float[] PadAndCrop(float[] image, int padding, int top, int left)
    {
        var result = new float[image.Length];
        for (int c = 0; c < 2; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 4; x++)
                {
                    int sy = y + top - padding, sx = x + left - padding;
                    result[(c * 3 + y) * 4 + x] = sy is >= 0 and < 3 && sx is >= 0 and < 4 ? image[(c * 3 + sy) * 4 + sx] : 0;
                }
        return result;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void RandomCropEqualsPaddingThenCroppingAtTheDrawnCorner(int padding)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var image = Image();
            new RandomCrop(padding).Apply(image, Shape, new Generator(seed));
            var replay = new Generator(seed);
            int top = replay.Next(2 * padding + 1), left = replay.Next(2 * padding + 1);
            Assert.Equal(PadAndCrop(Image(), padding, top, left), image);
        }
    }

    [Fact]
    public void HorizontalFlipMirrorsEveryRowOrNothing()
    {
        var flipped = Image();
        new RandomHorizontalFlip(p: 1).Apply(flipped, Shape, new Generator(0));
        Assert.Equal([4f, 3, 2, 1, 8, 7, 6, 5], flipped[..8]);
        Assert.Equal([24f, 23, 22, 21], flipped[20..]);

        var kept = Image();
        new RandomHorizontalFlip(p: 0).Apply(kept, Shape, new Generator(0));
        Assert.Equal(Image(), kept);
    }

    [Fact]
    public void HorizontalFlipHappensAboutHalfTheTime()
    {
        var flip = new RandomHorizontalFlip();
        int flips = Enumerable.Range(0, 1000).Count(seed =>
        {
            var image = Image();
            flip.Apply(image, Shape, new Generator(seed));
            return image[0] == 4;
        });
        Assert.InRange(flips, 420, 580);
    }

    [Fact]
    public void NormalizeSubtractsTheMeanAndDividesByTheStdPerChannel()
    {
        var image = Image();
        new Normalize([1, 2], [2, 4]).Apply(image, Shape, new Generator(0));
        Assert.Equal(Image().Select((v, i) => i < 12 ? (v - 1) / 2 : (v - 2) / 4), image);
    }

    [Fact]
    public void NormalizeFromDatasetGivesZeroMeanAndUnitStd()
    {
        var dataset = DataLoaderTests.Numbered(40);
        var normalize = Normalize.FromDataset(dataset);
        var values = new DataLoader(dataset, 40, transform: normalize).Single().Images.ToArray();

        double mean = values.Average(v => (double)v);
        Assert.Equal(0, mean, 5);
        Assert.Equal(1, Math.Sqrt(values.Average(v => (v - mean) * (v - mean))), 4);
    }

    [Fact]
    public void ComposeAppliesInOrder()
    {
        var image = Image();
        new Compose(new Normalize([1], [1]), new RandomHorizontalFlip(1)).Apply(image, Shape, new Generator(0));
        Assert.Equal([3f, 2, 1, 0], image[..4]);
    }

    [Fact]
    public void BadSettingsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomCrop(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomHorizontalFlip(1.5));
        Assert.Throws<ArgumentException>(() => new Normalize([0.5f], [0f]));
        Assert.Throws<ArgumentException>(() => new Normalize([0.5f, 0.5f], [1f]));
    }
}
