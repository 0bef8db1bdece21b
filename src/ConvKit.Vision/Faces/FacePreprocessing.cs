namespace ConvKit.Vision.Faces;

/// <summary>
/// How face-api.js feeds its networks, reproduced exactly: the picture (RGB, 0–255) is padded to a square with zeros —
/// at the bottom or right for the detector, centred for the encoder —, resized with TensorFlow's bilinear resize
/// (<c>align_corners=false</c>, <c>half_pixel_centers=false</c>: source = destination · in/out, no antialiasing; not
/// PyTorch's half-pixel bilinear), then the mean colour is subtracted and the result divided by 255.
/// </summary>
public static class FacePreprocessing
{
    /// <summary>The detector's mean RGB (0–255).</summary>
    public static readonly float[] DetectorMean = [117.001f, 114.697f, 97.404f];

    /// <summary>The encoder's mean RGB (0–255).</summary>
    public static readonly float[] EncoderMean = [122.782f, 117.001f, 104.298f];

    /// <summary>Where a picture lies in its padded square: the square's side and the padding above and left of it.</summary>
    /// <param name="Side">max(H, W)</param>
    /// <param name="Top">rows of zeros above the picture</param>
    /// <param name="Left">columns of zeros left of the picture</param>
    public readonly record struct SquarePadding(int Side, int Top, int Left)
    {
        /// <summary>
        /// The square around an <paramref name="height"/> × <paramref name="width"/> picture: anchored top-left (the
        /// detector), or centred (the encoder: of an odd difference d, round(d/2) goes after the picture, the rest before).
        /// </summary>
        public static SquarePadding For(int height, int width, bool centred)
        {
            int side = Math.Max(height, width);
            if (!centred) return new(side, 0, 0);
            int Before(int size) { int difference = side - size; return difference - (int)Math.Floor(difference / 2.0 + 0.5); }
            return new(side, Before(height), Before(width));
        }
    }

    /// <summary>
    /// The network input for <paramref name="picture"/>: padded to a square as <paramref name="padding"/> says, resized to
    /// <paramref name="size"/> × <paramref name="size"/> with TensorFlow's bilinear resize, minus <paramref name="mean"/>, / 255.
    /// </summary>
    /// <param name="picture">(3, H, W), RGB in [0, 1]</param>
    /// <param name="mean">RGB in 0–255</param>
    /// <returns>(1, 3, size, size)</returns>
    public static Tensor ToNetworkInput(Tensor picture, SquarePadding padding, int size, ReadOnlySpan<float> mean)
    {
        CheckPicture("FacePreprocessing", picture);
        int height = picture.Shape[1], width = picture.Shape[2];
        // Resized in 0–255, as face-api resizes the decoded bytes (a file's pixels are bytes / 255, so · 255 gives them back).
        var bytes = picture.ToArray();
        for (int i = 0; i < bytes.Length; i++) bytes[i] *= 255f;
        var resized = ResizePadded(bytes, 3, height, width, padding, size, size);
        int plane = size * size;
        for (int c = 0; c < 3; c++)
        {
            var channel = resized.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) channel[i] = (channel[i] - mean[c]) / 255f;
        }
        return Tensor.FromArray(resized, 1, 3, size, size);
    }

    /// <summary>
    /// TensorFlow's bilinear resize (<c>tf.image.resizeBilinear(x, size, alignCorners: false, halfPixelCenters: false)</c>)
    /// of a (C, H, W) picture placed in a zero square as <paramref name="padding"/> says, without making the square:
    /// output (y, x) reads the square at (y·side/outH, x·side/outW), interpolating between the floor and the ceiling
    /// (clamped to the last row/column) of each coordinate, in float64 as tfjs's CPU backend does.
    /// </summary>
    /// <returns>C·outHeight·outWidth values</returns>
    public static float[] ResizePadded(float[] picture, int channels, int height, int width, SquarePadding padding, int outHeight, int outWidth)
    {
        int side = padding.Side;
        if (picture.Length != channels * height * width)
            throw new ArgumentException($"ResizePadded: {picture.Length} values for a ({channels}, {height}, {width}) picture.");
        if (side < Math.Max(height, width) || padding.Top < 0 || padding.Left < 0 || padding.Top + height > side || padding.Left + width > side)
            throw new ArgumentException($"ResizePadded: a {height}×{width} picture does not fit a {side}-square at ({padding.Top}, {padding.Left}).");
        if (outHeight < 1 || outWidth < 1) throw new ArgumentOutOfRangeException(nameof(outHeight), $"ResizePadded: output size {outHeight}×{outWidth} must be positive.");
        var (rowLow, rowHigh, rowFraction) = Weights(side, outHeight);
        var (columnLow, columnHigh, columnFraction) = Weights(side, outWidth);
        var output = new float[channels * outHeight * outWidth];
        Parallel.For(0, channels * outHeight, cy =>
        {
            int c = cy / outHeight, y = cy % outHeight;
            var source = picture.AsSpan(c * height * width, height * width);
            int top = rowLow[y] - padding.Top, bottom = rowHigh[y] - padding.Top;
            var row = output.AsSpan((c * outHeight + y) * outWidth, outWidth);
            for (int x = 0; x < outWidth; x++)
            {
                int left = columnLow[x] - padding.Left, right = columnHigh[x] - padding.Left;
                double topLeft = At(source, top, left), topRight = At(source, top, right);
                double bottomLeft = At(source, bottom, left), bottomRight = At(source, bottom, right);
                double upper = topLeft + (topRight - topLeft) * columnFraction[x];
                double lower = bottomLeft + (bottomRight - bottomLeft) * columnFraction[x];
                row[x] = (float)(upper + (lower - upper) * rowFraction[y]);
            }
        });
        return output;

        float At(ReadOnlySpan<float> plane, int y, int x) => (uint)y < (uint)height && (uint)x < (uint)width ? plane[y * width + x] : 0f;
    }

    /// <summary>For each output position: the lower and upper source index and the fraction between them.</summary>
    static (int[] Low, int[] High, double[] Fraction) Weights(int input, int output)
    {
        double ratio = input / (double)output;
        var (low, high, fraction) = (new int[output], new int[output], new double[output]);
        for (int i = 0; i < output; i++)
        {
            double source = ratio * i;
            low[i] = Math.Max(0, (int)Math.Floor(source));
            high[i] = Math.Min(input - 1, (int)Math.Ceiling(source));
            fraction[i] = source - low[i];
        }
        return (low, high, fraction);
    }

    /// <summary>Throws unless <paramref name="picture"/> is (3, H, W) with H, W ≥ 1.</summary>
    internal static void CheckPicture(string op, Tensor picture)
    {
        ArgumentNullException.ThrowIfNull(picture);
        if (picture.Rank != 3 || picture.Shape[0] != 3 || picture.Shape[1] < 1 || picture.Shape[2] < 1)
            throw new ArgumentException($"{op}: expected an RGB picture of shape (3, H, W), got [{string.Join(", ", picture.Shape)}].");
    }
}
