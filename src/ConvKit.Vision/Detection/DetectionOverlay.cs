using System.Globalization;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Segmentation;
using SkiaSharp;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Detections a person can read: an RGB copy of the picture (grey pictures drawn grey in RGB), each box outlined in its
/// class's colour with a filled tag "class 0.87" in that colour, kept inside the picture.
/// <list type="bullet">
/// <item>Size: a picture whose larger side is under <see cref="TargetSide"/> pixels is enlarged by the whole factor
/// <see cref="ScaleFor"/> = ⌈512 / larger side⌉ with nearest-neighbour pixels (a 128×128 scene becomes 512×512, a 28×28
/// picture 532×532), so the tags' text is readable; larger pictures keep their size.</item>
/// <item>Lines: the outline is 2 pixels wide up to a 512-pixel drawing and grows with it (4 at 1024), drawn inside the
/// box's edges; the tag's text is 14 pixels high up to 512 and grows alike.</item>
/// <item>Colours: class k has <see cref="SegmentationOverlay.Colours"/>[k mod 12], as segmentation's class k + 1.</item>
/// </list>
/// </summary>
public static class DetectionOverlay
{
    /// <summary>Smaller pictures are enlarged until their larger side reaches this.</summary>
    public const int TargetSide = 512;

    /// <summary>The colour of class <paramref name="classIndex"/>'s boxes and tags.</summary>
    public static SKColor ColourOf(int classIndex) => SegmentationOverlay.Colours[classIndex % SegmentationOverlay.Colours.Count];

    /// <summary>The whole factor a <paramref name="height"/> × <paramref name="width"/> picture is enlarged by: ⌈512 / larger side⌉, at least 1.</summary>
    public static int ScaleFor(int height, int width) => Math.Max(1, (int)Math.Ceiling((double)TargetSide / Math.Max(height, width)));

    /// <summary>
    /// Draws <paramref name="detections"/> (boxes xyxy in pixels of <paramref name="picture"/>) over the picture
    /// (1 or 3, H, W) in [0, 1], enlarged by <see cref="ScaleFor"/>; a detection's class indexes <paramref name="classes"/>.
    /// </summary>
    /// <param name="tag">the text of a detection's tag (default "class 0.87"); boxes are still drawn by increasing score</param>
    public static SKBitmap Draw(Tensor picture, IReadOnlyList<DetectedObject> detections, IReadOnlyList<string> classes, Func<DetectedObject, string>? tag = null)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(classes);
        if (picture.Rank != 3 || picture.Shape[0] is not (1 or 3))
            throw new ArgumentException($"DetectionOverlay: expected a picture (1 or 3, H, W), got [{string.Join(", ", picture.Shape)}].", nameof(picture));
        foreach (var d in detections)
            if (d.Class < 0 || d.Class >= classes.Count)
                throw new ArgumentException($"DetectionOverlay: detection class {d.Class} is not one of the {classes.Count} classes.", nameof(detections));
        int channels = picture.Shape[0], height = picture.Shape[1], width = picture.Shape[2], plane = height * width;
        int scale = ScaleFor(height, width), outputHeight = height * scale, outputWidth = width * scale;
        float grow = Math.Max(1f, Math.Max(outputHeight, outputWidth) / (float)TargetSide);
        float lineWidth = MathF.Round(2 * grow), fontSize = MathF.Round(14 * grow), padding = MathF.Round(2 * grow);

        var pixels = picture.ToArray();
        using var rgb = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int i = 0; i < plane; i++)
        {
            byte r = Byte(pixels[i]), g = channels == 1 ? r : Byte(pixels[plane + i]), b = channels == 1 ? r : Byte(pixels[2 * plane + i]);
            rgb.SetPixel(i % width, i / width, new SKColor(r, g, b));
        }

        var result = new SKBitmap(new SKImageInfo(outputWidth, outputHeight, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(result);
        using (var image = SKImage.FromBitmap(rgb))
            canvas.DrawImage(image, new SKRect(0, 0, outputWidth, outputHeight), new SKSamplingOptions(SKFilterMode.Nearest));
        using var font = new SKFont(SKTypeface.Default, fontSize);
        font.GetFontMetrics(out var metrics);
        float textHeight = metrics.Descent - metrics.Ascent;
        // Lowest score first, so the most confident boxes and tags end on top.
        foreach (var d in detections.OrderBy(d => d.Score))
        {
            var colour = ColourOf(d.Class);
            var box = new SKRect(Clamp(d.X1 * scale, outputWidth), Clamp(d.Y1 * scale, outputHeight), Clamp(d.X2 * scale, outputWidth), Clamp(d.Y2 * scale, outputHeight));
            using var outline = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = lineWidth, IsAntialias = false };
            float inset = lineWidth / 2;
            canvas.DrawRect(new SKRect(box.Left + inset, box.Top + inset, Math.Max(box.Left + inset, box.Right - inset), Math.Max(box.Top + inset, box.Bottom - inset)), outline);

            string label = tag?.Invoke(d) ?? $"{classes[d.Class]} {d.Score.ToString("0.00", CultureInfo.InvariantCulture)}";
            float tagWidth = font.MeasureText(label) + 2 * padding, tagHeight = textHeight + 2 * padding;
            // Above the box where there is room, else just inside its top; always inside the picture.
            float left = Math.Clamp(box.Left, 0, Math.Max(0, outputWidth - tagWidth));
            float top = box.Top - tagHeight >= 0 ? box.Top - tagHeight : Math.Clamp(box.Top, 0, Math.Max(0, outputHeight - tagHeight));
            using var fill = new SKPaint { Color = colour, Style = SKPaintStyle.Fill };
            canvas.DrawRect(new SKRect(left, top, left + tagWidth, top + tagHeight), fill);
            using var text = new SKPaint { Color = Luminance(colour) > 150 ? SKColors.Black : SKColors.White, IsAntialias = true };
            canvas.DrawText(label, left + padding, top + padding - metrics.Ascent, font, text);
        }
        return result;
    }

    /// <summary>Draws as <see cref="Draw"/> and writes <paramref name="path"/> in the format its extension names (see <see cref="ImageFiles.Save(Tensor, string)"/>).</summary>
    public static void Save(Tensor picture, IReadOnlyList<DetectedObject> detections, IReadOnlyList<string> classes, string path)
    {
        using var bitmap = Draw(picture, detections, classes);
        using var image = SKImage.FromBitmap(bitmap);
        ImageFiles.Save(image, path);
    }

    static float Clamp(float value, int size) => float.IsNaN(value) ? 0 : Math.Clamp(value, 0, size);

    static double Luminance(SKColor c) => 0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue;

    static byte Byte(float value) => (byte)MathF.Round(Math.Clamp(value, 0f, 1f) * 255f);
}
