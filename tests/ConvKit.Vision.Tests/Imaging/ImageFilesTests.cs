using ConvKit.Vision.Imaging;
using SkiaSharp;

namespace ConvKit.Vision.Tests.Imaging;

public sealed class ImageFilesTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("convkit-images-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void APngRoundTripsThroughSaveAndLoad()
    {
        var values = Enumerable.Range(0, 3 * 4 * 5).Select(i => (i * 17 % 256) / 255f).ToArray();
        string path = Path.Combine(directory, "rgb.png");
        ImageFiles.SavePng(Tensor.FromArray(values, 3, 4, 5), path);

        var loaded = ImageFiles.Load(path, channels: 3);

        Assert.Equal([3, 4, 5], loaded.Shape);
        Assert.Equal(values, loaded.ToArray());
    }

    /// <summary>
    /// Grey is PIL's convert("L"): (R·19595 + G·38470 + B·7471 + 0x8000) >> 16, i.e. R·299/1000 + G·587/1000 + B·114/1000
    /// rounded. The expected values were printed by PIL 9.4 (Image.new("RGB", (1, 1), colour).convert("L").getpixel((0, 0)));
    /// truncating instead of rounding gives 225 for yellow, 149 for green, 178 for cyan, 1 for (1, 2, 3), 77 for (13, 77, 250).
    /// </summary>
    [Fact]
    public void GreyRoundsAsPilConvertL()
    {
        (byte R, byte G, byte B, byte L)[] colours =
        [
            (255, 255, 0, 226), (255, 0, 0, 76), (0, 255, 0, 150), (0, 0, 255, 29), (255, 255, 255, 255), (0, 255, 255, 179),
            (255, 0, 255, 105), (128, 128, 128, 128), (1, 2, 3, 2), (200, 100, 50, 124), (13, 77, 250, 78), (254, 1, 128, 91),
        ];
        int n = colours.Length;
        var rgb = new float[3 * n];
        for (int i = 0; i < n; i++) (rgb[i], rgb[n + i], rgb[2 * n + i]) = (colours[i].R / 255f, colours[i].G / 255f, colours[i].B / 255f);
        string path = Path.Combine(directory, "colours.png");
        ImageFiles.SavePng(Tensor.FromArray(rgb, 3, 1, n), path);

        var grey = ImageFiles.Load(path, channels: 1);

        Assert.Equal([1, 1, n], grey.Shape);
        Assert.Equal(colours.Select(c => c.L / 255f), grey.ToArray());
        Assert.Equal(226, ImageFiles.Luma(255, 255, 0));
    }

    [Fact]
    public void ToTensorReadsAnyColourTypeAsLoadReadsTheFile()
    {
        string path = Path.Combine(directory, "rgb.png");
        ImageFiles.SavePng(Tensor.Rand([3, 7, 9], seed: 3), path);
        using var bgra = SKBitmap.Decode(path).Copy(SKColorType.Bgra8888);

        Assert.Equal(ImageFiles.Load(path, 1, new Size2(4, 5)).ToArray(), ImageFiles.ToTensor(bgra, 1, new Size2(4, 5)).ToArray());
        Assert.Equal(ImageFiles.Load(path).ToArray(), ImageFiles.ToTensor(bgra).ToArray());
    }

    [Fact]
    public void ResizingGivesTheRequestedSizeAndKeepsAUniformColour()
    {
        string path = Path.Combine(directory, "flat.png");
        ImageFiles.SavePng(Tensor.Full([1, 40, 30], 0.6f), path);
        var resized = ImageFiles.Load(path, channels: 1, size: new Size2(8, 6));
        Assert.Equal([1, 8, 6], resized.Shape);
        Assert.All(resized.ToArray(), v => Assert.Equal(153 / 255f, v, 2));
    }

    [Fact]
    public void UnreadableAndMissingFilesAreReportedClearly()
    {
        string text = Path.Combine(directory, "notes.png");
        File.WriteAllText(text, "this is not a picture");
        Assert.Contains("cannot read image", Assert.Throws<InvalidDataException>(() => ImageFiles.Load(text)).Message);
        Assert.Throws<FileNotFoundException>(() => ImageFiles.Load(Path.Combine(directory, "missing.png")));
        Assert.Throws<ArgumentException>(() => ImageFiles.SavePng(Tensor.Zeros(2, 3, 3), Path.Combine(directory, "x.png")));
    }
}
