using ConvKit.Vision.Imaging;
using SkiaSharp;

namespace ConvKit.Vision.Segmentation;

/// <summary>
/// A mask a person can read: the picture (enlarged with nearest-neighbour pixels when small), each labelled pixel tinted
/// with its class's colour (background left as it is), and a legend of the classes present with their share of the
/// picture.
/// </summary>
public static class SegmentationOverlay
{
    /// <summary>Distinct colours for classes 1, 2, … (class 0, the background, is not tinted); they repeat after 12.</summary>
    public static IReadOnlyList<SKColor> Colours { get; } =
    [
        new(230, 25, 75), new(60, 180, 75), new(255, 225, 25), new(0, 130, 200), new(245, 130, 48), new(145, 30, 180),
        new(70, 240, 240), new(240, 50, 230), new(210, 245, 60), new(250, 190, 212), new(0, 128, 128), new(170, 110, 40),
    ];

    static SKColor ColourOf(int classIndex) => Colours[(classIndex - 1) % Colours.Count];

    /// <summary>
    /// Draws <paramref name="mask"/> (H, W) of class indices over <paramref name="picture"/> (1 or 3, H, W) in [0, 1] and
    /// writes it in the format the file's extension names (PNG, JPEG, WebP); <paramref name="opacity"/> is the tint's weight. Pictures under 256 pixels a side are enlarged by a
    /// whole factor so that the result is at least that big.
    /// </summary>
    public static void Save(Tensor picture, Tensor mask, IReadOnlyList<string> classes, string path, float opacity = 0.55f)
    {
        if (picture.Rank != 3 || picture.Shape[0] is not (1 or 3))
            throw new ArgumentException($"SegmentationOverlay: expected a picture (1 or 3, H, W), got [{string.Join(", ", picture.Shape)}].");
        int channels = picture.Shape[0], height = picture.Shape[1], width = picture.Shape[2], plane = height * width;
        if (mask.Rank != 2 || mask.Shape[0] != height || mask.Shape[1] != width)
            throw new ArgumentException($"SegmentationOverlay: the mask has shape [{string.Join(", ", mask.Shape)}] but the picture is {height}×{width}.");
        var pixels = picture.ToArray();
        var labels = mask.ToArray();
        int scale = Math.Max(1, (int)Math.Ceiling(256.0 / Math.Max(height, width)));

        using var tinted = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var counts = new int[classes.Count];
        for (int i = 0; i < plane; i++)
        {
            float r = pixels[i], g = pixels[channels == 1 ? i : plane + i], b = pixels[channels == 1 ? i : 2 * plane + i];
            int label = (int)labels[i];
            if (label < 0 || label >= classes.Count)
                throw new ArgumentException($"SegmentationOverlay: mask value {label} at pixel ({i / width}, {i % width}) is not one of the {classes.Count} classes.");
            counts[label]++;
            if (label > 0)
            {
                var colour = ColourOf(label);
                (r, g, b) = (Mix(r, colour.Red, opacity), Mix(g, colour.Green, opacity), Mix(b, colour.Blue, opacity));
            }
            tinted.SetPixel(i % width, i / width, new SKColor(Byte(r), Byte(g), Byte(b)));
        }

        var present = Enumerable.Range(1, classes.Count - 1).Where(c => counts[c] > 0).ToList();
        using var font = new SKFont(SKTypeface.Default, 14);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        const int swatch = 14, margin = 10, rowHeight = 20;
        int legendWidth = present.Count == 0 ? 0 : margin + swatch + 6 + (int)present.Max(c => font.MeasureText(Legend(classes[c], counts[c], plane))) + margin;
        int outputHeight = Math.Max(height * scale, margin * 2 + rowHeight * (present.Count + 1));
        using var surface = SKSurface.Create(new SKImageInfo(width * scale + legendWidth, outputHeight));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using (var image = SKImage.FromBitmap(tinted))
            canvas.DrawImage(image, new SKRect(0, 0, width * scale, height * scale), new SKSamplingOptions(SKFilterMode.Nearest));
        int x = width * scale + margin, y = margin;
        canvas.DrawText(present.Count == 0 ? "" : "classes", x, y + swatch - 2, font, text);
        foreach (int c in present)
        {
            y += rowHeight;
            using var fill = new SKPaint { Color = ColourOf(c) };
            canvas.DrawRect(x, y, swatch, swatch, fill);
            canvas.DrawText(Legend(classes[c], counts[c], plane), x + swatch + 6, y + swatch - 2, font, text);
        }
        using var snapshot = surface.Snapshot();
        ImageFiles.Save(snapshot, path);
    }

    static string Legend(string name, int count, int total) => $"{name} ({100.0 * count / total:F1}%)";

    static float Mix(float value, byte colour, float opacity) => (1 - opacity) * value + opacity * colour / 255f;

    static byte Byte(float value) => (byte)MathF.Round(Math.Clamp(value, 0f, 1f) * 255f);
}
