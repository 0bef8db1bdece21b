using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Vision.Data;

namespace ConvKit.Vision.Tests.Data;

/// <summary>
/// The committed set in Fixtures/annotated (written by its make_annotated.py): four pictures whose objects are filled
/// rectangles, annotated alike in COCO JSON, Pascal VOC XML and YOLO txt, and masks of two of them.
/// </summary>
public class AnnotatedFixtureTests
{
    static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "annotated");
    static readonly string Images = Path.Combine(Root, "images");
    static readonly string[] Classes = ["cat", "dog", "bird"];

    /// <summary>Per picture (file, height, width) and its objects (class, x1, y1, x2, y2 in pixels), as the script draws them.</summary>
    static readonly (string File, int Height, int Width, (int Label, float X1, float Y1, float X2, float Y2)[] Objects)[] Expected =
    [
        ("a.png", 48, 64, [(0, 4, 6, 24, 20), (1, 36, 20, 58, 44)]),
        ("b.png", 64, 48, [(2, 10, 3, 19, 12), (0, 0, 30, 48, 64)]),
        ("c.png", 48, 64, [(1, 50, 0, 64, 48), (2, 20, 20, 21, 21), (1, 5, 30, 15, 40)]),
        ("d.png", 40, 40, []),
    ];

    internal static CocoDetectionDataset Coco() => new(Images, Path.Combine(Root, "coco", "instances.json"));
    internal static VocDetectionDataset Voc(bool includeDifficult = true) => new(Images, Path.Combine(Root, "voc"), Classes, includeDifficult);
    internal static YoloDetectionDataset Yolo() => new(Images, Path.Combine(Root, "yolo"), Path.Combine(Root, "yolo", "classes.txt"));

    [Fact]
    public void TheThreeFormatsGiveTheSameSamples()
    {
        Dataset[] datasets = [Coco(), Voc(), Yolo()];
        (BoxFormat Format, bool Relative)[] declared = [(BoxFormat.Xywh, false), (BoxFormat.Xyxy, false), (BoxFormat.Cxcywh, true)];
        for (int d = 0; d < 3; d++)
        {
            var dataset = datasets[d];
            Assert.Equal(Classes, dataset.Classes);
            Assert.True(dataset.HasTargets);
            Assert.Null(dataset.SampleShape);
            Assert.Equal(Expected.Length, dataset.Count);
            for (int i = 0; i < Expected.Length; i++)
            {
                var (file, height, width, objects) = Expected[i];
                var sample = dataset[i];
                var reference = datasets[0][i];
                Assert.Equal([3, height, width], sample.Image.Shape);
                Assert.Equal(reference.Image.ToArray(), sample.Image.ToArray());
                var boxes = sample.Boxes!;
                Assert.Equal((declared[d].Format, declared[d].Relative), (boxes.Format, boxes.Relative));
                Assert.Equal((height, width), (boxes.CanvasHeight, boxes.CanvasWidth));
                Assert.Equal(objects.Select(o => o.Label), boxes.Labels.ToArray());
                var pixels = boxes.ConvertTo(BoxFormat.Xyxy, relative: false);
                for (int b = 0; b < objects.Length; b++)
                {
                    float[] expected = [objects[b].X1, objects[b].Y1, objects[b].X2, objects[b].Y2];
                    Assert.Equal(expected, pixels[b].ToArray(), (x, y) => Math.Abs(x - y) < 1e-3);
                }
                Assert.EndsWith(file, dataset switch
                {
                    CocoDetectionDataset coco => coco.PathOf(i),
                    VocDetectionDataset voc => voc.PathOf(i),
                    _ => ((YoloDetectionDataset)dataset).PathOf(i),
                });
            }
        }
    }

    [Fact]
    public void TheBoxesAreTheObjectsPixelExtents()
    {
        // The background is grey (30/255); every other pixel belongs to an object and lies in exactly its box.
        var dataset = Voc();
        for (int i = 0; i < dataset.Count; i++)
        {
            var sample = dataset[i];
            var pixels = sample.Boxes!;
            var red = sample.Image.ToArray()[..(sample.Height * sample.Width)];
            for (int y = 0; y < sample.Height; y++)
                for (int x = 0; x < sample.Width; x++)
                {
                    bool inBox = Enumerable.Range(0, pixels.Count).Any(b => x >= pixels[b][0] && x < pixels[b][2] && y >= pixels[b][1] && y < pixels[b][3]);
                    Assert.True(inBox == (Math.Abs(red[y * sample.Width + x] - 30 / 255f) > 1e-3), $"{Expected[i].File} pixel ({x}, {y})");
                }
        }
    }

    [Fact]
    public void TransformsMoveTheReadBoxesWithThePixels()
    {
        // YOLO's relative cxcywh boxes through a flip and a letterbox: they keep their format and still sit on the objects.
        var transform = new Compose(new RandomHorizontalFlip(p: 1), new Letterbox(80));
        var dataset = Yolo();
        for (int i = 0; i < dataset.Count; i++)
        {
            var sample = transform.Apply(dataset[i], new Generator(i));
            var boxes = sample.Boxes!;
            Assert.Equal((BoxFormat.Cxcywh, true, 80, 80), (boxes.Format, boxes.Relative, boxes.CanvasHeight, boxes.CanvasWidth));
            Assert.Equal(Expected[i].Objects.Length, boxes.Count);
            var red = sample.Image.ToArray();
            for (int b = 0; b < boxes.Count; b++)
            {
                int x = (int)(boxes[b][0] * 80), y = (int)(boxes[b][1] * 80);
                float value = red[y * 80 + x];
                Assert.True(Math.Abs(value - 30 / 255f) > 0.01f && Math.Abs(value - 114 / 255f) > 0.01f, $"picture {i} box {b}: centre ({x}, {y}) is {value}");
            }
        }
    }

    [Fact]
    public void TheLoaderBatchesLetterboxedPicturesWithTheirOwnBoxes()
    {
        var loader = new DataLoader(Yolo(), batchSize: 4, transform: new Compose(new RandomHorizontalFlip(), new Letterbox(32)), seed: 3);
        var batch = loader.Single();
        Assert.Equal([4, 3, 32, 32], batch.Images.Shape);
        Assert.Equal(Expected.Select(e => e.Objects.Length), batch.Boxes!.Select(b => b.Count));
        for (int i = 0; i < 4; i++)
        {
            var alone = new Compose(new RandomHorizontalFlip(), new Letterbox(32)).Apply(Yolo()[i], Generator.For(3, 0, i));
            Assert.Equal(alone.Image.ToArray(), batch.Images.ToArray().AsSpan(i * 3 * 32 * 32, 3 * 32 * 32).ToArray());
            Assert.Equal(alone.Boxes!.Coordinates.ToArray(), batch.Boxes![i].Coordinates.ToArray());
            Assert.Equal((32, 32), (batch.Boxes[i].CanvasHeight, batch.Boxes[i].CanvasWidth));
        }
        Assert.Equal(0, batch.Labels.Numel);
        Assert.Contains("differ in size", Assert.Throws<InvalidOperationException>(() => Yolo().PadTo(64, 64)).Message);
    }

    [Fact]
    public void CrowdAndDifficultObjectsFollowTheDocumentedChoices()
    {
        Assert.Equal(1, Coco().CrowdCount);
        Assert.Equal([3L, 7, 11], Coco().CategoryIds);
        var withoutDifficult = Voc(includeDifficult: false);
        Assert.Equal([2], withoutDifficult[1].Boxes!.Labels.ToArray());
        Assert.Equal(2, withoutDifficult[0].Boxes!.Count);
    }

    [Fact]
    public void TheVocFolderLayoutReadsAnImageSet()
    {
        var root = Directory.CreateTempSubdirectory("convkit-voc-").FullName;
        try
        {
            CopyFolder(Images, Path.Combine(root, "JPEGImages"));
            CopyFolder(Path.Combine(Root, "voc"), Path.Combine(root, "Annotations"));
            Directory.CreateDirectory(Path.Combine(root, "ImageSets", "Main"));
            File.WriteAllLines(Path.Combine(root, "ImageSets", "Main", "val.txt"), ["c", "a"]);
            var dataset = new VocDetectionDataset(root, Classes, imageSet: "val");
            Assert.Equal(2, dataset.Count);
            Assert.EndsWith("c.png", dataset.PathOf(0));
            Assert.Equal(3, dataset[0].Boxes!.Count);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    [Fact]
    public void IndexAndPaletteMasksGiveTheSameMasks()
    {
        string[] classes = ["background", .. Classes];
        var index = new SegmentationFolderDataset(Images, Path.Combine(Root, "masks_index"), classes);
        var palette = new SegmentationFolderDataset(Images, Path.Combine(Root, "masks_palette"), classes, SegmentationFolderDataset.VocPalette());
        Assert.Equal(2, index.Count); // b and d have no mask
        Assert.Equal(2, palette.Count);
        var detection = Voc();
        foreach (var (i, picture) in new[] { (0, 0), (1, 2) })
        {
            var sample = index[i];
            Assert.Equal(sample.Image.ToArray(), palette[i].Image.ToArray());
            var mask = sample.Mask!.ToArray();
            Assert.Equal(mask, palette[i].Mask!.ToArray());
            Assert.Equal([sample.Height, sample.Width], sample.Mask.Shape);

            // Class k + 1 exactly on object k's pixels, a 255 frame around the first object, background elsewhere.
            var boxes = detection[picture].Boxes!;
            for (int y = 0; y < sample.Height; y++)
                for (int x = 0; x < sample.Width; x++)
                {
                    int owner = Enumerable.Range(0, boxes.Count).FirstOrDefault(b => x >= boxes[b][0] && x < boxes[b][2] && y >= boxes[b][1] && y < boxes[b][3], -1);
                    var first = boxes[0];
                    bool frame = owner < 0 && x >= first[0] - 1 && x <= first[2] && y >= first[1] - 1 && y <= first[3];
                    float expected = owner >= 0 ? boxes.Labels[owner] + 1 : frame ? Sample.IgnoreIndex : 0;
                    Assert.True(expected == mask[y * sample.Width + x], $"mask {i} pixel ({x}, {y}): {mask[y * sample.Width + x]}, expected {expected}");
                }
        }
    }

    [Fact]
    public void VocPaletteHasItsWellKnownColours()
    {
        var palette = SegmentationFolderDataset.VocPalette();
        Assert.Equal(256, palette.Count);
        Assert.Equal(((byte)0, (byte)0, (byte)0), palette[0]);
        Assert.Equal(((byte)128, (byte)0, (byte)0), palette[1]);
        Assert.Equal(((byte)192, (byte)128, (byte)128), palette[15]); // person
        Assert.Equal(((byte)224, (byte)224, (byte)192), palette[255]);
        Assert.Equal(21, SegmentationFolderDataset.VocClasses.Count);
    }
}
