using System.Buffers;

namespace ConvKit.Data.Transforms;

/// <summary>
/// Pads the image with <see cref="Padding"/> zeros on every side and cuts out a window of the original size at a
/// random position — torchvision's RandomCrop(size, padding) with size equal to the image's own, the usual
/// augmentation for small images (a shift of up to <see cref="Padding"/> pixels in each direction).
/// </summary>
public sealed class RandomCrop : ITransform
{
    public RandomCrop(int padding)
    {
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"RandomCrop: padding must be ≥ 0, not {padding}.");
        Padding = padding;
    }

    public int Padding { get; }

    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        int channels = shape[0], height = shape[1], width = shape[2];
        // The window's top-left corner in padded coordinates is (top, left); the image moves by (Padding − top, Padding − left).
        int shiftY = Padding - random.Next(2 * Padding + 1), shiftX = Padding - random.Next(2 * Padding + 1);
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
}
