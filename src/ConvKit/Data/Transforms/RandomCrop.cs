using System.Buffers;

namespace ConvKit.Data.Transforms;

/// <summary>
/// Pads the image with <see cref="Padding"/> zeros on every side and cuts out a window of the original size at a
/// random position — torchvision's RandomCrop(size, padding) with size equal to the image's own, the usual
/// augmentation for small images (a shift of up to <see cref="Padding"/> pixels in each direction). On a whole
/// sample the mask and the boxes shift with the pixels (same draw); the mask's uncovered pixels get
/// <see cref="MaskFill"/>, and boxes are clipped to the picture (those shifted out of it entirely are dropped).
/// </summary>
public sealed class RandomCrop : ITransform
{
    /// <param name="padding">the largest shift, in pixels, in each direction</param>
    /// <param name="maskFill">the mask value of pixels shifted in from outside: <see cref="Sample.IgnoreIndex"/> (255,
    /// so the loss skips them) by default; 0 makes them background</param>
    public RandomCrop(int padding, int maskFill = Sample.IgnoreIndex)
    {
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"RandomCrop: padding must be ≥ 0, not {padding}.");
        Padding = padding;
        MaskFill = maskFill;
    }

    /// <summary>The largest shift, in pixels, in each direction.</summary>
    public int Padding { get; }
    /// <summary>The mask value of pixels shifted in from outside.</summary>
    public int MaskFill { get; }

    /// <summary>The window's top-left corner in padded coordinates is (top, left); the picture moves by (Padding − top, Padding − left).</summary>
    (int ShiftY, int ShiftX) Draw(Random random) => (Padding - random.Next(2 * Padding + 1), Padding - random.Next(2 * Padding + 1));

    /// <inheritdoc/>
    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        var (shiftY, shiftX) = Draw(random);
        if (shiftY == 0 && shiftX == 0) return;
        float[] plane = ArrayPool<float>.Shared.Rent(height * width);
        for (int c = 0; c < channels; c++)
        {
            var channel = image.Slice(c * height * width, height * width);
            channel.CopyTo(plane);
            channel.Clear();
            for (int y = Math.Max(0, shiftY); y < Math.Min(height, height + shiftY); y++)
            {
                int fromX = Math.Max(0, -shiftX), toX = Math.Max(0, shiftX), length = width - Math.Abs(shiftX);
                if (length <= 0) break;
                plane.AsSpan((y - shiftY) * width + fromX, length).CopyTo(channel.Slice(y * width + toX, length));
            }
        }
        ArrayPool<float>.Shared.Return(plane);
    }

    /// <summary>The sample shifted by the drawn offset: image padded with 0, mask with <see cref="MaskFill"/>, boxes moved and clipped (their format kept).</summary>
    public Sample Apply(Sample sample, Random random)
    {
        sample.Validate(nameof(RandomCrop));
        var (shiftY, shiftX) = Draw(random);
        if (shiftY == 0 && shiftX == 0) return sample;
        return SampleGeometry.Crop(sample, -shiftY, -shiftX, sample.Height, sample.Width, 0, MaskFill);
    }
}
