using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

// Region-of-interest pooling for Fast/Faster R-CNN heads: each box of a picture is pooled out of that picture's
// feature map into a fixed-size grid. Values, gradients and every rounding rule are torchvision 0.14's roi_pool and
// roi_align. Boxes are xyxy in input-image pixels; spatialScale maps them onto the feature map (1/16 for a stride-16
// backbone). Gradients flow to the feature map only, not to the boxes (as in torchvision).
public static partial class F
{
    /// <summary>
    /// RoI max pooling (Fast R-CNN): each box's edges are scaled and rounded to whole cells (halves away from zero),
    /// the box is made at least 1×1 cell, and output cell i of an axis takes the maximum over box cells
    /// ⌊i·s⌋ … ⌈(i + 1)·s⌉ − 1 with s = box cells / output size, clipped to the map; a bin wholly outside the map is 0.
    /// The gradient goes to the cell that won (the first one on ties).
    /// </summary>
    /// <param name="input">(N, C, H, W) feature map</param>
    /// <param name="boxes">(K, 5) rows [batch index, x1, y1, x2, y2]: batch index a whole number below N; x1 ≤ x2 and y1 ≤ y2
    /// (boxes of zero width or height are allowed, as are boxes partly or wholly outside the map)</param>
    /// <param name="outputSize">bins per box, (height, width)</param>
    /// <param name="spatialScale">feature-map cells per input-image pixel</param>
    /// <returns>(K, C, outputSize.Height, outputSize.Width)</returns>
    public static Tensor RoiPool(Tensor input, Tensor boxes, Size2 outputSize, float spatialScale = 1f)
    {
        var backend = SameBackend(input, boxes, "RoiPool");
        var g = RoiShapes.Geometry("RoiPool", input.Dims, boxes, outputSize, spatialScale, 0, false);
        var y = Tensor.Empty([g.Boxes, g.Channels, g.OutputHeight, g.OutputWidth], backend);
        var argmax = backend.AllocateIndices(y.Numel);
        backend.RoiPool(input.Storage, boxes.Storage, g, y.Storage, argmax);
        // The boxes are an input of the node, without a gradient, so that Backward refuses to run once they were overwritten.
        return Node.Record(y, "RoiPool", [input, boxes], grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.RoiPoolBackward(grad.Storage, boxes.Storage, argmax, g, gradInput.Storage);
            return [gradInput, null];
        }, ("outputSize", outputSize), ("spatialScale", spatialScale));
    }

    /// <summary><see cref="RoiPool(Tensor, Tensor, Size2, float)"/> with the boxes of picture i in <paramref name="boxes"/>[i], each (L, 4) xyxy.</summary>
    public static Tensor RoiPool(Tensor input, IReadOnlyList<Tensor> boxes, Size2 outputSize, float spatialScale = 1f)
        => RoiPool(input, RoiShapes.WithBatchIndices("RoiPool", input, boxes), outputSize, spatialScale);

    /// <summary>
    /// RoIAlign (Mask R-CNN): each box is split into outputSize bins without rounding, and each bin is the mean of a
    /// grid of bilinear samples at the centres of its sub-cells. Samples more than one cell outside the map count as 0;
    /// samples within that band are clamped onto the map's edge. Unless <paramref name="aligned"/>, a box is made at
    /// least 1×1 cell; an aligned box of zero width or height has no samples and gives 0.
    /// </summary>
    /// <param name="input">(N, C, H, W) feature map</param>
    /// <param name="boxes">(K, 5) rows [batch index, x1, y1, x2, y2], as for <see cref="RoiPool(Tensor, Tensor, Size2, float)"/></param>
    /// <param name="outputSize">bins per box, (height, width)</param>
    /// <param name="spatialScale">feature-map cells per input-image pixel</param>
    /// <param name="samplingRatio">samples per bin along each axis; −1 (or any value ≤ 0) for ⌈box size / output size⌉ per axis</param>
    /// <param name="aligned">shift the scaled box by −½ cell, so that pixel centres land on cell centres (torchvision's aligned=True)</param>
    /// <returns>(K, C, outputSize.Height, outputSize.Width)</returns>
    public static Tensor RoiAlign(Tensor input, Tensor boxes, Size2 outputSize, float spatialScale = 1f, int samplingRatio = -1, bool aligned = false)
    {
        var backend = SameBackend(input, boxes, "RoiAlign");
        var g = RoiShapes.Geometry("RoiAlign", input.Dims, boxes, outputSize, spatialScale, samplingRatio, aligned);
        var y = Tensor.Empty([g.Boxes, g.Channels, g.OutputHeight, g.OutputWidth], backend);
        backend.RoiAlign(input.Storage, boxes.Storage, g, y.Storage);
        // The boxes are an input of the node, without a gradient, so that Backward refuses to run once they were overwritten.
        return Node.Record(y, "RoiAlign", [input, boxes], grad =>
        {
            var gradInput = Tensor.Empty(input.Dims, backend);
            backend.RoiAlignBackward(grad.Storage, boxes.Storage, g, gradInput.Storage);
            return [gradInput, null];
        }, ("outputSize", outputSize), ("spatialScale", spatialScale), ("samplingRatio", samplingRatio), ("aligned", aligned));
    }

    /// <summary><see cref="RoiAlign(Tensor, Tensor, Size2, float, int, bool)"/> with the boxes of picture i in <paramref name="boxes"/>[i], each (L, 4) xyxy.</summary>
    public static Tensor RoiAlign(Tensor input, IReadOnlyList<Tensor> boxes, Size2 outputSize, float spatialScale = 1f, int samplingRatio = -1, bool aligned = false)
        => RoiAlign(input, RoiShapes.WithBatchIndices("RoiAlign", input, boxes), outputSize, spatialScale, samplingRatio, aligned);
}

