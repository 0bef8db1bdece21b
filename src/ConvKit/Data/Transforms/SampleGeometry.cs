using ConvKit.Ops;

namespace ConvKit.Data.Transforms;

/// <summary>
/// The two moves every geometric transform is made of — cut a window (which pads where it leaves the picture) and
/// resize — applied to the image, the mask and the boxes of a sample together. Boxes keep their declared format.
/// </summary>
static class SampleGeometry
{
    /// <summary>
    /// The <paramref name="height"/> × <paramref name="width"/> window whose top-left corner is at (<paramref name="top"/>,
    /// <paramref name="left"/>) of the picture; either may be negative and the window may reach past the picture, where
    /// the image gets <paramref name="fill"/> and the mask <paramref name="maskFill"/>. Pixel (y, x) of the result is
    /// pixel (y + top, x + left) of the input, so the boxes move by (−left, −top).
    /// </summary>
    public static Sample Crop(Sample sample, int top, int left, int height, int width, float fill, float maskFill) => sample with
    {
        Image = Window(sample.Image, top, left, height, width, fill),
        Mask = sample.Mask is { } mask ? Window(mask, top, left, height, width, maskFill) : null,
        Boxes = sample.Boxes is { } boxes ? Move(boxes, 1, 1, -left, -top, height, width) : null,
    };

    /// <summary>
    /// The sample resized to <paramref name="height"/> × <paramref name="width"/>: the image bilinearly (torch's
    /// interpolate, align_corners=False, no antialiasing), the mask by nearest neighbour (so class indices stay whole),
    /// the boxes scaled.
    /// </summary>
    public static Sample Resize(Sample sample, int height, int width)
    {
        if (sample.Height == height && sample.Width == width) return sample;
        float scaleX = width / (float)sample.Width, scaleY = height / (float)sample.Height;
        return sample with
        {
            Image = Interpolate(sample.Image, height, width, UpsampleMode.Bilinear),
            Mask = sample.Mask is { } mask ? Interpolate(mask, height, width, UpsampleMode.Nearest) : null,
            Boxes = sample.Boxes is { } boxes ? Move(boxes, scaleX, scaleY, 0, 0, height, width) : null,
        };
    }

    /// <summary>
    /// <see cref="BoundingBoxes.Transform"/> (x' = x·scaleX + offsetX, clipped, empty boxes dropped), returned in the
    /// boxes' own format, pixels or relative as they were, on the new canvas.
    /// </summary>
    public static BoundingBoxes Move(BoundingBoxes boxes, float scaleX, float scaleY, float offsetX, float offsetY, int height, int width) =>
        boxes.Transform(scaleX, scaleY, offsetX, offsetY, height, width).ConvertTo(boxes.Format, boxes.Relative);

    /// <param name="planes">(C, H, W) or (H, W)</param>
    /// <returns>(C, height, width) or (height, width)</returns>
    static Tensor Window(Tensor planes, int top, int left, int height, int width, float fill)
    {
        var shape = planes.Shape;
        int rows = shape[^2], columns = shape[^1], count = planes.Numel / (rows * columns);
        var input = planes.ToArray();
        var output = new float[count * height * width];
        Array.Fill(output, fill);
        // The rows and columns of the window that lie on the picture.
        int fromY = Math.Max(0, -top), toY = Math.Min(height, rows - top);
        int fromX = Math.Max(0, -left), toX = Math.Min(width, columns - left);
        for (int p = 0; p < count; p++)
            for (int y = fromY; y < toY && fromX < toX; y++)
                input.AsSpan((p * rows + y + top) * columns + fromX + left, toX - fromX)
                    .CopyTo(output.AsSpan((p * height + y) * width + fromX));
        return Tensor.FromArray(output, [.. shape.SkipLast(2), height, width]);
    }

    /// <param name="planes">(C, H, W) or (H, W)</param>
    /// <returns>(C, height, width) or (height, width)</returns>
    static Tensor Interpolate(Tensor planes, int height, int width, UpsampleMode mode)
    {
        var shape = planes.Shape;
        int rows = shape[^2], columns = shape[^1], count = planes.Numel / (rows * columns);
        using (Tensor.NoGrad())
        {
            var resized = F.Upsample(planes.Reshape(1, count, rows, columns), size: new Size2(height, width), mode: mode);
            return Tensor.FromArray(resized.ToArray(), [.. shape.SkipLast(2), height, width]);
        }
    }
}
