using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Tests.Data;

public sealed class YoloDetectionDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-yolo-").FullName;
    string Images => Path.Combine(root, "images");
    string Labels => Path.Combine(root, "labels");
    string LabelPath => Path.Combine(Labels, "a.txt");

    public YoloDetectionDatasetTests()
    {
        Directory.CreateDirectory(Images);
        Directory.CreateDirectory(Labels);
        ImageFiles.SavePng(Tensor.Zeros(3, 48, 64), Path.Combine(Images, "a.png"));
        ImageFiles.SavePng(Tensor.Zeros(3, 20, 20), Path.Combine(Images, "b.png"));
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    YoloDetectionDataset Load(string secondLine)
    {
        File.WriteAllText(LabelPath, $"0 0.5 0.5 0.25 0.5\n{secondLine}\n\n");
        return new YoloDetectionDataset(Images, Labels, ["cat", "dog"]);
    }

    [Fact]
    public void AGoodFileLoadsAndAPictureWithoutLabelsHasNoBoxes()
    {
        var dataset = Load("1 0.1 0.2 0.2 0.4");
        Assert.Equal(2, dataset.Count);
        var boxes = dataset[0].Boxes!;
        Assert.Equal((BoxFormat.Cxcywh, true, 48, 64), (boxes.Format, boxes.Relative, boxes.CanvasHeight, boxes.CanvasWidth));
        Assert.Equal([0.1f, 0.2f, 0.2f, 0.4f], boxes[1].ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(0, dataset[1].Boxes!.Count);
        Assert.Equal((20, 20), (dataset[1].Boxes!.CanvasHeight, dataset[1].Boxes!.CanvasWidth));
    }

    [Theory]
    [InlineData("1 0.5 0.5 0.2", "expected 5 fields 'class cx cy w h', found 4")]
    [InlineData("1 0.5 0.5 0.2 0.2 0.7", "expected 5 fields 'class cx cy w h', found 6")]
    [InlineData("1 0.5 abc 0.2 0.2", "cy 'abc' is not a number")]
    [InlineData("cat 0.5 0.5 0.2 0.2", "the class 'cat' is not a whole number")]
    [InlineData("2 0.5 0.5 0.2 0.2", "unknown class 2 (there are 2 classes")]
    [InlineData("1 0.95 0.5 0.2 0.2", "reaches outside the 64×48")]
    [InlineData("1 0.5 0.5 0 0.2", "zero or negative width")]
    [InlineData("1 0.5 0.5 0.2 -0.1", "zero or negative height")]
    public void BadLinesNameTheFileAndTheLine(string line, string problem)
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(line));
        Assert.Contains(LabelPath, error.Message);
        Assert.Contains("line 2", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void ALabelFileWithoutAPictureIsNamed()
    {
        File.WriteAllText(Path.Combine(Labels, "classes.txt"), "cat\ndog\n"); // the names file may sit beside the labels
        File.WriteAllText(Path.Combine(Labels, "c.txt"), "0 0.5 0.5 0.1 0.1\n");
        var error = Assert.Throws<FileNotFoundException>(() => new YoloDetectionDataset(Images, Labels, Path.Combine(Labels, "classes.txt")));
        Assert.Contains(Path.Combine(Labels, "c.txt"), error.Message);
        Assert.Contains("no picture 'c.*'", error.Message);
    }

    [Fact]
    public void ClassesComeFromANamesFile()
    {
        string names = Path.Combine(root, "obj.names");
        File.WriteAllText(names, "cat\n\ndog\n");
        Assert.Equal(["cat", "dog"], new YoloDetectionDataset(Images, Labels, names).Classes);
    }
}
