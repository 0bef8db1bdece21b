using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The geometry of a YOLO output (N, B·(5 + C), H, W) and the per-position arithmetic the decoder and the loss share.
/// A position p = ((n·B + b)·H + i)·W + j numbers (picture, anchor, row, column) anchor-major, as the channels are.
/// </summary>
internal readonly record struct YoloGrid(int N, int B, int Classes, int Height, int Width, int Stride)
{
    public int PerAnchor => 5 + Classes;
    public int Positions => N * B * Height * Width;

    /// <summary>Checks output and anchors against each other; messages name <paramref name="op"/> and the shapes.</summary>
    public static YoloGrid Of(string op, Tensor output, Tensor anchors, int stride)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), $"{op}: the stride must be positive, got {stride}.");
        if (anchors.Rank != 2 || anchors.Shape[1] != 2 || anchors.Shape[0] < 1)
            throw new ArgumentException($"{op}: the anchors must be (B, 2) widths and heights, got {ModelChecks.Format(anchors.Shape)}.");
        int b = anchors.Shape[0];
        if (output.Rank != 4 || output.Shape[1] % b != 0 || output.Shape[1] / b < 6)
            throw new ArgumentException($"{op}: the output must be (N, B·(5 + classes), H, W) for B = {b} anchors and at least one class, got {ModelChecks.Format(output.Shape)}.");
        return new YoloGrid(output.Shape[0], b, output.Shape[1] / b - 5, output.Shape[2], output.Shape[3], stride);
    }

    /// <summary>Where prediction <paramref name="k"/> (0 tx … 4 to, 5 + c the logit of class c) of position <paramref name="p"/> lies in the output's values.</summary>
    public int Index(int p, int k)
    {
        int j = p % Width, i = p / Width % Height, nb = p / (Width * Height);
        return ((nb * PerAnchor + k) * Height + i) * Width + j;
    }

    /// <summary>Every position's box (4 numbers each, xyxy pixels clipped to <paramref name="picture"/>).</summary>
    public float[] DecodeBoxes(float[] values, float[] anchors, Size2 picture)
    {
        var boxes = new float[4 * Positions];
        for (int p = 0; p < Positions; p++)
        {
            int j = p % Width, i = p / Width % Height, b = p / (Width * Height) % B;
            float cx = (j + Sigmoid(values[Index(p, 0)])) * Stride, cy = (i + Sigmoid(values[Index(p, 1)])) * Stride;
            float w = anchors[2 * b] * MathF.Exp(MathF.Min(values[Index(p, 2)], YoloDecoder.MaxLogScale));
            float h = anchors[2 * b + 1] * MathF.Exp(MathF.Min(values[Index(p, 3)], YoloDecoder.MaxLogScale));
            boxes[4 * p] = Math.Clamp(cx - w / 2, 0, picture.Width);
            boxes[4 * p + 1] = Math.Clamp(cy - h / 2, 0, picture.Height);
            boxes[4 * p + 2] = Math.Clamp(cx + w / 2, 0, picture.Width);
            boxes[4 * p + 3] = Math.Clamp(cy + h / 2, 0, picture.Height);
        }
        return boxes;
    }

    /// <summary>σ(to)·max softmax(logits) and the arg-max class (the first on ties) of position <paramref name="p"/>.</summary>
    public (float Score, int Class) Score(float[] values, int p)
    {
        int best = 0;
        float max = values[Index(p, 5)];
        for (int c = 1; c < Classes; c++)
            if (values[Index(p, 5 + c)] > max) (best, max) = (c, values[Index(p, 5 + c)]);
        float sum = 0;
        for (int c = 0; c < Classes; c++) sum += MathF.Exp(values[Index(p, 5 + c)] - max);
        return (Sigmoid(values[Index(p, 4)]) / sum, best);
    }

    public static float Sigmoid(float x) => 1 / (1 + MathF.Exp(-x));
}
