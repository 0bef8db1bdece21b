namespace ConvKit.Vision.Detection;

/// <summary>
/// YOLO v2's target assignment (computed without gradient, as plain arrays over the grid positions of
/// <see cref="YoloGrid"/>). A ground-truth box (xyxy pixels, class k) is the responsibility of the cell holding its
/// centre (j = ⌊cx/s⌋, i = ⌊cy/s⌋, clamped to the grid) and of the anchor whose shape fits it best (IoU of the two
/// sizes centred on one point; the first anchor on ties). Its targets are x* = cx/s − j, y* = cy/s − i,
/// w* = log(w/aw), h* = log(h/ah) and class k. When two boxes pick the same position the later one wins. Boxes without
/// area are skipped: no anchor shape matches them and log 0 is not a target.
/// </summary>
internal sealed class YoloTargets
{
    /// <summary>Per position: whether a ground truth is assigned there.</summary>
    public required bool[] Responsible { get; init; }

    /// <summary>Per position, 4 numbers: x*, y*, w*, h* (0 where no ground truth is assigned).</summary>
    public required float[] Box { get; init; }

    /// <summary>Per position: the class of the assigned ground truth, or −1.</summary>
    public required int[] Class { get; init; }

    /// <param name="truths">per picture: its boxes (4 numbers each, xyxy pixels) and their classes</param>
    /// <param name="anchors">B·2 numbers: widths and heights in pixels</param>
    public static YoloTargets Assign(YoloGrid grid, IReadOnlyList<(float[] Boxes, int[] Labels)> truths, float[] anchors)
    {
        var responsible = new bool[grid.Positions];
        var box = new float[4 * grid.Positions];
        var cls = new int[grid.Positions];
        Array.Fill(cls, -1);
        float s = grid.Stride;
        for (int n = 0; n < grid.N; n++)
        {
            var (boxes, labels) = truths[n];
            for (int t = 0; t < labels.Length; t++)
            {
                float x1 = boxes[4 * t], y1 = boxes[4 * t + 1], x2 = boxes[4 * t + 2], y2 = boxes[4 * t + 3];
                float w = x2 - x1, h = y2 - y1;
                if (!(w > 0 && h > 0)) continue;
                float cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
                int j = Math.Clamp((int)MathF.Floor(cx / s), 0, grid.Width - 1), i = Math.Clamp((int)MathF.Floor(cy / s), 0, grid.Height - 1);
                int best = 0;
                float bestIou = -1;
                for (int b = 0; b < grid.B; b++)
                {
                    float iou = ShapeIou(w, h, anchors[2 * b], anchors[2 * b + 1]);
                    if (iou > bestIou) (best, bestIou) = (b, iou);
                }
                int p = ((n * grid.B + best) * grid.Height + i) * grid.Width + j;
                responsible[p] = true;
                box[4 * p] = cx / s - j;
                box[4 * p + 1] = cy / s - i;
                box[4 * p + 2] = MathF.Log(w / anchors[2 * best]);
                box[4 * p + 3] = MathF.Log(h / anchors[2 * best + 1]);
                cls[p] = labels[t];
            }
        }
        return new YoloTargets { Responsible = responsible, Box = box, Class = cls };
    }

    /// <summary>IoU of two boxes of the given sizes sharing one centre.</summary>
    public static float ShapeIou(float w1, float h1, float w2, float h2)
    {
        float inter = MathF.Min(w1, w2) * MathF.Min(h1, h2);
        return inter / (w1 * h1 + w2 * h2 - inter);
    }
}
