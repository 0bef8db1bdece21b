using System.Globalization;
using System.Text.Json;
using ConvKit.Data;
using ConvKit.IO;
using SkiaSharp;

namespace ConvKit.Vision.Data;

/// <summary>How <see cref="FashionScenes"/> lays out its scenes.</summary>
public sealed record FashionScenesOptions
{
    /// <summary>The side of the square canvas, in pixels; it must hold the largest item, round(28·<see cref="MaxScale"/>).</summary>
    public int CanvasSize { get; init; } = 64;
    /// <summary>The fewest items a scene tries to place (at least 1).</summary>
    public int MinItems { get; init; } = 2;
    /// <summary>The most items a scene tries to place.</summary>
    public int MaxItems { get; init; } = 4;
    /// <summary>Smallest item scale: an item's side is round(28·scale) pixels.</summary>
    public double MinScale { get; init; } = 0.75;
    /// <summary>Largest item scale.</summary>
    public double MaxScale { get; init; } = 1.5;
    /// <summary>
    /// The fraction of an item's box (its silhouette's box where it is placed) that may lie inside the union of the
    /// earlier items' boxes, in [0, 1].
    /// </summary>
    public double MaxOverlap { get; init; } = 0.3;
    /// <summary>Scenes in the training split.</summary>
    public int TrainScenes { get; init; } = 6000;
    /// <summary>Scenes in the test split.</summary>
    public int TestScenes { get; init; } = 1000;
    /// <summary>Keys every scene's random stream, with the split and the scene's index.</summary>
    public int Seed { get; init; } = 2026;

    /// <summary>
    /// The detection set (<see cref="FashionScenes.WriteDetection"/>): 128×128 scenes of 1 to 6 items at 1 to 2.5
    /// times Fashion-MNIST's size (28 to 70 pixels), so a stride-16 detector sees objects of 2 to 4 cells.
    /// </summary>
    public static FashionScenesOptions Detection { get; } = new()
    {
        CanvasSize = 128, MinItems = 1, MaxItems = 6, MinScale = 1.0, MaxScale = 2.5, MaxOverlap = 0.3, TrainScenes = 6000, TestScenes = 1000, Seed = 2026,
    };
}

/// <summary>
/// One Fashion-MNIST picture placed on a scene.
/// </summary>
/// <param name="Class">its Fashion-MNIST class, 0..9 (the mask holds 1 + Class)</param>
/// <param name="Box">xyxy in pixels, tight around its visible silhouette pixels, the ends exclusive (pixel edges):
/// the visible pixels x, y have X1 ≤ x &lt; X2, Y1 ≤ y &lt; Y2</param>
/// <param name="SourceIndex">the index of its picture in its split (training pictures for training scenes, test pictures for test scenes)</param>
/// <param name="Placement">where its resized picture lies on the canvas: top-left corner and size, in pixels</param>
public sealed record SceneItem(int Class, (int X1, int Y1, int X2, int Y2) Box, int SourceIndex, (int X, int Y, int Width, int Height) Placement);

/// <summary>A scene: its picture, its mask and its items, bottom to top (later items occlude earlier ones).</summary>
/// <param name="Picture">(1, S, S), values in [0, 1], whole multiples of 1/255 (so a PNG keeps them exactly)</param>
/// <param name="Mask">(S, S): 0 background, 1 + the Fashion-MNIST class of the item seen there</param>
public sealed record Scene(Tensor Picture, Tensor Mask, IReadOnlyList<SceneItem> Items)
{
    /// <summary>The items' visible boxes (xyxy, pixels), labelled with their Fashion-MNIST class (0..9).</summary>
    public BoundingBoxes Boxes()
    {
        var coordinates = Items.SelectMany(item => new float[] { item.Box.X1, item.Box.Y1, item.Box.X2, item.Box.Y2 }).ToArray();
        return new BoundingBoxes(coordinates, Items.Select(item => item.Class).ToArray(), BoxFormat.Xyxy, Mask.Shape[0], Mask.Shape[1]);
    }
}

