using ConvKit.IO;
using SkiaSharp;

namespace ConvKit.Vision.Imaging;

/// <summary>
/// Image files ↔ tensors, through SkiaSharp (PNG, JPEG, BMP, GIF, WebP, ...). Images are (C, H, W) float tensors
/// with values in [0, 1], as torchvision's ToTensor gives; C is 1 (grey) or 3 (RGB).
/// </summary>
public static class ImageFiles
{
    /// <summary>Extensions <see cref="Data.ImageFolderDataset"/> picks up (case-insensitive).</summary>
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>([".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Decodes <paramref name="path"/> into a (C, H, W) tensor: grey for 1 channel (ITU-R 601 luma, rounded exactly as
    /// PIL's convert("L")), RGB for 3 (alpha dropped); resized with bilinear filtering when a size is given.
    /// A missing file throws <see cref="FileNotFoundException"/>, an undecodable one <see cref="InvalidDataException"/>.
    /// </summary>
    public static Tensor Load(string path, int channels = 3, Size2? size = null)
    {
        using var bitmap = Decode(path, size);
        return ToTensor(bitmap, channels);
    }

    /// <summary>
    /// A decoded picture as a (C, H, W) tensor, converted as <see cref="Load"/> converts a file; any colour type is
    /// accepted (it is read as unpremultiplied RGBA).
    /// </summary>
    public static Tensor ToTensor(SKBitmap bitmap, int channels = 3, Size2? size = null)
    {
        var values = Pixels(bitmap, channels, size, out var height, out var width);
        return Tensor.FromArray(values, channels, height, width);
    }

    /// <summary>The values of <see cref="ToTensor"/>, C·H·W of them, with the height and width.</summary>
    internal static float[] Pixels(SKBitmap bitmap, int channels, Size2? size, out int height, out int width)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "images have 1 (grey) or 3 (RGB) channels.");
        var rgba = AsRgba(bitmap);
        var resized = size is { } target ? Resize(rgba, target, "the picture") : rgba;
        try
        {
            (height, width) = (resized.Height, resized.Width);
            var values = new float[channels * height * width];
            ToChannels(resized, channels, values);
            return values;
        }
        finally
        {
            if (resized != rgba) resized.Dispose();
            if (rgba != bitmap) rgba.Dispose();
        }
    }

    /// <summary>Decodes and (when <paramref name="size"/> is given) resizes into RGBA bytes.</summary>
    internal static SKBitmap Decode(string path, Size2? size)
    {
        InputFiles.Require(path, "image");
        using var codec = SKCodec.Create(path);
        return Decode(codec, $"'{path}'", size);
    }

    /// <summary>Decodes encoded bytes (PNG, JPEG, ...) into RGBA; <paramref name="source"/> names them in messages.</summary>
    internal static SKBitmap Decode(ReadOnlySpan<byte> encoded, string source, Size2? size)
    {
        if (encoded.IsEmpty) throw new InvalidDataException($"cannot read image {source}: it is empty.");
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        return Decode(codec, source, size);
    }

    static SKBitmap Decode(SKCodec? codec, string source, Size2? size)
    {
        if (codec == null) throw new InvalidDataException($"cannot read image {source}: not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        // SKBitmap.Decode would return a half-grey picture for a truncated file; PIL refuses it ("image file is truncated"), so do we.
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidDataException($"cannot decode image {source}: its data is " + (result == SKCodecResult.IncompleteInput ? "truncated." : $"corrupt ({result})."));
        }
        if (size is not { } target) return bitmap;
        var resized = Resize(bitmap, target, source);
        if (resized != bitmap) bitmap.Dispose();
        return resized;
    }

    /// <summary>A new RGBA bitmap of <paramref name="size"/> (bilinear, with mipmaps when shrinking), or <paramref name="rgba"/> itself when its size is right.</summary>
    static SKBitmap Resize(SKBitmap rgba, Size2 size, string source)
    {
        if (size.Height == rgba.Height && size.Width == rgba.Width) return rgba;
        return rgba.Resize(rgba.Info.WithSize(size.Width, size.Height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
            ?? throw new InvalidDataException($"cannot resize image {source} to {size.Height}×{size.Width}.");
    }

    /// <summary><paramref name="bitmap"/> itself when it is tightly packed unpremultiplied RGBA, else a converted copy.</summary>
    static SKBitmap AsRgba(SKBitmap bitmap)
    {
        if (bitmap.ColorType == SKColorType.Rgba8888 && bitmap.AlphaType is SKAlphaType.Unpremul or SKAlphaType.Opaque && bitmap.RowBytes == 4 * bitmap.Width)
            return bitmap;
        var converted = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using var pixels = bitmap.PeekPixels();
        if (pixels == null || !pixels.ReadPixels(converted.Info, converted.GetPixels(), converted.RowBytes))
        {
            converted.Dispose();
            throw new ArgumentException($"cannot read the pixels of a {bitmap.ColorType} bitmap as RGBA.", nameof(bitmap));
        }
        return converted;
    }

    /// <summary>
    /// Writes an RGBA bitmap's pixels as C planes of values in [0, 1]. Grey is PIL's convert("L") to the bit:
    /// L = R·299/1000 + G·587/1000 + B·114/1000 in 16-bit fixed point, rounded, (R·19595 + G·38470 + B·7471 + 2¹⁵) >> 16,
    /// so pure yellow (255, 255, 0) is 226, not the 225 that truncating gives.
    /// </summary>
    internal static void ToChannels(SKBitmap bitmap, int channels, Span<float> destination)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "images have 1 (grey) or 3 (RGB) channels.");
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        int plane = bitmap.Width * bitmap.Height;
        for (int i = 0; i < plane; i++)
        {
            byte r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            if (channels == 1) destination[i] = Luma(r, g, b) / 255f;
            else
            {
                destination[i] = r / 255f;
                destination[plane + i] = g / 255f;
                destination[2 * plane + i] = b / 255f;
            }
        }
    }

