using System.Globalization;

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
    /// <exception cref="ArgumentException">the output holds a NaN or an infinity (a diverged model): named by picture,
    /// channel and cell, rather than left to pass the score threshold (NaN compares false) and fail later in NMS</exception>
    public static IReadOnlyList<DetectedObject>[] Decode(Tensor output, Tensor anchors, int stride, DetectionOptions? options = null, Size2? pictureSize = null)
    {
        options ??= new DetectionOptions();
        options.Validate();
        var grid = YoloGrid.Of("YoloDecoder.Decode", output, anchors, stride);
        var picture = pictureSize ?? new Size2(grid.Height * stride, grid.Width * stride);
        if (picture.Height < 1 || picture.Width < 1)
            throw new ArgumentException($"YoloDecoder.Decode: the picture size {picture.Height}×{picture.Width} must be positive.");
        var values = output.ToArray();
        RequireFinite(values, output.Shape);
        var boxes = grid.DecodeBoxes(values, anchors.ToArray(), picture);
        var results = new IReadOnlyList<DetectedObject>[grid.N];
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
                .Select(k => new DetectedObject(classes[k], scores[k], keptBoxes[4 * k], keptBoxes[4 * k + 1], keptBoxes[4 * k + 2], keptBoxes[4 * k + 3]))
                .ToArray();
        }
        return results;
    }

    static void RequireFinite(float[] values, IReadOnlyList<int> shape)
    {
        int index = Array.FindIndex(values, v => !float.IsFinite(v));
        if (index < 0) return;
        int width = shape[3], height = shape[2], channels = shape[1];
        int j = index % width, i = index / width % height, channel = index / (width * height) % channels, n = index / (width * height * channels);
        throw new ArgumentException($"YoloDecoder.Decode: the network's output is {values[index].ToString(CultureInfo.InvariantCulture)} at picture {n}, channel {channel}, cell (row {i}, " +
            $"column {j}) of its [{string.Join(", ", shape)}] output; the model has diverged (check the checkpoint's training loss).");
    }
}