/// <summary>
/// Deterministic scenes of several Fashion-MNIST photographs on a black canvas, for segmentation and detection.
/// <list type="bullet">
/// <item>Splits: training scenes use only Fashion-MNIST's training pictures, test scenes only its test pictures.
/// Scene i of a split is a pure function of (seed, split, i), drawn from <c>Generator.For(seed, split, i)</c>, so scenes
/// are made in parallel, any one can be regenerated alone, and the same options write byte-identical files.</item>
/// <item>Items: a scene tries to place a number of items drawn from [MinItems, MaxItems]. Each attempt draws a
/// picture of the split, a scale in [MinScale, MaxScale] (the 28×28 picture resized bilinearly to round(28·scale),
/// half-pixel centres as torch's interpolate with align_corners=False, rounded to bytes) and a position with the whole
/// resized picture inside the canvas.</item>
/// <item>Silhouette: the resized pixels brighter than <see cref="SilhouetteThreshold"/> (byte &gt; 25); Fashion-MNIST's
/// background is 0. Later items occlude earlier ones: inside a later item's silhouette the picture takes its pixels
/// and the mask its class (1 + Fashion class); the rest of its square is transparent. Outside every silhouette the
/// picture is 0 (black) and the mask 0 (background). So a mask pixel is non-zero exactly where the picture is above
/// the threshold.</item>
/// <item>Placement rules: an attempt is rejected when its box (the box of its own silhouette where placed) has more
/// than MaxOverlap of its area inside the union of the earlier items' boxes, when its silhouette has fewer than
/// <see cref="MinVisiblePixels"/> pixels, or when it would leave an earlier item fewer than
/// <see cref="MinVisiblePixels"/> visible pixels. After <see cref="PlacementAttempts"/> rejected attempts the item is
/// given up, so a crowded scene may hold fewer than MinItems items (with the default options 9 of the 6,000 training
/// scenes hold a single item).</item>
/// <item>Boxes: every item that is placed stays visible (at least <see cref="MinVisiblePixels"/> pixels), and its
/// <see cref="SceneItem.Box"/> is tight around its pixels still visible at the end.</item>
/// </list>
/// </summary>
public static class FashionScenes
{
    /// <summary>Pixels brighter than this (in [0, 1]) belong to an item's silhouette.</summary>
    public const double SilhouetteThreshold = 0.1;
    /// <summary>Every placed item keeps at least this many visible pixels.</summary>
    public const int MinVisiblePixels = 20;
    /// <summary>Tries at placing one item before it is given up.</summary>
    public const int PlacementAttempts = 50;
    const byte ThresholdByte = 25; // byte > 25 ⟺ byte / 255 > 0.1

    /// <summary>"background" and the ten Fashion-MNIST classes: mask value v names class v.</summary>
    public static readonly IReadOnlyList<string> SegmentationClasses = ["background", .. IdxDatasets.FashionMnistClasses];

    /// <summary>
    /// Scene <paramref name="index"/> of a split (see the class summary for the rules).
    /// </summary>
    /// <param name="source">the split's Fashion-MNIST pictures, (1, h, w) each: <c>IdxDatasets.FashionMnist(train)</c></param>
    /// <param name="train">which split the scene belongs to; it keys the random stream, with the seed and the index</param>
    public static Scene Make(Dataset source, FashionScenesOptions options, bool train, int index)
    {
        Validate(options);
        var (count, height, width) = CheckSource(source, options);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var (picture, mask, items) = Compose(source, count, height, width, options, train, index);
        int s = options.CanvasSize;
        return new Scene(Tensor.FromArray(Scaled(picture, 1 / 255f), 1, s, s), Tensor.FromArray(Scaled(mask, 1), s, s), items);
    }

