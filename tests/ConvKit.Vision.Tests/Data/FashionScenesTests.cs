using ConvKit.Data;
using ConvKit.Ops;
using ConvKit.Vision.Data;

namespace ConvKit.Vision.Tests.Data;

/// <summary>Fashion-MNIST (both splits, as installed) and a small set of scenes written from it once.</summary>
public sealed class FashionScenesFixture : IDisposable
{
    public FashionScenesOptions Options { get; } = new() { TrainScenes = 40, TestScenes = 10, Seed = 7 };
    public Dataset Train { get; } = IdxDatasets.FashionMnist(train: true);
    public Dataset Test { get; } = IdxDatasets.FashionMnist(train: false);
    public string Root { get; } = Directory.CreateTempSubdirectory("convkit-scenes-").FullName;
    public string Written => Path.Combine(Root, "a");

    public FashionScenesFixture() => FashionScenes.WriteSegmentation(Written, Options);

    public Dataset Source(bool train) => train ? Train : Test;

    public IEnumerable<(bool Train, int Index, Scene Scene)> Scenes() =>
        Enumerable.Range(0, Options.TrainScenes).Select(i => (true, i, FashionScenes.Make(Train, Options, true, i)))
            .Concat(Enumerable.Range(0, Options.TestScenes).Select(i => (false, i, FashionScenes.Make(Test, Options, false, i))));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class FashionScenesTests(FashionScenesFixture fixture) : IClassFixture<FashionScenesFixture>
{
    const float Threshold = (float)FashionScenes.SilhouetteThreshold;
    FashionScenesOptions Options => fixture.Options;
    int S => Options.CanvasSize;

    [Fact]
    public void TheWrittenFoldersReadBackAsTheScenesOfMake()
    {
        Assert.Equal(FashionScenes.SegmentationClasses, File.ReadAllLines(Path.Combine(fixture.Written, "classes.txt")));
        Assert.Equal(11, FashionScenes.SegmentationClasses.Count);
        foreach (var (train, split, count) in new[] { (true, "train", Options.TrainScenes), (false, "test", Options.TestScenes) })
        {
            var read = new SegmentationFolderDataset(Path.Combine(fixture.Written, split, "images"), Path.Combine(fixture.Written, split, "masks"),
                FashionScenes.SegmentationClasses, channels: 1);
            Assert.Equal(count, read.Count);
            foreach (string png in new[] { read.PathsOf(0).Image, read.PathsOf(0).Mask })
            {
                var header = File.ReadAllBytes(png);
                Assert.Equal((byte)8, header[24]); // bit depth
                Assert.Equal((byte)0, header[25]); // colour type 0: greyscale
            }
            for (int i = 0; i < count; i++)
            {
                Assert.Equal($"{i:D5}.png", Path.GetFileName(read.PathsOf(i).Mask));
                var scene = FashionScenes.Make(fixture.Source(train), Options, train, i);
                var sample = read[i];
                Assert.Equal([1, S, S], sample.Image.Shape);
                Assert.Equal(scene.Mask.ToArray(), sample.Mask!.ToArray());
                var expected = scene.Picture.ToArray();
                var actual = sample.Image.ToArray();
                for (int p = 0; p < expected.Length; p++) Assert.True(MathF.Abs(expected[p] - actual[p]) <= 1 / 255f + 1e-6f, $"{split} {i} pixel {p}");
            }
        }
    }

    [Fact]
    public void WritingTwiceGivesIdenticalBytesAndAnySceneRegeneratesAlone()
    {
        string again = Path.Combine(fixture.Root, "b");
        FashionScenes.WriteSegmentation(again, Options);
        var files = Directory.GetFiles(fixture.Written, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fixture.Written, f)).Order().ToArray();
        Assert.Equal(files, Directory.GetFiles(again, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(again, f)).Order());
        Assert.Equal(2 * (Options.TrainScenes + Options.TestScenes) + 1, files.Length);
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(fixture.Written, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))), file);

        // Scene 17 alone, then made amid others in another order, is the same scene; another seed or split gives another.
        var alone = FashionScenes.Make(fixture.Train, Options, true, 17);
        var batch = Enumerable.Range(0, 20).Reverse().AsParallel().Select(i => (i, FashionScenes.Make(fixture.Train, Options, true, i))).ToDictionary();
        Assert.Equal(alone.Picture.ToArray(), batch[17].Picture.ToArray());
        Assert.Equal(alone.Mask.ToArray(), batch[17].Mask.ToArray());
        Assert.Equal(alone.Items, batch[17].Items);
        Assert.NotEqual(alone.Mask.ToArray(), FashionScenes.Make(fixture.Train, Options with { Seed = 8 }, true, 17).Mask.ToArray());
        Assert.NotEqual(alone.Items, FashionScenes.Make(fixture.Train, Options, true, 18).Items);
    }

    [Fact]
    public void TheMaskMarksExactlyTheBrightPixelsAndLaterItemsOccludeEarlierOnes()
    {
        foreach (var (train, index, scene) in fixture.Scenes())
        {
            var picture = scene.Picture.ToArray();
            var mask = scene.Mask.ToArray();
            for (int p = 0; p < mask.Length; p++)
            {
                Assert.Equal(picture[p] > Threshold, mask[p] != 0);
                Assert.InRange(mask[p], 0, 10);
            }
            Assert.InRange(scene.Items.Count, 1, Options.MaxItems);
            Assert.All(scene.Items, item => Assert.Contains(1f + item.Class, mask));
            // The last item lies on top: all of its silhouette carries its class and its own pixels.
            var last = scene.Items[^1];
            var pixels = Resized(fixture.Source(train), last);
            var (x0, y0, w, h) = last.Placement;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    if (pixels[y * w + x] > Threshold)
                    {
                        Assert.Equal(1f + last.Class, mask[(y0 + y) * S + x0 + x]);
                        Assert.Equal(pixels[y * w + x], picture[(y0 + y) * S + x0 + x], 1e-6f);
                    }
        }
    }

    [Fact]
    public void ItemsComeFromTheirOwnSplitAndShowTheirPicturesWhereVisible()
    {
        int fromPastTheTestSplit = 0;
        foreach (var (train, index, scene) in fixture.Scenes())
        {
            var source = fixture.Source(train);
            var picture = scene.Picture.ToArray();
            foreach (var (item, visible) in scene.Items.Zip(VisiblePixels(scene, source)))
            {
                Assert.InRange(item.SourceIndex, 0, source.Count - 1);
                Assert.Equal(source.Label(item.SourceIndex), item.Class);
                if (item.SourceIndex >= fixture.Test.Count) fromPastTheTestSplit++;
                var pixels = Resized(source, item);
                var (x0, y0, w, _) = item.Placement;
                Assert.InRange(w, (int)Math.Round(28 * Options.MinScale), (int)Math.Round(28 * Options.MaxScale));
                foreach (var (x, y) in visible) Assert.Equal(pixels[(y - y0) * w + x - x0], picture[y * S + x], 1e-6f);
            }
        }
        Assert.True(fromPastTheTestSplit > 0, "training scenes should use training pictures beyond the first 10,000");
    }

    [Fact]
    public void BoxesAreTightAroundTheVisiblePixelsAndKeepTheOverlapLimit()
    {
        int items = 0, belowMinItems = 0;
        foreach (var (train, index, scene) in fixture.Scenes())
        {
            var source = fixture.Source(train);
            var mask = scene.Mask.ToArray();
            var visibles = VisiblePixels(scene, source);
            var placedBoxes = new List<(int X1, int Y1, int X2, int Y2)>();
            for (int k = 0; k < scene.Items.Count; k++)
            {
                var item = scene.Items[k];
                var visible = visibles[k];
                Assert.True(visible.Count >= FashionScenes.MinVisiblePixels, $"item {k} of scene {index} shows {visible.Count} pixels");
                Assert.Equal(Tight(visible), item.Box);
                Assert.All(visible, p => Assert.Equal(1f + item.Class, mask[p.Y * S + p.X]));
                Assert.InRange(item.Box.X1, 0, S - 1);
                Assert.InRange(item.Box.Y1, 0, S - 1);
                Assert.InRange(item.Box.X2, item.Box.X1 + 1, S);
                Assert.InRange(item.Box.Y2, item.Box.Y1 + 1, S);

                // The overlap rule, on the boxes of the whole silhouettes where they were placed.
                var box = Tight(Silhouette(source, item));
                int covered = 0;
                for (int y = box.Y1; y < box.Y2; y++)
                    for (int x = box.X1; x < box.X2; x++)
                        if (placedBoxes.Any(b => x >= b.X1 && x < b.X2 && y >= b.Y1 && y < b.Y2)) covered++;
                Assert.True(covered <= Options.MaxOverlap * (box.X2 - box.X1) * (box.Y2 - box.Y1), $"item {k} of scene {index}: {covered} pixels overlap");
                placedBoxes.Add(box);
            }
            // Each class region of the mask is the union of its items' visible pixels.
            for (int c = 1; c <= 10; c++)
            {
                var region = Enumerable.Range(0, mask.Length).Where(p => mask[p] == c).Select(p => (p % S, p / S)).Order();
                var ofItems = scene.Items.Select((item, k) => (item, k)).Where(t => t.item.Class == c - 1).SelectMany(t => visibles[t.k]).Order();
                Assert.Equal(region, ofItems);
            }
            var boxes = scene.Boxes();
            Assert.Equal(scene.Items.Count, boxes.Count);
            Assert.Equal(scene.Items.Select(item => item.Class), boxes.Labels.ToArray());
            items += scene.Items.Count;
            if (scene.Items.Count < Options.MinItems) belowMinItems++;
        }
        Assert.True(belowMinItems <= 5, $"{belowMinItems} of 50 scenes hold fewer than MinItems items");
        Assert.True(items >= 2 * 50, $"{items} items in 50 scenes");
    }

    [Fact]
    public void TheResizeIsTorchsBilinearInterpolation()
    {
        var original = new byte[28 * 28];
        var floats = new float[28 * 28];
        fixture.Train.ReadImage(3, floats);
        for (int i = 0; i < floats.Length; i++) original[i] = (byte)MathF.Round(floats[i] * 255);
        foreach (int side in new[] { 21, 28, 33, 42 })
        {
            var mine = FashionScenes.ResizeBilinear(original, 28, 28, side, side);
            Tensor reference;
            using (Tensor.NoGrad())
                reference = F.Upsample(Tensor.FromArray(original.Select(v => (float)v).ToArray(), 1, 1, 28, 28), new Size2(side, side), mode: UpsampleMode.Bilinear);
            var expected = reference.ToArray();
            for (int i = 0; i < mine.Length; i++) Assert.True(Math.Abs(mine[i] - expected[i]) <= 0.5f + 1e-3f, $"side {side} pixel {i}: {mine[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(nameof(FashionScenesOptions.MaxItems))]
    [InlineData(nameof(FashionScenesOptions.CanvasSize))]
    [InlineData(nameof(FashionScenesOptions.MinScale))]
    [InlineData(nameof(FashionScenesOptions.MaxScale))]
    [InlineData(nameof(FashionScenesOptions.MinItems))]
    [InlineData(nameof(FashionScenesOptions.MaxOverlap))]
    [InlineData(nameof(FashionScenesOptions.TrainScenes))]
    [InlineData(nameof(FashionScenesOptions.TestScenes))]
    public void BadOptionsNameTheOption(string option)
    {
        var bad = option switch
        {
            nameof(FashionScenesOptions.MaxItems) => Options with { MinItems = 3, MaxItems = 2 },
            nameof(FashionScenesOptions.CanvasSize) => Options with { CanvasSize = 40 }, // round(28·1.5) = 42
            nameof(FashionScenesOptions.MinScale) => Options with { MinScale = 0 },
            nameof(FashionScenesOptions.MaxScale) => Options with { MinScale = 1, MaxScale = 0.9 },
            nameof(FashionScenesOptions.MinItems) => Options with { MinItems = 0 },
            nameof(FashionScenesOptions.MaxOverlap) => Options with { MaxOverlap = -0.1 },
            nameof(FashionScenesOptions.TrainScenes) => Options with { TrainScenes = -1 },
            _ => Options with { TestScenes = -5 },
        };
        string directory = Path.Combine(fixture.Root, "bad-" + option);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => FashionScenes.WriteSegmentation(directory, bad));
        Assert.Equal(option, error.ParamName);
        Assert.Contains($"FashionScenesOptions.{option}", error.Message);
        Assert.False(Directory.Exists(directory));
        Assert.Equal(option, Assert.Throws<ArgumentOutOfRangeException>(() => FashionScenes.Make(fixture.Train, bad, true, 0)).ParamName);
    }

    /// <summary>The item's resized picture, (Height, Width) values in [0, 1], as <c>F.Upsample</c> would make it, rounded to bytes.</summary>
    static float[] Resized(Dataset source, SceneItem item)
    {
        var floats = new float[28 * 28];
        source.ReadImage(item.SourceIndex, floats);
        var bytes = floats.Select(v => (byte)MathF.Round(v * 255)).ToArray();
        return FashionScenes.ResizeBilinear(bytes, 28, 28, item.Placement.Height, item.Placement.Width).Select(v => v / 255f).ToArray();
    }

    /// <summary>Canvas pixels of the item's silhouette where it was placed.</summary>
    static List<(int X, int Y)> Silhouette(Dataset source, SceneItem item)
    {
        var pixels = Resized(source, item);
        var (x0, y0, w, h) = item.Placement;
        return [.. Enumerable.Range(0, w * h).Where(i => pixels[i] > Threshold).Select(i => (x0 + i % w, y0 + i / w))];
    }

    /// <summary>Each item's silhouette pixels that no later item's silhouette covers.</summary>
    static List<List<(int X, int Y)>> VisiblePixels(Scene scene, Dataset source)
    {
        var silhouettes = scene.Items.Select(item => Silhouette(source, item)).ToList();
        var sets = silhouettes.Select(pixels => pixels.ToHashSet()).ToList();
        return [.. silhouettes.Select((own, k) => own.Where(p => !sets.Skip(k + 1).Any(later => later.Contains(p))).ToList())];
    }

    static (int X1, int Y1, int X2, int Y2) Tight(List<(int X, int Y)> pixels) =>
        (pixels.Min(p => p.X), pixels.Min(p => p.Y), pixels.Max(p => p.X) + 1, pixels.Max(p => p.Y) + 1);
}

[Collection(nameof(ProcessWideSettings))]
public sealed class FashionScenesMissingDatasetTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("convkit-scenes-missing-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void AMissingFashionMnistGivesIdxDatasetsMessage()
    {
        // The standard place is moved to an empty folder, so the test does not depend on what this machine has installed.
        string standard = Path.Combine(root, "standard"), mine = Path.Combine(root, "mine");
        Directory.CreateDirectory(mine); // an existing folder without the files: a folder that is not there is a different error
        Environment.SetEnvironmentVariable("CONVKIT_DATASETS", standard);
        try
        {
            var error = Assert.Throws<FileNotFoundException>(() =>
                FashionScenes.WriteSegmentation(Path.Combine(root, "out"), new FashionScenesOptions { TrainScenes = 2, TestScenes = 1 }, mine));
            var direct = Assert.Throws<FileNotFoundException>(() => IdxDatasets.FashionMnist(true, mine));
            Assert.Equal(direct.Message, error.Message);
            Assert.Contains("Fashion-MNIST not found", error.Message);
            Assert.Contains(mine, error.Message);
            Assert.Contains(Path.Combine(standard, "fashion-mnist"), error.Message);
            Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
            Assert.False(Directory.Exists(Path.Combine(root, "out")));
        }
        finally { Environment.SetEnvironmentVariable("CONVKIT_DATASETS", null); }
    }
}
