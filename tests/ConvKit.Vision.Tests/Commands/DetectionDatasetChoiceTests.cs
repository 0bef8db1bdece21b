using ConvKit.Cli.Commands;
using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Tests.Data;

namespace ConvKit.Vision.Tests.Commands;

/// <summary>
/// The detection dataset names of the command line, read from the committed annotated fixture (four pictures annotated
/// alike in COCO, VOC and YOLO) laid out in each form's folders.
/// </summary>
public sealed class DetectionDatasetChoiceTests : IDisposable
{
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "annotated");
    static readonly string[] Pictures = ["a", "b", "c", "d"];
    readonly string root = Directory.CreateTempSubdirectory("convkit-detection-datasets-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    string PathOf(params string[] parts) => Path.Combine([root, .. parts]);

    /// <summary>Copies the fixture's pictures <paramref name="names"/> into <paramref name="folder"/> (and the files alongside, by extension).</summary>
    static void Copy(string from, string folder, IEnumerable<string> names, string extension)
    {
        Directory.CreateDirectory(folder);
        foreach (string name in names) File.Copy(Path.Combine(from, name + extension), Path.Combine(folder, name + extension));
    }

    /// <summary>Sample i of <paramref name="actual"/> has the boxes (labels, xyxy pixels) of the fixture's picture <paramref name="pictures"/>[i].</summary>
    static void AssertPictures(Dataset actual, params int[] pictures)
    {
        var reference = AnnotatedFixtureTests.Coco();
        Assert.Equal(reference.Classes, actual.Classes);
        Assert.Equal(pictures.Length, actual.Count);
        for (int i = 0; i < pictures.Length; i++)
        {
            var expected = reference[pictures[i]].Boxes!.ConvertTo(BoxFormat.Xyxy, relative: false);
            var boxes = actual[i].Boxes!.ConvertTo(BoxFormat.Xyxy, relative: false);
            Assert.Equal(expected.Labels.ToArray(), boxes.Labels.ToArray());
            Assert.Equal(expected.Coordinates.ToArray(), boxes.Coordinates.ToArray(), (x, y) => Math.Abs(x - y) < 1e-3);
        }
    }

    [Fact]
    public void CocoDirReadsTrainAndTestFolders()
    {
        foreach (string split in new[] { "train", "test" })
        {
            Copy(Path.Combine(Fixture, "images"), PathOf("coco", split, "images"), Pictures, ".png");
            File.Copy(Path.Combine(Fixture, "coco", "instances.json"), PathOf("coco", split, "annotations.json"));
        }
        var choice = DetectionDatasetChoice.Load("coco:" + PathOf("coco"), null, channels: 3);
        AssertPictures(choice.Train, 0, 1, 2, 3);
        AssertPictures(choice.Test!, 0, 1, 2, 3);
        Assert.Equal([3, 48, 64], choice.Train[0].Image.Shape);
        Assert.Equal(1, DetectionDatasetChoice.Load("coco:" + PathOf("coco"), null, channels: 1).Train[0].Image.Shape[0]);

        Directory.Delete(PathOf("coco", "test"), recursive: true);
        Assert.Null(DetectionDatasetChoice.Load("coco:" + PathOf("coco"), null, channels: 3).Test);
    }

    [Fact]
    public void CocoPathsNameATrainingSetOrBoth()
    {
        string images = Path.Combine(Fixture, "images"), json = Path.Combine(Fixture, "coco", "instances.json");
        var alone = DetectionDatasetChoice.Load($"coco:{images},{json}", null, channels: 3);
        AssertPictures(alone.Train, 0, 1, 2, 3);
        Assert.Null(alone.Test);
        var both = DetectionDatasetChoice.Load($"coco:{images},{json},{images},{json}", null, channels: 3);
        AssertPictures(both.Test!, 0, 1, 2, 3);
        Assert.Contains("3 paths", Assert.Throws<ArgumentException>(() => DetectionDatasetChoice.Load($"coco:{images},{json},{images}", null, 3)).Message);
    }

    [Fact]
    public void VocDirSplitsByItsImageSets()
    {
        string voc = PathOf("voc");
        Copy(Path.Combine(Fixture, "images"), Path.Combine(voc, "JPEGImages"), Pictures, ".png");
        Copy(Path.Combine(Fixture, "voc"), Path.Combine(voc, "Annotations"), Pictures, ".xml");
        File.WriteAllLines(Path.Combine(voc, "classes.txt"), ["cat", "dog", "bird"]);

        var everything = DetectionDatasetChoice.Load("voc:" + voc, null, channels: 3);
        AssertPictures(everything.Train, 0, 1, 2, 3);
        Assert.Null(everything.Test);

        Directory.CreateDirectory(Path.Combine(voc, "ImageSets", "Main"));
        File.WriteAllLines(Path.Combine(voc, "ImageSets", "Main", "train.txt"), ["c", "a"]);
        File.WriteAllLines(Path.Combine(voc, "ImageSets", "Main", "val.txt"), ["b"]);
        var split = DetectionDatasetChoice.Load("voc:" + voc, null, channels: 3);
        AssertPictures(split.Train, 2, 0);
        AssertPictures(split.Test!, 1);

        // Without classes.txt the names are VOC's twenty, and cat, dog and bird index into them.
        File.Delete(Path.Combine(voc, "classes.txt"));
        var twenty = DetectionDatasetChoice.Load("voc:" + voc, null, channels: 3);
        Assert.Equal(VocDetectionDataset.VocClasses, twenty.Train.Classes);
        Assert.Equal(["cat", "dog"], twenty.Train[1].Boxes!.Labels.ToArray().Select(label => twenty.Train.Classes[label]));
        Assert.Equal([7, 11], twenty.Train[1].Boxes!.Labels.ToArray());
    }

    [Fact]
    public void YoloDirReadsOneFolderOrTrainAndTest()
    {
        string yolo = PathOf("yolo");
        Copy(Path.Combine(Fixture, "images"), Path.Combine(yolo, "images"), Pictures, ".png");
        Copy(Path.Combine(Fixture, "yolo"), Path.Combine(yolo, "labels"), ["a", "b", "c"], ".txt");
        File.Copy(Path.Combine(Fixture, "yolo", "classes.txt"), Path.Combine(yolo, "classes.txt"));
        var flat = DetectionDatasetChoice.Load("yolo:" + yolo, null, channels: 3);
        AssertPictures(flat.Train, 0, 1, 2, 3);
        Assert.Null(flat.Test);

        string split = PathOf("yolo-split");
        Copy(Path.Combine(Fixture, "images"), Path.Combine(split, "train", "images"), ["a", "b"], ".png");
        Copy(Path.Combine(Fixture, "yolo"), Path.Combine(split, "train", "labels"), ["a", "b"], ".txt");
        Copy(Path.Combine(Fixture, "images"), Path.Combine(split, "test", "images"), ["c"], ".png");
        Copy(Path.Combine(Fixture, "yolo"), Path.Combine(split, "test", "labels"), ["c"], ".txt");
        File.Copy(Path.Combine(Fixture, "yolo", "classes.txt"), Path.Combine(split, "classes.txt"));
        var both = DetectionDatasetChoice.Load("yolo:" + split, null, channels: 3);
        AssertPictures(both.Train, 0, 1);
        AssertPictures(both.Test!, 2);

        File.Delete(Path.Combine(split, "classes.txt"));
        Assert.Contains("classes.txt", Assert.Throws<FileNotFoundException>(() => DetectionDatasetChoice.Load("yolo:" + split, null, 3)).Message);
    }

    [Fact]
    public void FashionScenesAlreadyMadeInDataIsReadNotMadeAgain()
    {
        string data = PathOf("scenes");
        var options = FashionScenesOptions.Detection with { TrainScenes = 5, TestScenes = 2 };
        FashionScenes.WriteDetection(data, options);
        var told = new List<string>();
        var choice = DetectionDatasetChoice.Load("fashion-scenes", data, channels: 1, told.Add);
        Assert.Empty(told);
        Assert.Equal((5, 2), (choice.Train.Count, choice.Test!.Count));
        Assert.Equal(IdxDatasets.FashionMnistClasses, choice.Train.Classes);
        var scene = FashionScenes.Make(IdxDatasets.FashionMnist(train: false), options, train: false, 1);
        Assert.Equal(scene.Boxes().Coordinates.ToArray(), choice.Test[1].Boxes!.ConvertTo(BoxFormat.Xyxy).Coordinates.ToArray());
    }

    [Theory]
    [InlineData("pascal:x", "unknown detection dataset 'pascal:x'")]
    [InlineData("mnist", "unknown detection dataset 'mnist'")]
    [InlineData("coco:", "names no folder")]
    [InlineData("coco:/no/such/folder", "/no/such/folder")]
    [InlineData("voc:/no/such/folder", "voc:DIR expects")]
    [InlineData("yolo:/no/such/folder", "yolo:DIR expects")]
    public void BadNamesSayWhatIsWrong(string name, string message)
    {
        var error = Assert.ThrowsAny<Exception>(() => DetectionDatasetChoice.Load(name, null, channels: 3));
        Assert.Contains(message, error.Message);
        Assert.Contains("--channels must be 1 or 3, not 2", Assert.Throws<ArgumentException>(() => DetectionDatasetChoice.Load("coco:x", null, channels: 2)).Message);
    }
}
