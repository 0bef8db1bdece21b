using System.Globalization;
using SkiaSharp;

namespace ConvKit.Vision.Data;

/// <summary>The checks every annotation reader makes, with messages that name the file and the entry.</summary>
static class AnnotationChecks
{
    /// <summary>How far, in pixels, a box may reach past the picture's edge (it is then clipped to it); annotation tools round.</summary>
    public const float Tolerance = 1;

    /// <summary>
    /// Checks a box in xyxy pixels against a <paramref name="width"/> × <paramref name="height"/> picture and returns it
    /// clipped to the picture. <paramref name="where"/> names the file and the entry ("COCO annotations 'x.json':
    /// annotations[3] (id 7)").
    /// </summary>
    public static (float X1, float Y1, float X2, float Y2) Box(double x1, double y1, double x2, double y2, int width, int height, string where)
    {
        string box = $"[{Format(x1)}, {Format(y1)}, {Format(x2)}, {Format(y2)}] (xyxy pixels)";
        if (!(x2 > x1) || !(y2 > y1))
            throw new InvalidDataException($"{where}: the box {box} has zero or negative {(!(x2 > x1) ? "width" : "height")}.");
        if (x1 < -Tolerance || y1 < -Tolerance || x2 > width + Tolerance || y2 > height + Tolerance)
            throw new InvalidDataException($"{where}: the box {box} reaches outside the {width}×{height} (width×height) picture.");
        return ((float)Math.Max(x1, 0), (float)Math.Max(y1, 0), (float)Math.Min(x2, width), (float)Math.Min(y2, height));
    }

    /// <summary>The picture file <paramref name="fileName"/> in <paramref name="directory"/>, which must exist.</summary>
    public static string ImageFile(string directory, string fileName, string where)
    {
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{where}: the picture '{path}' does not exist.", path);
        return path;
    }

    /// <summary>A picture's (height, width), read from its header without decoding its pixels.</summary>
    public static (int Height, int Width) ImageSize(string path, string where)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{where}: the picture '{path}' does not exist.", path);
        using var codec = SKCodec.Create(path)
            ?? throw new InvalidDataException($"{where}: cannot read the picture '{path}': not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt.");
        return (codec.Info.Height, codec.Info.Width);
    }

    /// <summary>A number in invariant culture, or a message naming the entry.</summary>
    public static double Number(string text, string what, string where) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value
            : throw new InvalidDataException($"{where}: {what} '{text}' is not a number.");

    /// <summary>A positive picture size.</summary>
    public static int Size(double value, string what, string where) =>
        value >= 1 && value <= int.MaxValue && value == Math.Floor(value) ? (int)value
            : throw new InvalidDataException($"{where}: the picture's {what} {Format(value)} is not a positive whole number.");

    public static void CheckDirectory(string directory, string what)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"the {what} folder '{directory}' does not exist.");
    }

    public static void CheckChannels(int channels, string reader)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, $"{reader}: channels must be 1 or 3.");
    }

    static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
