using ConvKit.Vision.Detection;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Detection;


public class DetectionOverlayTests
{
    static readonly string[] Classes = ["zero", "one", "two"];
    static readonly SKColor Grey = new(51, 51, 51);

    /// <summary>A 32×40 grey picture of 0.2 (byte 51).</summary>
    static Tensor GreyPicture() => Tensor.Full([1, 32, 40], 51 / 255f);

    [Fact]
    public void SmallPicturesAreEnlargedByTheWholeFactorThatReaches512()
    {
        Assert.Equal(4, DetectionOverlay.ScaleFor(128, 128));
        Assert.Equal(13, DetectionOverlay.ScaleFor(32, 40));
        Assert.Equal(19, DetectionOverlay.ScaleFor(28, 28));
        Assert.Equal(1, DetectionOverlay.ScaleFor(600, 300));
        using var drawn = DetectionOverlay.Draw(GreyPicture(), [], Classes);
        Assert.Equal((32 * 13, 40 * 13), (drawn.Height, drawn.Width));
        Assert.Equal(Grey, drawn.GetPixel(100, 100));
    }

    [Fact]
    public void TheOutlineIsTwoPixelsInsideTheBoxInTheClassColour()
    {
        // Box (4, 8)–(20, 30) at scale 13: x 52..260, y 104..390 in the drawing.
        using var drawn = DetectionOverlay.Draw(GreyPicture(), [new DetectedObject(2, 0.87f, 4, 8, 20, 30)], Classes);
        var colour = DetectionOverlay.ColourOf(2);
        foreach (int x in new[] { 52, 53, 258, 259 }) Assert.Equal(colour, drawn.GetPixel(x, 250));
        foreach (int y in new[] { 388, 389 }) Assert.Equal(colour, drawn.GetPixel(150, y));
        foreach (int x in new[] { 51, 54, 257, 260 }) Assert.Equal(Grey, drawn.GetPixel(x, 250));
        Assert.Equal(Grey, drawn.GetPixel(150, 387));
        Assert.Equal(Grey, drawn.GetPixel(150, 390));
        Assert.Equal(Grey, drawn.GetPixel(150, 250)); // the inside is left as it is
    }

    [Fact]
    public void TheTagIsFilledWithTheClassColourAndHoldsText()
    {
        using var drawn = DetectionOverlay.Draw(GreyPicture(), [new DetectedObject(2, 0.87f, 4, 8, 20, 30)], Classes);
        var colour = DetectionOverlay.ColourOf(2); // light: black text
        // The tag sits on the box's top edge, above it (rows < 104), from its left edge.
        int fill = 0, text = 0;
        for (int y = 70; y < 104; y++)
            for (int x = 52; x < 260; x++)
            {
                var pixel = drawn.GetPixel(x, y);
                if (pixel == colour) fill++;
                else if (pixel.Red < 120 && pixel.Green < 120 && pixel.Blue < 120 && pixel != Grey) text++;
            }
        Assert.True(fill > 600, $"{fill} tag pixels");
        Assert.True(text > 40, $"{text} text pixels");
        Assert.Equal(colour, drawn.GetPixel(53, 103));
        Assert.Equal(Grey, drawn.GetPixel(53, 50)); // nothing far above the tag
        Assert.Equal(Grey, drawn.GetPixel(40, 95)); // nor left of it
    }

    [Fact]
    public void TagsStayInsideThePicture()
    {
        // A box in the top-right corner: no room above, none to the right.
        using var drawn = DetectionOverlay.Draw(GreyPicture(), [new DetectedObject(0, 0.5f, 36, 0, 40, 6)], Classes);
        var colour = DetectionOverlay.ColourOf(0);
        bool leftOfTheBox = false;
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 36 * 13; x++)
                leftOfTheBox |= drawn.GetPixel(x, y) == colour;
        Assert.True(leftOfTheBox, "the tag should move left to stay inside the picture");
        Assert.Equal(colour, drawn.GetPixel(40 * 13 - 1, 3)); // drawn inside the box's top, at the picture's edge
    }

    [Fact]
    public void ColourPicturesKeepTheirColoursAndClassesTheirOwn()
    {
        var picture = Tensor.FromArray([.. Enumerable.Repeat(1f, 16), .. Enumerable.Repeat(0.5f, 16), .. Enumerable.Repeat(0f, 16)], 3, 4, 4);
        using var drawn = DetectionOverlay.Draw(picture, [new DetectedObject(0, 0.9f, 0, 2, 2, 4), new DetectedObject(1, 0.8f, 2, 2, 4, 4)], Classes);
        Assert.Equal(512, drawn.Width); // 4 · 128
        Assert.Equal(new SKColor(255, 128, 0), drawn.GetPixel(240, 20));
        Assert.Equal(DetectionOverlay.ColourOf(0), drawn.GetPixel(0, 400));
        Assert.Equal(DetectionOverlay.ColourOf(1), drawn.GetPixel(511, 400));
        Assert.Equal(new SKColor(255, 128, 0), drawn.GetPixel(400, 400));
        Assert.Equal(10, Enumerable.Range(0, 10).Select(DetectionOverlay.ColourOf).Distinct().Count());
    }

    [Fact]
    public void SaveWritesThePng()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("convkit-overlay-").FullName, "o.png");
        try
        {
            DetectionOverlay.Save(GreyPicture(), [new DetectedObject(1, 0.6f, 1, 1, 10, 10)], Classes, path);
            using var read = SKBitmap.Decode(path);
            using var drawn = DetectionOverlay.Draw(GreyPicture(), [new DetectedObject(1, 0.6f, 1, 1, 10, 10)], Classes);
            Assert.Equal(drawn.Bytes, read.Copy(SKColorType.Rgba8888).Bytes);
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    [Fact]
    public void BadInputNamesTheOverlayAndTheShape()
    {
        var rank = Assert.Throws<ArgumentException>(() => DetectionOverlay.Draw(Tensor.Zeros(32, 40), [], Classes));
        Assert.Contains("DetectionOverlay", rank.Message);
        Assert.Contains("[32, 40]", rank.Message);
        var channels = Assert.Throws<ArgumentException>(() => DetectionOverlay.Draw(Tensor.Zeros(2, 8, 8), [], Classes));
        Assert.Contains("[2, 8, 8]", channels.Message);
        var label = Assert.Throws<ArgumentException>(() => DetectionOverlay.Draw(GreyPicture(), [new DetectedObject(3, 0.5f, 0, 0, 4, 4)], Classes));
        Assert.Contains("class 3", label.Message);
        Assert.Contains("3 classes", label.Message);
    }
}