/// <summary>Checks of the feature map, the boxes and the settings of RoI pooling, made before anything is allocated.</summary>
static class RoiShapes
{
    const string BoxesFormat = "(K, 5) rows [batch index, x1, y1, x2, y2] or a list of (L, 4) xyxy boxes per picture";

    public static RoiGeometry Geometry(string op, int[] inputShape, Tensor boxes, Size2 outputSize, float spatialScale, int samplingRatio, bool aligned)
    {
        PoolShapes.ValidateOutputSize(op, outputSize);
        if (!(spatialScale > 0 && float.IsFinite(spatialScale)))
            throw new ArgumentOutOfRangeException(nameof(spatialScale), $"{op}: spatialScale must be positive and finite, got {spatialScale}.");
        if (inputShape.Length != 4 || inputShape[0] == 0 || inputShape[1] == 0 || inputShape[2] == 0 || inputShape[3] == 0)
            throw new ArgumentException($"{op}: expected an input of shape (N, C, H, W) with non-zero sizes, got {Shapes.Format(inputShape)}.");
        if (boxes.Rank != 2 || boxes.Dims[1] != 5)
            throw new ArgumentException($"{op}: expected boxes as {BoxesFormat}, got a tensor of shape {boxes.ShapeString} (input {Shapes.Format(inputShape)}).");
        var rows = boxes.ToArray();
        for (int k = 0; k < boxes.Dims[0]; k++)
        {
            float batch = rows[k * 5];
            if (!(batch >= 0 && batch < inputShape[0] && batch == MathF.Floor(batch)))
                throw new ArgumentException($"{op}: box {k} has batch index {batch}, which is not a picture of the input of shape {Shapes.Format(inputShape)} (whole numbers 0 … {inputShape[0] - 1}).");
            CheckBox(op, $"box {k}", rows.AsSpan(k * 5 + 1, 4));
        }
        return new RoiGeometry(inputShape[1], inputShape[2], inputShape[3], boxes.Dims[0], outputSize.Height, outputSize.Width,
            spatialScale, samplingRatio, aligned);
    }

    /// <summary>The (K, 5) boxes, on <paramref name="input"/>'s backend, of a list of (L, 4) boxes per picture: picture i's rows get batch index i.</summary>
    public static Tensor WithBatchIndices(string op, Tensor input, IReadOnlyList<Tensor> boxes)
    {
        var inputShape = input.Dims;
        if (inputShape.Length != 4 || boxes.Count > inputShape[0])
            throw new ArgumentException($"{op}: got boxes for {boxes.Count} pictures, but the input of shape {Shapes.Format(inputShape)} has {(inputShape.Length == 4 ? inputShape[0] : 0)}; expected an (N, C, H, W) input and at most N lists of boxes.");
        var rows = new List<float>();
        for (int i = 0; i < boxes.Count; i++)
        {
            if (boxes[i].Rank != 2 || boxes[i].Dims[1] != 4)
                throw new ArgumentException($"{op}: expected boxes as {BoxesFormat}, got boxes[{i}] of shape {boxes[i].ShapeString}.");
            var values = boxes[i].ToArray();
            for (int j = 0; j < values.Length; j += 4)
            {
                CheckBox(op, $"boxes[{i}] row {j / 4}", values.AsSpan(j, 4));
                rows.AddRange([i, values[j], values[j + 1], values[j + 2], values[j + 3]]);
            }
        }
        return Tensor.FromArray([.. rows], input.Backend, rows.Count / 5, 5);
    }

    /// <summary>Rejects non-finite coordinates and inverted boxes (x2 &lt; x1 or y2 &lt; y1); zero-size boxes pass.</summary>
    static void CheckBox(string op, string which, ReadOnlySpan<float> xyxy)
    {
        string Box(ReadOnlySpan<float> b) => $"[{b[0]}, {b[1]}, {b[2]}, {b[3]}]";
        foreach (var v in xyxy)
            if (!float.IsFinite(v)) throw new ArgumentException($"{op}: {which} {Box(xyxy)} has a coordinate that is not finite.");
        if (xyxy[2] < xyxy[0] || xyxy[3] < xyxy[1])
            throw new ArgumentException($"{op}: {which} {Box(xyxy)} has x2 < x1 or y2 < y1; boxes are xyxy with x1 ≤ x2 and y1 ≤ y2 (zero width or height is allowed).");
    }
}
