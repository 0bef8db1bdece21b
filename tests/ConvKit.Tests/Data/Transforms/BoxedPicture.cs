using ConvKit.Data;

namespace ConvKit.Tests.Data.Transforms;

/// <summary>
/// Test pictures for geometric transforms: a black RGB picture with filled white rectangles whose pixel extents are
/// the sample's boxes and whose pixels the mask labels; after a transform the moved boxes are drawn and compared with
/// the moved white pixels and the moved mask.
/// </summary>
static class BoxedPicture
{
    /// <summary>A 3×48×64 picture (or the given size) with a white rectangle per (x1, y1, x2, y2, label), xyxy pixels, x2 and y2 exclusive.</summary>
    public static Sample Make((int X1, int Y1, int X2, int Y2, int Label)[] rectangles, int height = 48, int width = 64,
        BoxFormat format = BoxFormat.Xyxy, bool relative = false)
    {
        var image = new float[3 * height * width];
        var mask = new float[height * width];
        foreach (var (x1, y1, x2, y2, label) in rectangles)
            for (int y = y1; y < y2; y++)
                for (int x = x1; x < x2; x++)
                {
                    for (int c = 0; c < 3; c++) image[(c * height + y) * width + x] = 1;
                    mask[y * width + x] = label;
                }
        var boxes = new BoundingBoxes(rectangles.SelectMany(r => new float[] { r.X1, r.Y1, r.X2, r.Y2 }).ToArray(),
            rectangles.Select(r => r.Label).ToArray(), BoxFormat.Xyxy, height, width).ConvertTo(format, relative);
        return new Sample(Tensor.FromArray(image, 3, height, width)) { Boxes = boxes, Mask = Tensor.FromArray(mask, height, width), Label = 7 };
    }

    public static readonly (int, int, int, int, int)[] TwoRectangles = [(5, 8, 21, 20, 1), (36, 24, 58, 43, 2)];

    /// <summary>
    /// Draws the sample's boxes and checks, for every pixel whose centre lies more than <paramref name="tolerance"/>
    /// pixels inside a box, that it is white and labelled with the box's class, and for every pixel whose centre lies
    /// more than <paramref name="tolerance"/> outside all boxes, that it is dark and labelled background or ignore.
    /// With tolerance 0 that is every pixel. Returns the number of pixels found inside each box.
    /// </summary>
    public static int[] AssertBoxesMatchPixels(Sample sample, float tolerance)
    {
        Assert.NotNull(sample.Boxes);
        Assert.NotNull(sample.Mask);
        sample.Validate("test");
        var boxes = sample.Boxes!.ConvertTo(BoxFormat.Xyxy, relative: false);
        int height = sample.Height, width = sample.Width, plane = height * width;
        var image = sample.Image.ToArray();
        var mask = sample.Mask!.ToArray();
        var inside = new int[boxes.Count];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                float cx = x + 0.5f, cy = y + 0.5f;
                float brightness = (image[y * width + x] + image[plane + y * width + x] + image[2 * plane + y * width + x]) / 3;
                float label = mask[y * width + x];
                bool outsideAll = true;
                for (int b = 0; b < boxes.Count; b++)
                {
                    var box = boxes[b];
                    float depth = Math.Min(Math.Min(cx - box[0], box[2] - cx), Math.Min(cy - box[1], box[3] - cy));
                    if (depth > tolerance)
                    {
                        inside[b]++;
                        Assert.True(brightness > 0.5f, $"pixel ({x}, {y}) inside box {b} [{string.Join(", ", box.ToArray())}] is dark ({brightness})");
                        Assert.True(label == boxes.Labels[b], $"pixel ({x}, {y}) inside box {b} is labelled {label}, not {boxes.Labels[b]}");
                    }
                    if (depth >= -tolerance) outsideAll = false;
                }
                if (outsideAll)
                {
                    Assert.True(brightness < 0.5f, $"pixel ({x}, {y}) outside every box is white ({brightness})");
                    Assert.True(label is 0 or Sample.IgnoreIndex, $"pixel ({x}, {y}) outside every box is labelled {label}");
                }
            }
        return inside;
    }

    public static void AssertSame(Sample expected, Sample actual)
    {
        Assert.Equal(expected.Image.Shape, actual.Image.Shape);
        Assert.Equal(expected.Image.ToArray(), actual.Image.ToArray());
        Assert.Equal(expected.Mask!.ToArray(), actual.Mask!.ToArray());
        Assert.Equal(expected.Boxes!.Coordinates.ToArray(), actual.Boxes!.Coordinates.ToArray());
        Assert.Equal(expected.Boxes.Labels.ToArray(), actual.Boxes.Labels.ToArray());
    }
}
