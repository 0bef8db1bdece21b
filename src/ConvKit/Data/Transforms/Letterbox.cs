namespace ConvKit.Data.Transforms;

/// <summary>
/// YOLO's letterbox: resizes the picture, keeping its aspect ratio, so that its longer side is <see cref="Size"/>, and
/// centres it on a <see cref="Size"/> × <see cref="Size"/> square filled with <see cref="Fill"/> (YOLOv5's grey
/// 114/255 by default). The image is resized bilinearly and the mask by nearest neighbour (as <see cref="Resize"/>);
/// the mask's padding gets <see cref="MaskFill"/>; the boxes are scaled and shifted (their format kept).
/// <see cref="Place"/> gives the scale and offsets, to map predictions back onto the original picture.
/// </summary>
public sealed class Letterbox : ISampleTransform
{
    /// <param name="size">the side of the square output</param>
    /// <param name="fill">the image value of the padding, in [0, 1]</param>
    /// <param name="maskFill">the mask value of the padding: <see cref="Sample.IgnoreIndex"/> by default; 0 makes it background</param>
    public Letterbox(int size, float fill = 114f / 255f, int maskFill = Sample.IgnoreIndex)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, $"Letterbox: the size must be positive, not {size}.");
        if (!float.IsFinite(fill)) throw new ArgumentOutOfRangeException(nameof(fill), fill, "Letterbox: the fill must be a finite number.");
        Size = size;
        Fill = fill;
        MaskFill = maskFill;
    }

    /// <summary>The side of the square output.</summary>
    public int Size { get; }
    /// <summary>The image value of the padding.</summary>
    public float Fill { get; }
    /// <summary>The mask value of the padding.</summary>
    public int MaskFill { get; }

    /// <summary>
    /// Where a <paramref name="height"/> × <paramref name="width"/> picture lands: resized to
    /// <c>round(height·Size/longer)</c> × <c>round(width·Size/longer)</c> (at least 1) with its top-left corner at
    /// (Top, Left) — the odd pixel of padding goes to the bottom and right. A point moves by x' = x·ScaleX + Left,
    /// y' = y·ScaleY + Top.
    /// </summary>
    public (int ResizedHeight, int ResizedWidth, int Top, int Left, float ScaleY, float ScaleX) Place(int height, int width)
    {
        double scale = (double)Size / Math.Max(height, width);
        int resizedHeight = Math.Clamp((int)Math.Round(height * scale), 1, Size);
        int resizedWidth = Math.Clamp((int)Math.Round(width * scale), 1, Size);
        return (resizedHeight, resizedWidth, (Size - resizedHeight) / 2, (Size - resizedWidth) / 2,
            resizedHeight / (float)height, resizedWidth / (float)width);
    }

    /// <summary>The letterboxed sample: image (C, Size, Size), mask (Size, Size).</summary>
    public Sample Apply(Sample sample, Random random)
    {
        sample.Validate(nameof(Letterbox));
        var (resizedHeight, resizedWidth, top, left, _, _) = Place(sample.Height, sample.Width);
        var resized = SampleGeometry.Resize(sample, resizedHeight, resizedWidth);
        return SampleGeometry.Crop(resized, -top, -left, Size, Size, Fill, MaskFill);
    }
}
