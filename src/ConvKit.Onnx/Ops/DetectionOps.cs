using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Detection post-processing: NonMaxSuppression and RoiAlign, as ONNX defines them (and ONNX Runtime computes them).
static partial class Operators
{
    // NonMaxSuppression (10, 11): per picture and class, boxes scoring above score_threshold are taken in falling score
    // order (the lower index first on ties) unless one taken already overlaps them by IoU > iou_threshold, at most
    // max_output_boxes_per_class of them (0 or omitted: none). Output rows are (picture, class, box index). Boxes are
    // two opposite corners in either order ([y1, x1, y2, x2] as written), or centre and size when center_point_box = 1.
    // This is ONNX's definition, not torchvision's (which keeps every box and compares with ≥); ConvKit.Vision's
    // BoxOps.Nms is torchvision's.
    static OpKernel NonMaxSuppression(NodeContext node)
    {
        bool centred = node.Int("center_point_box", 0) switch
        {
            0 => false,
            1 => true,
            var other => throw node.Invalid($"center_point_box must be 0 or 1, got {other}."),
        };
        return (inputs, _) =>
        {
            var (boxes, scores) = (node.FloatInput(inputs, 0), node.FloatInput(inputs, 1));
            if (boxes.Rank != 3 || boxes.Size(2) != 4 || scores.Rank != 3 || scores.Size(0) != boxes.Size(0) || scores.Size(2) != boxes.Size(1))
                throw node.Invalid($"expected boxes (B, N, 4) and scores (B, C, N), got {Values.Format([.. boxes.Shape])} and {Values.Format([.. scores.Shape])}.");
            long perClass = node.HasInput(2) ? (long)node.OptionalScalar(inputs, 2, 0f) : 0;
            float iouThreshold = node.HasInput(3) ? node.OptionalScalar(inputs, 3, 0f) : 0f;
            float? scoreThreshold = node.HasInput(4) ? node.OptionalScalar(inputs, 4, 0f) : null;
            if (iouThreshold < 0 || iouThreshold > 1) throw node.Invalid($"iou_threshold {iouThreshold} is outside [0, 1].");
            int pictures = boxes.Size(0), count = boxes.Size(1), classes = scores.Size(1);
            var corners = Corners(boxes.ToArray(), centred);
            var allScores = scores.ToArray();
            var selected = new List<long>();
            for (int b = 0; b < pictures; b++)
                for (int c = 0; c < classes; c++)
                {
                    int offset = (b * classes + c) * count;
                    var candidates = Enumerable.Range(0, count).Where(i => scoreThreshold is not { } t || allScores[offset + i] > t)
                        .OrderByDescending(i => allScores[offset + i]).ThenBy(i => i);
                    var kept = new List<int>();
                    foreach (int i in candidates)
                    {
                        if (kept.Count >= perClass) break;
                        if (kept.All(k => Iou(corners, b * count + i, b * count + k) <= iouThreshold)) kept.Add(i);
                    }
                    foreach (int i in kept) selected.AddRange([b, c, i]);
                }
            return [OnnxValue.OfInts([.. selected], selected.Count / 3, 3)];
        };
    }

    /// <summary>Boxes as (low, low, high, high) corners on each of the two axes, in the input's axis order.</summary>
    static float[] Corners(float[] boxes, bool centred)
    {
        var corners = new float[boxes.Length];
        for (int k = 0; k < boxes.Length; k += 4)
        {
            // (A negative width or height stays an empty box, as in ONNX Runtime.)
            if (centred)
                (corners[k], corners[k + 1], corners[k + 2], corners[k + 3]) = (boxes[k] - boxes[k + 2] / 2, boxes[k + 1] - boxes[k + 3] / 2,
                    boxes[k] + boxes[k + 2] / 2, boxes[k + 1] + boxes[k + 3] / 2);
            else
                (corners[k], corners[k + 1], corners[k + 2], corners[k + 3]) = (MathF.Min(boxes[k], boxes[k + 2]), MathF.Min(boxes[k + 1], boxes[k + 3]),
                    MathF.Max(boxes[k], boxes[k + 2]), MathF.Max(boxes[k + 1], boxes[k + 3]));
        }
        return corners;
    }

    /// <summary>Intersection over union of boxes i and j; 0 when either is empty or they do not meet.</summary>
    static float Iou(float[] corners, int i, int j)
    {
        int p = i * 4, q = j * 4;
        float inter0 = MathF.Min(corners[p + 2], corners[q + 2]) - MathF.Max(corners[p], corners[q]);
        float inter1 = MathF.Min(corners[p + 3], corners[q + 3]) - MathF.Max(corners[p + 1], corners[q + 1]);
        if (inter0 <= 0 || inter1 <= 0) return 0;
        float areaI = (corners[p + 2] - corners[p]) * (corners[p + 3] - corners[p + 1]);
        float areaJ = (corners[q + 2] - corners[q]) * (corners[q + 3] - corners[q + 1]);
        if (areaI <= 0 || areaJ <= 0) return 0;
        float intersection = inter0 * inter1;
        return intersection / (areaI + areaJ - intersection);
    }

    // RoiAlign (10; 16 adds coordinate_transformation_mode, whose default half_pixel shifts the boxes by −½ cell, as
    // torchvision's aligned = True; opset 10 and output_half_pixel do not). Average mode only, on F.RoiAlign.
    static OpKernel RoiAlign(NodeContext node)
    {
        string mode = node.String("mode", "avg");
        if (mode != "avg") throw node.Unsupported($"mode '{mode}' is not supported (avg is)");
        string transform = node.String("coordinate_transformation_mode", node.Opset >= 16 ? "half_pixel" : "output_half_pixel");
        bool aligned = transform switch
        {
            "half_pixel" => true,
            "output_half_pixel" => false,
            _ => throw node.Unsupported($"coordinate_transformation_mode '{transform}' is not supported (half_pixel, output_half_pixel are)"),
        };
        var size = new Size2((int)node.Int("output_height", 1), (int)node.Int("output_width", 1));
        int samplingRatio = (int)node.Int("sampling_ratio", 0);
        float spatialScale = node.Float("spatial_scale", 1f);
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            var rois = node.FloatInput(inputs, 1);
            var batch = node.IntInput(inputs, 2);
            if (rois.Rank != 2 || rois.Size(1) != 4 || batch.Length != rois.Size(0))
                throw node.Invalid($"expected rois (K, 4) and K batch indices, got rois {Values.Format([.. rois.Shape])} and {batch.Length} indices.");
            if (rois.Size(0) == 0) return [OnnxValue.Of(ConvKit.Tensor.Zeros([0, x.Size(1), size.Height, size.Width]))];
            var indexed = ConvKit.Tensor.Concat([ConvKit.Tensor.FromArray(batch.Select(b => (float)b).ToArray(), batch.Length, 1), rois], 1);
            return [OnnxValue.Of(F.RoiAlign(x, indexed, size, spatialScale, samplingRatio, aligned))];
        };
    }
}