    /// <summary>ITU-R 601 luma of an RGB pixel, rounded as PIL's convert("L") rounds it.</summary>
    internal static byte Luma(byte r, byte g, byte b) => (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);

    /// <summary>
    /// Writes <paramref name="image"/> (C, H, W) or (H, W), values in [0, 1] (clamped), as a grey or RGB picture in the
    /// format the file name's extension asks for: .png, .jpg or .jpeg (JPEG, quality 95), .webp. Another extension is
    /// refused before anything is written; a folder named as the file is refused in words; missing folders are created.
    /// </summary>
    public static void Save(Tensor image, string path)
    {
        PrepareToSave(path);
        Write(image, path, FormatOf(path), "Save");
    }

    /// <summary>Writes <paramref name="image"/> (C, H, W) or (H, W), values in [0, 1] (clamped), as a grey or RGB PNG, whatever the file's extension.</summary>
    public static void SavePng(Tensor image, string path) => Write(image, path, SKEncodedImageFormat.Png, "SavePng");

    /// <summary>Writes a drawn picture (an overlay, a chart) in the format <paramref name="path"/>'s extension asks for, as <see cref="Save(Tensor, string)"/> does.</summary>
    public static void Save(SKImage picture, string path)
    {
        ArgumentNullException.ThrowIfNull(picture);
        PrepareToSave(path);
        var format = FormatOf(path);
        using var data = picture.Encode(format, Quality(format))
            ?? throw new InvalidOperationException($"Save: SkiaSharp could not encode '{path}'.");
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    /// <summary>
    /// Checks, before a long computation, that <see cref="Save(Tensor, string)"/> can write <paramref name="path"/>: its
    /// extension names a format ConvKit writes and it is not a folder (missing folders are created now).
    /// </summary>
    public static void PrepareToSave(string path)
    {
        OutputFiles.Prepare(path, "picture", "picture.png");
        FormatOf(path);
    }

    /// <summary>The encoder a picture file's extension asks for: PNG, JPEG or WebP; other extensions throw, naming the file.</summary>
    public static SKEncodedImageFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => SKEncodedImageFormat.Png,
        ".jpg" or ".jpeg" => SKEncodedImageFormat.Jpeg,
        ".webp" => SKEncodedImageFormat.Webp,
        var other => throw new ArgumentException($"cannot write the picture '{path}': " +
            (other.Length == 0 ? "its name has no extension" : $"'{other}' is not a format ConvKit writes") + "; end its name in .png, .jpg or .webp."),
    };

    // PNG is lossless whatever the number; 95 keeps JPEG and WebP close to the pixels, as image tools' "high quality" does.
    static int Quality(SKEncodedImageFormat format) => format == SKEncodedImageFormat.Png ? 100 : 95;

    static void Write(Tensor image, string path, SKEncodedImageFormat format, string caller)
    {
        var shape = image.Shape;
        int channels = shape.Count == 2 ? 1 : shape.Count == 3 ? shape[0] : 0;
        if (channels is not (1 or 3))
            throw new ArgumentException($"{caller}: expected an image of shape (1 or 3, H, W) or (H, W), got [{string.Join(", ", shape)}].");
        int height = shape[^2], width = shape[^1], plane = height * width;
        var values = image.ToArray();
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = bitmap.GetPixelSpan();
        static byte Byte(float value) => (byte)MathF.Round(Math.Clamp(value, 0f, 1f) * 255f);
        for (int i = 0; i < plane; i++)
        {
            rgba[4 * i] = Byte(values[i]);
            rgba[4 * i + 1] = Byte(values[channels == 1 ? i : plane + i]);
            rgba[4 * i + 2] = Byte(values[channels == 1 ? i : 2 * plane + i]);
            rgba[4 * i + 3] = 255;
        }
        OutputFiles.Prepare(path, "picture", "picture.png");
        using var data = bitmap.Encode(format, Quality(format))
            ?? throw new InvalidOperationException($"{caller}: SkiaSharp could not encode '{path}'.");
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
