using ConvKit.Vision.Models;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Turns a YOLO v2 output (N, B·(5 + C), Sh, Sw) into boxes. For the cell in column j and row i, stride s, and anchor
/// (aw, ah) with predictions (tx, ty, tw, th, to, logits):
/// cx = (j + σ(tx))·s, cy = (i + σ(ty))·s, w = aw·exp(tw), h = ah·exp(th) — tw and th clamped at
/// <see cref="MaxLogScale"/> first, so exp cannot overflow —, the box (cx − w/2, cy − h/2, cx + w/2, cy + h/2) clipped
/// to the picture, class = argmax of the logits and score = σ(to)·max softmax(logits).
/// <para>The decoding is plain C# after the network, not part of it: an exported ONNX model
/// (<c>convkit export</c>) gives the raw output, and its user decodes it as here.</para>
/// </summary>
public static class YoloDecoder
{
    /// <summary>log(1000/16): tw and th are clamped here before exp (a box at most 62.5 anchors wide).</summary>
    public static readonly float MaxLogScale = MathF.Log(1000f / 16);

    /// <summary>
    /// The detections of every picture of <paramref name="output"/>: boxes scoring at least the threshold, per-class
    /// NMS (<see cref="BoxOps.BatchedNms(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{int}, double)"/>), at
    /// most <see cref="DetectionOptions.MaxDetections"/>, by decreasing score.
    /// </summary>
    /// <param name="output">(N, B·(5 + C), Sh, Sw), anchor-major</param>
    /// <param name="anchors">(B, 2) widths and heights in pixels</param>
    /// <param name="stride">pixels per cell</param>
    /// <param name="options">thresholds; <see cref="DetectionOptions"/>' defaults when null</param>
    /// <param name="pictureSize">the picture the boxes are clipped to; the grid's Sh·s × Sw·s when null</param>
    /// <returns>one list per picture</returns>
    public static IReadOnlyList<Detection>[] Decode(Tensor output, Tensor anchors, int stride, DetectionOptions? options = null, Size2? pictureSize = null)
    {
        options ??= new DetectionOptions();
        options.Validate();
        var grid = YoloGrid.Of("YoloDecoder.Decode", output, anchors, stride);
        var picture = pictureSize ?? new Size2(grid.Height * stride, grid.Width * stride);
        if (picture.Height < 1 || picture.Width < 1)
            throw new ArgumentException($"YoloDecoder.Decode: the picture size {picture.Height}×{picture.Width} must be positive.");
        var values = output.ToArray();
        var boxes = grid.DecodeBoxes(values, anchors.ToArray(), picture);
        var results = new IReadOnlyList<Detection>[grid.N];
        int cells = grid.B * grid.Height * grid.Width;
        for (int n = 0; n < grid.N; n++)
        {
            var keptBoxes = new List<float>();
            var scores = new List<float>();
            var classes = new List<int>();
            for (int cell = 0; cell < cells; cell++)
            {
                var (score, cls) = grid.Score(values, n * cells + cell);
                if (score < options.ScoreThreshold) continue;
                keptBoxes.AddRange(boxes.AsSpan(4 * (n * cells + cell), 4));
                scores.Add(score);
                classes.Add(cls);
            }
            var keep = BoxOps.BatchedNms([.. keptBoxes], [.. scores], [.. classes], options.IouThreshold);
            results[n] = keep.Take(options.MaxDetections)
                .Select(k => new Detection(classes[k], scores[k], keptBoxes[4 * k], keptBoxes[4 * k + 1], keptBoxes[4 * k + 2], keptBoxes[4 * k + 3]))
                .ToArray();
        }
        return results;
    }
}

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
