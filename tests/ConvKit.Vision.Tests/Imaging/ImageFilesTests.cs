using ConvKit.Vision.Imaging;

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

    [Fact]
    public void GreyIsTheLumaOfRgb()
    {
        string path = Path.Combine(directory, "red.png");
        var red = new float[3 * 2 * 2];
        Array.Fill(red, 1f, 0, 4);
        ImageFiles.SavePng(Tensor.FromArray(red, 3, 2, 2), path);

        var grey = ImageFiles.Load(path, channels: 1);

        Assert.Equal([1, 2, 2], grey.Shape);
        Assert.All(grey.ToArray(), v => Assert.Equal(255 * 299 / 1000 / 255f, v));
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