    /// <summary>
    /// Writes grey PNGs <c>{dir}/train/images/00000.png</c>, <c>{dir}/train/masks/00000.png</c>, ... and
    /// <c>{dir}/test/...</c> (mask value = class index, 0..10), plus <c>{dir}/classes.txt</c>, one name of
    /// <see cref="SegmentationClasses"/> a line: what <c>new SegmentationFolderDataset(dir/train/images, dir/train/masks,
    /// FashionScenes.SegmentationClasses, channels: 1)</c> reads. Files of the same names are overwritten; other files in
    /// those folders are left alone (and would be read with the scenes), so write into a fresh folder.
    /// A missing Fashion-MNIST throws <see cref="IdxDatasets"/>' <see cref="FileNotFoundException"/> (where it looked, how to install).
    /// </summary>
    /// <param name="fashionMnistDirectory">where the IDX files are, searched before the standard places</param>
    public static void WriteSegmentation(string outputDirectory, FashionScenesOptions? options = null, string? fashionMnistDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options ??= new FashionScenesOptions();
        var splits = Splits(options, fashionMnistDirectory);
        Directory.CreateDirectory(outputDirectory);
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, "classes.txt"), Lines(SegmentationClasses));
        foreach (var split in splits)
        {
            string images = Path.Combine(outputDirectory, split.Name, "images"), masks = Path.Combine(outputDirectory, split.Name, "masks");
            Directory.CreateDirectory(images);
            Directory.CreateDirectory(masks);
            WriteScenes(split, options, (i, file, picture, mask, _) =>
            {
                SaveGreyPng(picture, options.CanvasSize, Path.Combine(images, file));
                SaveGreyPng(mask, options.CanvasSize, Path.Combine(masks, file));
            });
        }
    }

    /// <summary>
    /// Writes the scenes for object detection in COCO's layout: grey PNGs <c>{dir}/train/images/00000.png</c>, ... with
    /// <c>{dir}/train/annotations.json</c>, the same for <c>test</c>, and <c>{dir}/classes.txt</c> (the ten Fashion-MNIST
    /// class names, one a line): what <c>new CocoDetectionDataset(dir/train/images, dir/train/annotations.json,
    /// channels: 1)</c> reads, its boxes those of <see cref="Scene.Boxes"/>.
    /// <list type="bullet">
    /// <item>annotations.json is COCO's instances JSON: <c>images</c> (id = scene index + 1, file_name, width, height),
    /// <c>annotations</c> (id from 1 in scene and item order, image_id, category_id = class + 1, bbox [x, y, width,
    /// height] in whole pixels, area = the box's area, iscrowd 0) and <c>categories</c> (ids 1..10, Fashion-MNIST's names).</item>
    /// <item>The same options write byte-identical files.</item>
    /// <item>An interrupted write leaves no set that looks complete: the old <c>classes.txt</c> and
    /// <c>annotations.json</c> files are deleted first, a split's annotations.json is moved into place only after all its
    /// pictures are written, and <c>classes.txt</c> comes last, so a folder with <c>classes.txt</c> is complete.</item>
    /// </list>
    /// Files of the same names are overwritten; other files are left alone (pictures the annotations do not name are not read).
    /// A missing Fashion-MNIST throws <see cref="IdxDatasets"/>' <see cref="FileNotFoundException"/> (where it looked, how to install).
    /// </summary>
    /// <param name="options">default <see cref="FashionScenesOptions.Detection"/></param>
    /// <param name="fashionMnistDirectory">where the IDX files are, searched before the standard places</param>
    public static void WriteDetection(string outputDirectory, FashionScenesOptions? options = null, string? fashionMnistDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        options ??= FashionScenesOptions.Detection;
        var splits = Splits(options, fashionMnistDirectory);
        string classesFile = Path.Combine(outputDirectory, "classes.txt");
        foreach (string stale in splits.Select(split => Path.Combine(outputDirectory, split.Name, "annotations.json")).Append(classesFile))
            if (File.Exists(stale)) File.Delete(stale);
        foreach (var split in splits)
        {
            string images = Path.Combine(outputDirectory, split.Name, "images");
            Directory.CreateDirectory(images);
            var files = new string[split.Count];
            var items = new SceneItem[split.Count][];
            WriteScenes(split, options, (i, file, picture, _, sceneItems) =>
            {
                SaveGreyPng(picture, options.CanvasSize, Path.Combine(images, file));
                (files[i], items[i]) = (file, sceneItems);
            });
            AtomicFile.WriteAllText(Path.Combine(outputDirectory, split.Name, "annotations.json"), CocoJson(files, items, options.CanvasSize));
        }
        AtomicFile.WriteAllText(classesFile, Lines(IdxDatasets.FashionMnistClasses));
    }

    /// <summary>COCO instances JSON for scenes <paramref name="files"/> with their <paramref name="items"/>.</summary>
    static string CocoJson(string[] files, SceneItem[][] items, int size)
    {
        int annotationId = 0;
        var document = new
        {
            images = files.Select((file, i) => new { id = i + 1, file_name = file, width = size, height = size }),
            annotations = items.SelectMany((scene, i) => scene.Select(item =>
            {
                var (x1, y1, x2, y2) = item.Box;
                return new { id = ++annotationId, image_id = i + 1, category_id = item.Class + 1, bbox = new[] { x1, y1, x2 - x1, y2 - y1 }, area = (x2 - x1) * (y2 - y1), iscrowd = 0 };
            })),
            categories = IdxDatasets.FashionMnistClasses.Select((name, c) => new { id = c + 1, name }),
        };
        return JsonSerializer.Serialize(document) + "\n";
    }

    static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(line => line + "\n"));

    /// <summary>The options checked and both splits' Fashion-MNIST pictures loaded, before anything is written.</summary>
    static (bool Train, string Name, int Count, Dataset Source)[] Splits(FashionScenesOptions options, string? fashionMnistDirectory)
    {
        Validate(options);
        var splits = new[] { (Train: true, Name: "train", Count: options.TrainScenes), (Train: false, Name: "test", Count: options.TestScenes) }
            .Select(split => (split.Train, split.Name, split.Count, Source: IdxDatasets.FashionMnist(split.Train, fashionMnistDirectory))).ToArray();
        foreach (var split in splits) CheckSource(split.Source, options);
        return splits;
    }

    /// <summary>Composes a split's scenes in parallel and hands each (index, file name "00000.png", picture, mask, items) to <paramref name="write"/>.</summary>
    static void WriteScenes((bool Train, string Name, int Count, Dataset Source) split, FashionScenesOptions options,
        Action<int, string, byte[], byte[], SceneItem[]> write)
    {
        int digits = Math.Max(5, (split.Count - 1).ToString(CultureInfo.InvariantCulture).Length);
        var (sourceCount, height, width) = CheckSource(split.Source, options);
        Parallel.For(0, split.Count, i =>
        {
            var (picture, mask, items) = Compose(split.Source, sourceCount, height, width, options, split.Train, i);
            write(i, i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png", picture, mask, items);
        });
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first option out of range.</summary>
    internal static void Validate(FashionScenesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        static void Check(bool ok, object value, string name, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"FashionScenesOptions.{name} {rule}, not {value}.");
        }
        Check(options.MinScale > 0 && double.IsFinite(options.MinScale), options.MinScale, nameof(options.MinScale), "must be positive");
        Check(options.MaxScale >= options.MinScale && double.IsFinite(options.MaxScale), options.MaxScale, nameof(options.MaxScale),
            $"must be at least MinScale ({options.MinScale})");
        Check(Side(28, options.MinScale) >= 1, options.MinScale, nameof(options.MinScale), "must give items of at least 1 pixel (28·scale ≥ 0.5)");
        Check(options.CanvasSize >= Side(28, options.MaxScale), options.CanvasSize, nameof(options.CanvasSize),
            $"must hold the largest item, round(28·MaxScale) = {Side(28, options.MaxScale)} pixels");
        Check(options.MinItems >= 1, options.MinItems, nameof(options.MinItems), "must be at least 1");
        Check(options.MaxItems >= options.MinItems, options.MaxItems, nameof(options.MaxItems), $"must be at least MinItems ({options.MinItems})");
        Check(options.MaxOverlap is >= 0 and <= 1, options.MaxOverlap, nameof(options.MaxOverlap), "must be in [0, 1]");
        Check(options.TrainScenes >= 0, options.TrainScenes, nameof(options.TrainScenes), "must not be negative");
        Check(options.TestScenes >= 0, options.TestScenes, nameof(options.TestScenes), "must not be negative");
    }

    /// <summary>Writes a size × size grey picture (row-major bytes) as an 8-bit greyscale PNG.</summary>
    static void SaveGreyPng(byte[] pixels, int size, string path)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque));
        pixels.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"FashionScenes: SkiaSharp could not encode '{path}'.");
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    static float[] Scaled(byte[] values, float factor) => Array.ConvertAll(values, value => value * factor);

    static int Side(int size, double scale) => (int)Math.Round(size * scale, MidpointRounding.AwayFromZero);

    static (int Count, int Height, int Width) CheckSource(Dataset source, FashionScenesOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.SampleShape is not [1, var height, var width] || source.Count == 0)
            throw new ArgumentException($"FashionScenes: the source must hold grey pictures (1, H, W), not {source.Count} of shape " +
                $"{(source.SampleShape is null ? "varying" : "(" + string.Join(", ", source.SampleShape) + ")")}.", nameof(source));
        if (Side(height, options.MaxScale) > options.CanvasSize || Side(width, options.MaxScale) > options.CanvasSize)
            throw new ArgumentOutOfRangeException(nameof(options), $"FashionScenes: a {height}×{width} picture at scale {options.MaxScale} does not fit the canvas of {options.CanvasSize}.");
        return (source.Count, height, width);
    }

    /// <summary>Scene <paramref name="index"/> as bytes: the picture and the mask, row-major S·S each, and its items.</summary>
    internal static (byte[] Picture, byte[] Mask, SceneItem[] Items) Compose(Dataset source, int count, int sourceHeight, int sourceWidth,
        FashionScenesOptions options, bool train, int index)
    {
        int s = options.CanvasSize;
        var random = Generator.For(options.Seed, train ? 1 : 2, index);
        var picture = new byte[s * s];
        var owner = new int[s * s]; // index of the item seen at each pixel, -1 for none
        Array.Fill(owner, -1);
        var boxCover = new bool[s * s]; // the union of the placed items' boxes
        var visible = new List<int>();
        var placed = new List<(int Class, int SourceIndex, (int X, int Y, int Width, int Height) Placement)>();
        var floats = new float[sourceHeight * sourceWidth];
        var original = new byte[floats.Length];

        int wanted = random.Next(options.MinItems, options.MaxItems + 1);
        for (int item = 0; item < wanted; item++)
        {
            for (int attempt = 0; attempt < PlacementAttempts; attempt++)
            {
                int sourceIndex = random.Next(count);
                double scale = options.MinScale + (options.MaxScale - options.MinScale) * random.NextDouble();
                int h = Side(sourceHeight, scale), w = Side(sourceWidth, scale);
                int x0 = random.Next(s - w + 1), y0 = random.Next(s - h + 1);

                source.ReadImage(sourceIndex, floats);
                for (int i = 0; i < floats.Length; i++) original[i] = (byte)MathF.Round(floats[i] * 255f);
                var pixels = ResizeBilinear(original, sourceHeight, sourceWidth, h, w);
                if (!Fits(pixels, h, w, x0, y0, s, owner, boxCover, visible, options.MaxOverlap)) continue;

                int me = placed.Count, area = 0, bx1 = int.MaxValue, by1 = int.MaxValue, bx2 = 0, by2 = 0;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        byte value = pixels[y * w + x];
                        if (value <= ThresholdByte) continue;
                        int at = (y0 + y) * s + x0 + x;
                        if (owner[at] >= 0) visible[owner[at]]--;
                        owner[at] = me;
                        picture[at] = value;
                        area++;
                        (bx1, by1, bx2, by2) = (Math.Min(bx1, x0 + x), Math.Min(by1, y0 + y), Math.Max(bx2, x0 + x + 1), Math.Max(by2, y0 + y + 1));
                    }
                for (int y = by1; y < by2; y++) Array.Fill(boxCover, true, y * s + bx1, bx2 - bx1);
                visible.Add(area);
                placed.Add((source.Label(sourceIndex), sourceIndex, (x0, y0, w, h)));
                break;
            }
        }

        var mask = new byte[s * s];
        var boxes = placed.Select(_ => (X1: int.MaxValue, Y1: int.MaxValue, X2: 0, Y2: 0)).ToArray();
        for (int at = 0; at < owner.Length; at++)
        {
            int k = owner[at];
            if (k < 0) continue;
            mask[at] = (byte)(1 + placed[k].Class);
            int x = at % s, y = at / s;
            var b = boxes[k];
            boxes[k] = (Math.Min(b.X1, x), Math.Min(b.Y1, y), Math.Max(b.X2, x + 1), Math.Max(b.Y2, y + 1));
        }
        var items = placed.Select((p, k) => new SceneItem(p.Class, boxes[k], p.SourceIndex, p.Placement)).ToArray();
        return (picture, mask, items);
    }

    /// <summary>Whether an item with these resized pixels at (x0, y0) keeps the overlap and visibility rules.</summary>
    static bool Fits(byte[] pixels, int h, int w, int x0, int y0, int s, int[] owner, bool[] boxCover, List<int> visible, double maxOverlap)
    {
        int area = 0, bx1 = int.MaxValue, by1 = int.MaxValue, bx2 = 0, by2 = 0;
        var hidden = new int[visible.Count];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                if (pixels[y * w + x] <= ThresholdByte) continue;
                area++;
                (bx1, by1, bx2, by2) = (Math.Min(bx1, x), Math.Min(by1, y), Math.Max(bx2, x + 1), Math.Max(by2, y + 1));
                int k = owner[(y0 + y) * s + x0 + x];
                if (k >= 0) hidden[k]++;
            }
        if (area < MinVisiblePixels) return false;
        for (int k = 0; k < hidden.Length; k++)
            if (visible[k] - hidden[k] < MinVisiblePixels) return false;
        int covered = 0;
        for (int y = y0 + by1; y < y0 + by2; y++)
            for (int x = x0 + bx1; x < x0 + bx2; x++)
                if (boxCover[y * s + x]) covered++;
        return covered <= maxOverlap * (bx2 - bx1) * (by2 - by1);
    }

    /// <summary>
    /// Bilinear resize of a (height, width) byte picture to (newHeight, newWidth), rounded to bytes: half-pixel centres,
    /// source coordinate (o + ½)·in/out − ½ clamped at 0, as torch's interpolate(mode='bilinear', align_corners=False)
    /// and <c>F.Upsample(..., UpsampleMode.Bilinear)</c> without antialiasing.
    /// </summary>
    internal static byte[] ResizeBilinear(byte[] pixels, int height, int width, int newHeight, int newWidth)
    {
        var result = new byte[newHeight * newWidth];
        Span<int> x0s = stackalloc int[newWidth], x1s = stackalloc int[newWidth];
        Span<double> fxs = stackalloc double[newWidth];
        for (int ox = 0; ox < newWidth; ox++) (x0s[ox], x1s[ox], fxs[ox]) = Source(ox, width, newWidth);
        for (int oy = 0; oy < newHeight; oy++)
        {
            var (y0, y1, fy) = Source(oy, height, newHeight);
            for (int ox = 0; ox < newWidth; ox++)
            {
                double top = pixels[y0 * width + x0s[ox]] * (1 - fxs[ox]) + pixels[y0 * width + x1s[ox]] * fxs[ox];
                double bottom = pixels[y1 * width + x0s[ox]] * (1 - fxs[ox]) + pixels[y1 * width + x1s[ox]] * fxs[ox];
                result[oy * newWidth + ox] = (byte)Math.Round(top * (1 - fy) + bottom * fy, MidpointRounding.AwayFromZero);
            }
        }
        return result;

        static (int I0, int I1, double Fraction) Source(int output, int inSize, int outSize)
        {
            double at = Math.Max((output + 0.5) * inSize / outSize - 0.5, 0);
            int i0 = Math.Min((int)at, inSize - 1);
            return (i0, Math.Min(i0 + 1, inSize - 1), at - i0);
        }
    }
}
