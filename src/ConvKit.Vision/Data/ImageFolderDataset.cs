using ConvKit.Data;
using ConvKit.Vision.Imaging;

namespace ConvKit.Vision.Data;

/// <summary>
/// Your own pictures as a dataset, as torchvision's ImageFolder: <c>root/cat/1.jpg, root/dog/a.png, ...</c> — one
/// subfolder per class (classes sorted by name), every PNG/JPEG/BMP/GIF/WebP inside it a sample. Images are decoded
/// with SkiaSharp when first read, converted to the requested channels and resized to the given size,
/// then kept in memory as bytes, so later epochs do not decode again.
/// </summary>
public sealed class ImageFolderDataset : Dataset
{
    readonly (string Path, int Label)[] samples;
    readonly byte[]?[] cache;
    readonly int[] sampleShape;
    readonly string[] classes;

    /// <param name="root">the folder of class subfolders</param>
    /// <param name="channels">1 (grey) or 3 (RGB)</param>
    /// <param name="size">every image is resized to this (height, width)</param>
    public ImageFolderDataset(string root, int channels = 3, Size2? size = null)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "ImageFolderDataset: channels must be 1 or 3.");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder '{root}' does not exist.");
        classes = Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        if (classes.Length == 0)
            throw new InvalidDataException($"image folder '{root}' has no subfolders; put each class's images in a subfolder named after the class.");
        samples = classes.SelectMany((name, label) => Directory.EnumerateFiles(Path.Combine(root, name))
                .Where(file => ImageFiles.Extensions.Contains(Path.GetExtension(file)))
                .Order(StringComparer.Ordinal).Select(file => (file, label)))
            .ToArray();
        var empty = classes.Where((_, label) => !samples.Any(s => s.Label == label)).ToList();
        if (empty.Count > 0)
            throw new InvalidDataException($"image folder '{root}': no images in {string.Join(", ", empty.Select(c => $"'{c}'"))} (expected {string.Join("/", ImageFiles.Extensions)} files).");
        var target = size ?? new Size2(64, 64);
        Root = root;
        sampleShape = [channels, target.Height, target.Width];
        cache = new byte[]?[samples.Length];
    }

    /// <summary>The folder read, with one subfolder per class.</summary>
    public string Root { get; }
    /// <inheritdoc/>
    public override int Count => samples.Length;
    /// <inheritdoc/>
    public override IReadOnlyList<int> SampleShape => sampleShape;
    /// <inheritdoc/>
    public override IReadOnlyList<string> Classes => classes;

    /// <summary>The file of sample <paramref name="index"/>.</summary>
    public string PathOf(int index)
    {
        CheckIndex(index);
        return samples[index].Path;
    }

    /// <inheritdoc/>
    public override int Label(int index)
    {
        CheckIndex(index);
        return samples[index].Label;
    }

    /// <inheritdoc/>
    public override void ReadImage(int index, Span<float> destination)
    {
        CheckIndex(index);
        var pixels = cache[index] ??= DecodeBytes(samples[index].Path);
        for (int i = 0; i < pixels.Length; i++) destination[i] = pixels[i] / 255f;
    }

    byte[] DecodeBytes(string path)
    {
        using var bitmap = ImageFiles.Decode(path, new Size2(sampleShape[1], sampleShape[2]));
        var values = new float[SampleLength];
        ImageFiles.ToChannels(bitmap, sampleShape[0], values);
        return values.Select(v => (byte)MathF.Round(v * 255f)).ToArray();
    }
}
