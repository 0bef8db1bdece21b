using System.Text.Json;
using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Vision.Tests.Data;

/// <summary>A small detection set (the preset with few scenes) written once.</summary>
public sealed class FashionScenesDetectionFixture : IDisposable
{
    public FashionScenesOptions Options { get; } = FashionScenesOptions.Detection with { TrainScenes = 12, TestScenes = 8 };
    public Dataset Train { get; } = IdxDatasets.FashionMnist(train: true);
    public Dataset Test { get; } = IdxDatasets.FashionMnist(train: false);
    public string Root { get; } = Directory.CreateTempSubdirectory("convkit-scenes-detection-").FullName;
    public string Written => Path.Combine(Root, "a");

    public FashionScenesDetectionFixture() => FashionScenes.WriteDetection(Written, Options);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class FashionScenesDetectionTests(FashionScenesDetectionFixture fixture) : IClassFixture<FashionScenesDetectionFixture>
{
    FashionScenesOptions Options => fixture.Options;

    [Fact]
    public void ThePresetIsTheDetectionContractAndValidates()
    {
        var preset = FashionScenesOptions.Detection;
        Assert.Equal((128, 1, 6, 1.0, 2.5, 0.3, 6000, 1000, 2026),
            (preset.CanvasSize, preset.MinItems, preset.MaxItems, preset.MinScale, preset.MaxScale, preset.MaxOverlap, preset.TrainScenes, preset.TestScenes, preset.Seed));
        FashionScenes.Validate(preset); // the largest item, round(28·2.5) = 70 pixels, fits the 128 canvas
        Assert.Throws<ArgumentOutOfRangeException>(() => FashionScenes.Validate(preset with { CanvasSize = 69 }));
    }

    [Fact]
    public void TheWrittenSetReadsBackThroughCocoAsTheScenesBoxes()
    {
        Assert.Equal(IdxDatasets.FashionMnistClasses, File.ReadAllLines(Path.Combine(fixture.Written, "classes.txt")));
        foreach (var (train, split, count) in new[] { (true, "train", Options.TrainScenes), (false, "test", Options.TestScenes) })
        {
            var read = new CocoDetectionDataset(Path.Combine(fixture.Written, split, "images"), Path.Combine(fixture.Written, split, "annotations.json"), channels: 1);
            Assert.Equal(count, read.Count);
            Assert.Equal(IdxDatasets.FashionMnistClasses, read.Classes);
            Assert.Equal(Enumerable.Range(1, 10).Select(id => (long)id), read.CategoryIds);
            for (int i = 0; i < count; i++)
            {
                Assert.Equal($"{i:D5}.png", Path.GetFileName(read.PathOf(i)));
                var scene = FashionScenes.Make(train ? fixture.Train : fixture.Test, Options, train, i);
                var sample = read[i];
                Assert.InRange(scene.Items.Count, Options.MinItems, Options.MaxItems);
                Assert.Equal([1, 128, 128], sample.Image.Shape);
                Assert.Equal(Bytes(scene.Picture), Bytes(sample.Image)); // whole multiples of 1/255 survive the PNG
                var expected = scene.Boxes();
                var actual = sample.Boxes!.ConvertTo(BoxFormat.Xyxy);
                Assert.Equal(expected.Labels.ToArray(), actual.Labels.ToArray());
                Assert.Equal(expected.Coordinates.ToArray(), actual.Coordinates.ToArray());
                Assert.Equal((128, 128), (actual.CanvasHeight, actual.CanvasWidth));
            }
        }
    }

    [Fact]
    public void TheAnnotationsAreCocoInstances()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Written, "test", "annotations.json")));
        var root = document.RootElement;
        Assert.Equal(Enumerable.Range(1, 10), root.GetProperty("categories").EnumerateArray().Select(c => c.GetProperty("id").GetInt32()));
        Assert.Equal("Ankle boot", root.GetProperty("categories")[9].GetProperty("name").GetString());
        var images = root.GetProperty("images").EnumerateArray().ToArray();
        Assert.Equal(Options.TestScenes, images.Length);
        Assert.Equal((1, "00000.png", 128, 128), (images[0].GetProperty("id").GetInt32(), images[0].GetProperty("file_name").GetString(),
            images[0].GetProperty("width").GetInt32(), images[0].GetProperty("height").GetInt32()));
        var annotations = root.GetProperty("annotations").EnumerateArray().ToArray();
        var scenes = Enumerable.Range(0, Options.TestScenes).Select(i => FashionScenes.Make(fixture.Test, Options, false, i)).ToArray();
        var items = scenes.SelectMany((scene, i) => scene.Items.Select(item => (Image: i + 1, item))).ToArray();
        Assert.Equal(items.Length, annotations.Length);
        for (int k = 0; k < annotations.Length; k++)
        {
            var a = annotations[k];
            var (image, item) = items[k];
            var (x1, y1, x2, y2) = item.Box;
            Assert.Equal(k + 1, a.GetProperty("id").GetInt32());
            Assert.Equal(image, a.GetProperty("image_id").GetInt32());
            Assert.Equal(item.Class + 1, a.GetProperty("category_id").GetInt32());
            Assert.Equal([x1, y1, x2 - x1, y2 - y1], a.GetProperty("bbox").EnumerateArray().Select(v => v.GetInt32()));
            Assert.Equal((x2 - x1) * (y2 - y1), a.GetProperty("area").GetInt32());
            Assert.Equal(0, a.GetProperty("iscrowd").GetInt32());
        }
    }

    [Fact]
    public void TestScenesShowTestPicturesOnly()
    {
        int checkedItems = 0;
        for (int i = 0; i < Options.TestScenes; i++)
        {
            var scene = FashionScenes.Make(fixture.Test, Options, false, i);
            var picture = scene.Picture.ToArray();
            // The top item is wholly visible: its silhouette shows the test picture of its SourceIndex, not the training one.
            var top = scene.Items[^1];
            Assert.Equal(fixture.Test.Label(top.SourceIndex), top.Class);
            var fromTest = Resized(fixture.Test, top);
            var fromTrain = Resized(fixture.Train, top);
            var (x0, y0, w, h) = top.Placement;
            bool differsFromTrain = false;
            for (int p = 0; p < w * h; p++)
            {
                if (fromTest[p] <= FashionScenes.SilhouetteThreshold) continue;
                float shown = picture[(y0 + p / w) * 128 + x0 + p % w];
                Assert.Equal(fromTest[p], shown, 1e-6f);
                differsFromTrain |= MathF.Abs(fromTrain[p] - shown) > 1e-6f;
            }
            Assert.True(differsFromTrain, $"test scene {i}: the training picture {top.SourceIndex} would look the same");
            checkedItems++;
        }
        Assert.Equal(Options.TestScenes, checkedItems);
    }

    [Fact]
    public void WritingTwiceGivesIdenticalBytes()
    {
        string again = Path.Combine(fixture.Root, "b");
        FashionScenes.WriteDetection(again, Options);
        var files = Directory.GetFiles(fixture.Written, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fixture.Written, f)).Order().ToArray();
        Assert.Equal(files, Directory.GetFiles(again, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(again, f)).Order());
        Assert.Equal(Options.TrainScenes + Options.TestScenes + 3, files.Length); // pictures, two annotations.json, classes.txt
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(fixture.Written, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))), file);
    }

    [Fact]
    public void AnInterruptedWriteLeavesNoClassesFileAndNoAnnotationsForUnfinishedSplits()
    {
        string directory = Path.Combine(fixture.Root, "interrupted");
        FashionScenes.WriteDetection(directory, Options);
        Assert.True(File.Exists(Path.Combine(directory, "classes.txt")));
        // A file where the test split's folder goes makes the rewrite fail after the training split.
        Directory.Delete(Path.Combine(directory, "test"), recursive: true);
        File.WriteAllText(Path.Combine(directory, "test"), "in the way");
        Assert.ThrowsAny<IOException>(() => FashionScenes.WriteDetection(directory, Options with { Seed = 9 }));
        Assert.False(File.Exists(Path.Combine(directory, "classes.txt")));
        Assert.Empty(Directory.GetFiles(directory, "*.partial", SearchOption.AllDirectories));
        var train = new CocoDetectionDataset(Path.Combine(directory, "train", "images"), Path.Combine(directory, "train", "annotations.json"), channels: 1);
        Assert.Equal(FashionScenes.Make(fixture.Train, Options with { Seed = 9 }, true, 3).Boxes().Coordinates.ToArray(),
            train[3].Boxes!.ConvertTo(BoxFormat.Xyxy).Coordinates.ToArray());
    }

    static byte[] Bytes(Tensor picture) => Array.ConvertAll(picture.ToArray(), v => (byte)MathF.Round(v * 255));

    static float[] Resized(Dataset source, SceneItem item)
    {
        var floats = new float[28 * 28];
        source.ReadImage(item.SourceIndex, floats);
        var bytes = floats.Select(v => (byte)MathF.Round(v * 255)).ToArray();
        return FashionScenes.ResizeBilinear(bytes, 28, 28, item.Placement.Height, item.Placement.Width).Select(v => v / 255f).ToArray();
    }
}
