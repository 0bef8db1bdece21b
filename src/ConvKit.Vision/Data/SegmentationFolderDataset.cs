using ConvKit.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Data;

/// <summary>
/// Semantic segmentation from two folders: pictures, and a PNG mask per picture with the same name
/// (<c>images/a.jpg</c> ↔ <c>masks/a.png</c>), as Pascal VOC's <c>JPEGImages</c> and <c>SegmentationClass</c>.
/// The masks drive the set: every mask is a sample (sorted by name), pictures without a mask are left out.
/// <list type="bullet">
/// <item>Index masks (no palette given): a grey PNG whose value is the pixel's class index.</item>
/// <item>Colour masks (a palette given): palette PNGs (VOC's <c>SegmentationClass</c>) or RGB PNGs; each colour is
/// looked up in the palette and the pixel's class is its position there. SkiaSharp decodes palette PNGs to colours,
/// so the palette is matched by colour, not by the stored index; <see cref="VocPalette"/> is VOC's.</item>
/// <item>Either way the value <see cref="Sample.IgnoreIndex"/> (255; VOC's object boundaries) is kept as "ignore";
/// any other value outside the classes is an error.</item>
/// </list>
/// The pairs are checked when the dataset is made (every mask has its picture); the masks' pixels when a sample is
/// read, since that means decoding every mask: a mask of another size than its picture, a colour missing from the
/// palette or a class index out of range throws one exception naming the mask file and the pixel.
/// </summary>
public sealed class SegmentationFolderDataset : Dataset
{
    readonly (string Image, string Mask)[] pairs;
    readonly string[] classes;
    readonly Dictionary<int, int>? colourIndex;
    readonly int channels;

    /// <param name="imagesDirectory">the pictures (PNG, JPEG, BMP, GIF, WebP)</param>
    /// <param name="masksDirectory">one <c>name.png</c> mask per picture <c>name.*</c></param>
    /// <param name="classes">the class names, background included (VOC: "background" first); a mask value is an index into them</param>
    /// <param name="palette">the colour of each class index (as a PNG palette lists them: 256 entries are fine, those
    /// past the classes are unused except index 255, "ignore"); null for grey index masks</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    public SegmentationFolderDataset(string imagesDirectory, string masksDirectory, IReadOnlyList<string> classes,
        IReadOnlyList<(byte R, byte G, byte B)>? palette = null, int channels = 3)
    {
        AnnotationChecks.CheckChannels(channels, nameof(SegmentationFolderDataset));
        if (classes.Count == 0) throw new ArgumentException("SegmentationFolderDataset: give at least one class name.", nameof(classes));
        if (classes.Count >= Sample.IgnoreIndex)
            throw new ArgumentException($"SegmentationFolderDataset: at most {Sample.IgnoreIndex} classes fit a PNG mask beside the ignore value, not {classes.Count}.", nameof(classes));
        AnnotationChecks.CheckDirectory(imagesDirectory, "images");
        AnnotationChecks.CheckDirectory(masksDirectory, "masks");
        var images = Directory.EnumerateFiles(imagesDirectory).Where(file => ImageFiles.Extensions.Contains(Path.GetExtension(file)))
            .GroupBy(Path.GetFileNameWithoutExtension, StringComparer.Ordinal).ToDictionary(g => g.Key!, g => g.Order(StringComparer.Ordinal).First());
        pairs = Directory.EnumerateFiles(masksDirectory, "*.png").Order(StringComparer.Ordinal).Select(mask =>
            images.TryGetValue(Path.GetFileNameWithoutExtension(mask), out var image) ? (image, mask)
                : throw new FileNotFoundException($"mask '{mask}': there is no picture '{Path.GetFileNameWithoutExtension(mask)}.*' in '{imagesDirectory}'.", mask))
            .ToArray();
        if (palette is not null)
        {
            colourIndex = [];
            for (int i = 0; i < palette.Count; i++) colourIndex.TryAdd(Rgb(palette[i].R, palette[i].G, palette[i].B), i);
        }
        this.classes = classes.ToArray();
        this.channels = channels;
    }

    /// <inheritdoc/>
    public override int Count => pairs.Length;
    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => classes;
    /// <inheritdoc/>
    public override bool HasTargets => true;

    /// <summary>The picture and mask files of sample <paramref name="index"/>.</summary>
    public (string Image, string Mask) PathsOf(int index)
    {
        CheckIndex(index);
        return pairs[index];
    }

    /// <summary>The picture (C, H, W) with its mask (H, W) of class indices (and 255, ignore) as floats.</summary>
    public override Sample GetSample(int index)
    {
        CheckIndex(index);
        var (imagePath, maskPath) = pairs[index];
        var image = ImageFiles.Load(imagePath, channels);
        return new Sample(image) { Mask = ReadMask(maskPath, image.Shape[1], image.Shape[2]) };
    }

    /// <summary>(H, W) class indices of the mask at <paramref name="path"/>, which must be <paramref name="height"/> × <paramref name="width"/>.</summary>
    Tensor ReadMask(string path, int height, int width)
    {
        using var bitmap = ImageFiles.Decode(path, null);
        if (bitmap.Height != height || bitmap.Width != width)
            throw new InvalidDataException($"mask '{path}': it is {bitmap.Width}×{bitmap.Height} (width×height) but its picture is {width}×{height}.");
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        var values = new float[height * width];
        for (int i = 0; i < values.Length; i++)
        {
            byte r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            int value;
            if (colourIndex is null)
            {
                if (r != g || g != b)
                    throw new InvalidDataException($"mask '{path}': pixel (x {i % width}, y {i / width}) has the colour ({r}, {g}, {b}); " +
                        "an index mask is grey (give a palette for colour masks).");
                value = r;
            }
            else if (!colourIndex.TryGetValue(Rgb(r, g, b), out value))
                throw new InvalidDataException($"mask '{path}': pixel (x {i % width}, y {i / width}) has the colour ({r}, {g}, {b}), which is not in the palette.");
            if (value >= classes.Length && value != Sample.IgnoreIndex)
                throw new InvalidDataException($"mask '{path}': pixel (x {i % width}, y {i / width}) has class index {value}, " +
                    $"but there are {classes.Length} classes (and {Sample.IgnoreIndex}, ignore).");
            values[i] = value;
        }
        return Tensor.FromArray(values, height, width);
    }

    static int Rgb(byte r, byte g, byte b) => (r << 16) | (g << 8) | b;

    /// <summary>
    /// Pascal VOC's 256-colour palette: index i's colour spreads i's bits over the three channels from the top bit
    /// down (bit 0 → red, bit 1 → green, bit 2 → blue, the next three bits one place lower, ...): 0 black background,
    /// 1 (128, 0, 0) aeroplane, ..., 255 (224, 224, 192) the "void" object boundaries.
    /// </summary>
    public static IReadOnlyList<(byte R, byte G, byte B)> VocPalette()
    {
        var palette = new (byte R, byte G, byte B)[256];
        for (int i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0;
            for (int bit = 0, rest = i; bit < 8; bit++, rest >>= 3)
            {
                r |= (rest & 1) << (7 - bit);
                g |= ((rest >> 1) & 1) << (7 - bit);
                b |= ((rest >> 2) & 1) << (7 - bit);
            }
            palette[i] = ((byte)r, (byte)g, (byte)b);
        }
        return palette;
    }

    /// <summary>Pascal VOC's segmentation classes: "background" and the twenty object classes.</summary>
    public static IReadOnlyList<string> VocClasses { get; } = ["background", .. VocDetectionDataset.VocClasses];
}
