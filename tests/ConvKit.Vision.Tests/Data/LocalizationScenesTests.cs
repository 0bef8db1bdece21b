using ConvKit.Data;
using ConvKit.Vision.Data;

namespace ConvKit.Vision.Tests.Data;

/// <summary>Single-item scenes from Fashion-MNIST (as installed): deterministic, about one in ten empty, tight boxes, split by source.</summary>
public class LocalizationScenesTests
{
    static readonly Dataset TrainPictures = IdxDatasets.FashionMnist(train: true);
    static readonly Dataset TestPictures = IdxDatasets.FashionMnist(train: false);

    [Fact]
    public void ScenesHoldOneItemWithATightBoxOrNothing()
    {
        var scenes = new LocalizationScenes(TrainPictures, train: true, count: 200);
        Assert.Equal([1, 64, 64], scenes.SampleShape);
        Assert.Equal(IdxDatasets.FashionMnistClasses, scenes.Classes);
        int empty = 0;
        var classes = new HashSet<int>();
        for (int i = 0; i < scenes.Count; i++)
        {
            var sample = scenes[i];
            var pixels = sample.Image.ToArray();
            var boxes = sample.Boxes!;
            Assert.Equal((64, 64, BoxFormat.Xyxy), (boxes.CanvasHeight, boxes.CanvasWidth, boxes.Format));
            Assert.Equal(scenes.IsEmpty(i), boxes.Count == 0);
            if (boxes.Count == 0)
            {
                empty++;
                Assert.All(pixels, p => Assert.Equal(0f, p));
                continue;
            }
            Assert.Equal(1, boxes.Count);
            classes.Add(boxes.Labels[0]);
            // Tight: every pixel above the silhouette threshold lies inside, and each edge of the box touches one.
            var (x1, y1, x2, y2) = ((int)boxes[0][0], (int)boxes[0][1], (int)boxes[0][2], (int)boxes[0][3]);
            int minX = 64, minY = 64, maxX = 0, maxY = 0;
            for (int p = 0; p < pixels.Length; p++)
                if (pixels[p] > FashionScenes.SilhouetteThreshold)
                    (minX, minY, maxX, maxY) = (Math.Min(minX, p % 64), Math.Min(minY, p / 64), Math.Max(maxX, p % 64 + 1), Math.Max(maxY, p / 64 + 1));
            Assert.Equal((minX, minY, maxX, maxY), (x1, y1, x2, y2));
            Assert.InRange(Math.Max(x2 - x1, y2 - y1), 10, 49); // at most round(28·1.75) pixels a side
        }
        Assert.InRange(empty, 8, 35);   // about 10% of 200
        Assert.True(classes.Count >= 9, $"the items should cover the classes, got {string.Join(", ", classes)}");
    }

    [Fact]
    public void AboutOneSceneInTenIsEmpty()
    {
        var scenes = new LocalizationScenes(TrainPictures, train: true, count: 5000);
        int empty = Enumerable.Range(0, scenes.Count).Count(scenes.IsEmpty);
        Assert.InRange(empty, 420, 580);
        Assert.Equal(0, Enumerable.Range(0, 300).Count(new LocalizationScenes(TrainPictures, true, 300, new() { EmptyFraction = 0 }).IsEmpty));
    }

    [Fact]
    public void ScenesArePureFunctionsOfSeedSplitAndIndex()
    {
        var a = new LocalizationScenes(TrainPictures, train: true, count: 30);
        var b = new LocalizationScenes(TrainPictures, train: true, count: 30);
        foreach (int i in new[] { 29, 3, 17, 3 })
        {
            Assert.Equal(a[i].Image.ToArray(), b[i].Image.ToArray());
            Assert.Equal(a[i].Boxes!.Coordinates.ToArray(), b[i].Boxes!.Coordinates.ToArray());
        }
        // Another seed, or the test split, gives other scenes.
        var reseeded = new LocalizationScenes(TrainPictures, train: true, count: 30, new() { Seed = 1 });
        var test = new LocalizationScenes(TestPictures, train: false, count: 30);
        Assert.Contains(Enumerable.Range(0, 30), i => !a[i].Image.ToArray().SequenceEqual(reseeded[i].Image.ToArray()));
        Assert.Contains(Enumerable.Range(0, 30), i => !a[i].Image.ToArray().SequenceEqual(test[i].Image.ToArray()));
        var (train, held) = LocalizationScenes.FashionMnist(10, 5);
        Assert.Equal((true, 10, false, 5), (train.Train, train.Count, held.Train, held.Count));
        Assert.Equal(a[7].Image.ToArray(), train[7].Image.ToArray());
    }

    [Fact]
    public void BadSourcesAndOptionsAreClearErrors()
    {
        var colour = new ImageFolderLike();
        Assert.Contains("LocalizationScenes: the source must hold grey pictures (1, H, W), not 3 of shape (3, 28, 28)",
            Assert.Throws<ArgumentException>(() => new LocalizationScenes(colour, true, 10)).Message);
        Assert.Contains("EmptyFraction must be in [0, 1], not 1.5",
            Assert.Throws<ArgumentOutOfRangeException>(() => new LocalizationScenes(TrainPictures, true, 10, new() { EmptyFraction = 1.5 })).Message);
        Assert.Contains("CanvasSize must hold the largest item, round(28·MaxScale) = 56 pixels",
            Assert.Throws<ArgumentOutOfRangeException>(() => new LocalizationScenes(TrainPictures, true, 10, new() { CanvasSize = 48, MaxScale = 2 })).Message);
        Assert.Contains("index 10 is out of range for 10 samples",
            Assert.Throws<ArgumentOutOfRangeException>(() => new LocalizationScenes(TrainPictures, true, 10).GetSample(10)).Message);
    }

    /// <summary>Three colour pictures: not a source of grey items.</summary>
    sealed class ImageFolderLike : Dataset
    {
        public override int Count => 3;
        public override IReadOnlyList<int> SampleShape => [3, 28, 28];
        public override IReadOnlyList<string> Classes => ["a"];
        public override int Label(int index) => 0;
        public override void ReadImage(int index, Span<float> destination) => destination[..SampleLength].Clear();
    }
}
