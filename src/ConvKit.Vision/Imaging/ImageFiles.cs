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
    /// Decodes <paramref name="path"/> into a (C, H, W) tensor: grey for 1 channel (ITU-R 601 luma, as PIL's
    /// convert("L")), RGB for 3 (alpha dropped); resized with bilinear filtering when a size is given.
    /// A missing file throws <see cref="FileNotFoundException"/>, an undecodable one <see cref="InvalidDataException"/>.
    /// </summary>
    public static Tensor Load(string path, int channels = 3, Size2? size = null)
    {
        using var bitmap = Decode(path, size);
        var values = new float[channels * bitmap.Height * bitmap.Width];
        ToChannels(bitmap, channels, values);
        return Tensor.FromArray(values, channels, bitmap.Height, bitmap.Width);
    }

    /// <summary>Decodes and (when <paramref name="size"/> is given) resizes into RGBA bytes.</summary>
    internal static SKBitmap Decode(string path, Size2? size)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"image '{path}' does not exist.", path);
        using var codec = SKCodec.Create(path)
            ?? throw new InvalidDataException($"cannot read image '{path}': not a PNG, JPEG, BMP, GIF or WebP file, or it is corrupt.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = SKBitmap.Decode(codec, info)
            ?? throw new InvalidDataException($"cannot decode image '{path}': its data is corrupt or truncated.");
        if (size is not { } target || (target.Height == bitmap.Height && target.Width == bitmap.Width)) return bitmap;
        using (bitmap)
        {
            return bitmap.Resize(info.WithSize(target.Width, target.Height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                ?? throw new InvalidDataException($"cannot resize image '{path}' to {target.Height}×{target.Width}.");
        }
    }

    /// <summary>Writes an RGBA bitmap's pixels as C planes of values in [0, 1].</summary>
    internal static void ToChannels(SKBitmap bitmap, int channels, Span<float> destination)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "images have 1 (grey) or 3 (RGB) channels.");
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        int plane = bitmap.Width * bitmap.Height;
        for (int i = 0; i < plane; i++)
        {
            byte r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
            if (channels == 1) destination[i] = (r * 299 + g * 587 + b * 114) / 1000 / 255f;
            else
            {
                destination[i] = r / 255f;
                destination[plane + i] = g / 255f;
                destination[2 * plane + i] = b / 255f;
            }
        }
    }

    /// <summary>Writes <paramref name="image"/> (C, H, W) or (H, W), values in [0, 1] (clamped), as a grey or RGB PNG.</summary>
    public static void SavePng(Tensor image, string path)
    {
        var shape = image.Shape;
        int channels = shape.Count == 2 ? 1 : shape.Count == 3 ? shape[0] : 0;
        if (channels is not (1 or 3))
            throw new ArgumentException($"SavePng: expected an image of shape (1 or 3, H, W) or (H, W), got [{string.Join(", ", shape)}].");
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
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SavePng: SkiaSharp could not encode '{path}'.");
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
