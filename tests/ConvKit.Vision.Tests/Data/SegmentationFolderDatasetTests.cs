using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Data;

public sealed class SegmentationFolderDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-segmentation-").FullName;
    string Images => Path.Combine(root, "images");
    string Masks => Path.Combine(root, "masks");
    string MaskPath => Path.Combine(Masks, "a.png");

    public SegmentationFolderDatasetTests()
    {
        Directory.CreateDirectory(Images);
        Directory.CreateDirectory(Masks);
        ImageFiles.SavePng(Tensor.Zeros(3, 6, 8), Path.Combine(Images, "a.png"));
        ImageFiles.SavePng(Tensor.Zeros(3, 6, 8), Path.Combine(Images, "unmasked.png"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>A grey index mask: every pixel <paramref name="value"/> but (x 3, y 2), which is <paramref name="odd"/>.</summary>
    void WriteIndexMask(int value, int odd, int height = 6, int width = 8)
    {
        var mask = Tensor.Full([height, width], value / 255f);
        using (Tensor.NoGrad()) mask[2, 3] = odd / 255f;
        ImageFiles.SavePng(mask, MaskPath);
    }

    [Fact]
    public void IndexMasksGiveClassIndicesAndKeepTheIgnoreValue()
    {
        WriteIndexMask(1, Sample.IgnoreIndex);
        var dataset = new SegmentationFolderDataset(Images, Masks, ["background", "cat"]);
        Assert.Equal(1, dataset.Count);
        var mask = dataset[0].Mask!.ToArray();
        Assert.Equal(Sample.IgnoreIndex, mask[2 * 8 + 3]);
        Assert.Equal(47, mask.Count(v => v == 1));
    }

    [Fact]
    public void AnIndexOutOfRangeNamesTheMaskAndThePixel()
    {
        WriteIndexMask(1, 7);
        var dataset = new SegmentationFolderDataset(Images, Masks, ["background", "cat"]);
        var error = Assert.Throws<InvalidDataException>(() => dataset[0]);
        Assert.Contains(MaskPath, error.Message);
        Assert.Contains("pixel (x 3, y 2) has class index 7", error.Message);
    }

    [Fact]
    public void AColourMissingFromThePaletteNamesTheMaskAndThePixel()
    {
        var colours = Tensor.Zeros(3, 6, 8);
        using (Tensor.NoGrad()) colours[0, 2, 3] = 1f; // pure red is not in VOC's palette
        ImageFiles.SavePng(colours, MaskPath);
        var dataset = new SegmentationFolderDataset(Images, Masks, SegmentationFolderDataset.VocClasses, SegmentationFolderDataset.VocPalette());
        var error = Assert.Throws<InvalidDataException>(() => dataset[0]);
        Assert.Contains(MaskPath, error.Message);
        Assert.Contains("pixel (x 3, y 2) has the colour (255, 0, 0), which is not in the palette", error.Message);

        var grey = new SegmentationFolderDataset(Images, Masks, ["background", "cat"]);
        Assert.Contains("an index mask is grey", Assert.Throws<InvalidDataException>(() => grey[0]).Message);
    }

    [Fact]
    public void AMaskOfAnotherSizeIsNamed()
    {
        WriteIndexMask(0, 1, height: 5);
        var error = Assert.Throws<InvalidDataException>(() => new SegmentationFolderDataset(Images, Masks, ["background", "cat"])[0]);
        Assert.Contains(MaskPath, error.Message);
        Assert.Contains("8×5 (width×height) but its picture is 8×6", error.Message);
    }

    [Fact]
    public void AMaskWithoutAPictureIsNamed()
    {
        WriteIndexMask(0, 1);
        File.Copy(MaskPath, Path.Combine(Masks, "lost.png"));
        var error = Assert.Throws<FileNotFoundException>(() => new SegmentationFolderDataset(Images, Masks, ["background", "cat"]));
        Assert.Contains("lost.png", error.Message);
        Assert.Contains("no picture 'lost.*'", error.Message);
    }
}
