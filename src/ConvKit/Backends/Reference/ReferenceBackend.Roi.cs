namespace ConvKit.Backends.Reference;

// Region-of-interest pooling, written from torchvision's roi_pool and roi_align definitions. Coordinates are computed
// in float32 step by step, as torchvision does, because bin edges and sample cells change at exact boundaries; sums
// are float64. Box k is row k of boxes: [batch index, x1, y1, x2, y2] in input pixels.
public sealed partial class ReferenceBackend
{
    /// <summary>
    /// Cells [h0, h1) × [w0, w1) of bin (ph, pw) of a box: its edges rounded to whole cells (half away from zero), its
    /// size at least one cell, bin i of an axis covering ⌊i·s⌋ … ⌈(i + 1)·s⌉ − 1 from the box's first cell with
    /// s = box cells / output cells, clipped to the map.
    /// </summary>
    static (int H0, int H1, int W0, int W1) RoiPoolBin(float[] rois, int box, in RoiGeometry g, int ph, int pw)
    {
        static int Round(float v) => (int)MathF.Round(v, MidpointRounding.AwayFromZero);
        int startW = Round(rois[box * 5 + 1] * g.SpatialScale), startH = Round(rois[box * 5 + 2] * g.SpatialScale);
        int endW = Round(rois[box * 5 + 3] * g.SpatialScale), endH = Round(rois[box * 5 + 4] * g.SpatialScale);
        float binHeight = Math.Max(endH - startH + 1, 1) / (float)g.OutputHeight;
        float binWidth = Math.Max(endW - startW + 1, 1) / (float)g.OutputWidth;
        int h0 = Math.Clamp((int)MathF.Floor(ph * binHeight) + startH, 0, g.Height);
        int h1 = Math.Clamp((int)MathF.Ceiling((ph + 1) * binHeight) + startH, 0, g.Height);
        int w0 = Math.Clamp((int)MathF.Floor(pw * binWidth) + startW, 0, g.Width);
        int w1 = Math.Clamp((int)MathF.Ceiling((pw + 1) * binWidth) + startW, 0, g.Width);
        return (h0, h1, w0, w1);
    }

    /// <summary>Offset of channel <paramref name="c"/> of box <paramref name="box"/>'s image in the input, and of its pooled plane in the output.</summary>
    static (int Input, int Output) RoiPlanes(float[] rois, int box, int c, in RoiGeometry g) =>
        ((((int)rois[box * 5]) * g.Channels + c) * g.InputPlaneSize, (box * g.Channels + c) * g.OutputPlaneSize);

    /// <inheritdoc/>
    public void RoiPool(Storage x, Storage boxes, RoiGeometry g, Storage y, Storage argmax)
    {
        float[] input = Data(x), rois = Data(boxes), output = Data(y);
        var positions = Indices(argmax);
        for (int k = 0; k < g.Boxes; k++)
            for (int c = 0; c < g.Channels; c++)
            {
                var (plane, pooled) = RoiPlanes(rois, k, c, g);
                for (int ph = 0; ph < g.OutputHeight; ph++)
                    for (int pw = 0; pw < g.OutputWidth; pw++)
                    {
                        var (h0, h1, w0, w1) = RoiPoolBin(rois, k, g, ph, pw);
                        // An empty bin is 0 with no argmax; otherwise the first strict maximum wins (so NaN never does).
                        bool empty = h1 <= h0 || w1 <= w0;
                        float max = empty ? 0 : float.MinValue;
                        int at = -1;
                        for (int h = h0; h < h1; h++)
                            for (int w = w0; w < w1; w++)
                                if (input[plane + h * g.Width + w] > max) { max = input[plane + h * g.Width + w]; at = h * g.Width + w; }
                        output[pooled + ph * g.OutputWidth + pw] = max;
                        positions[pooled + ph * g.OutputWidth + pw] = at;
                    }
            }
    }

    /// <inheritdoc/>
    public void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), rois = Data(boxes), inputGrad = Data(gradX);
        var positions = Indices(argmax);
        for (int k = 0; k < g.Boxes; k++)
            for (int c = 0; c < g.Channels; c++)
            {
                var (plane, pooled) = RoiPlanes(rois, k, c, g);
                for (int b = 0; b < g.OutputPlaneSize; b++)
                    if (positions[pooled + b] >= 0) inputGrad[plane + positions[pooled + b]] += outputGrad[pooled + b];
            }
    }

    /// <summary>
    /// The sample grid of one box: where the box starts, the size of a bin, and the samples per bin along each axis.
    /// Aligned boxes are shifted by half a cell; unaligned ones are at least one cell on each side.
    /// </summary>
    static (float StartH, float StartW, float BinH, float BinW, int Rows, int Columns) RoiAlignGrid(float[] rois, int box, in RoiGeometry g)
    {
        float offset = g.Aligned ? 0.5f : 0f;
        float startW = rois[box * 5 + 1] * g.SpatialScale - offset, startH = rois[box * 5 + 2] * g.SpatialScale - offset;
        float width = rois[box * 5 + 3] * g.SpatialScale - offset - startW, height = rois[box * 5 + 4] * g.SpatialScale - offset - startH;
        if (!g.Aligned)
        {
            width = Math.Max(width, 1f);
            height = Math.Max(height, 1f);
        }
        int rows = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(height / g.OutputHeight);
        int columns = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(width / g.OutputWidth);
        return (startH, startW, height / g.OutputHeight, width / g.OutputWidth, Math.Max(rows, 0), Math.Max(columns, 0));
    }

    /// <summary>
    /// Calls <paramref name="visit"/>(cell, weight) for the four cells a bilinear sample at (y, x) blends, with the weight
    /// each gets (torchvision's bilinear_interpolate): nothing beyond [−1, size] on either axis; within that band the
    /// sample is clamped onto the map, and at the last row or column both neighbours are that row or column.
    /// </summary>
    static void BilinearSample(float y, float x, int height, int width, Action<int, float> visit)
    {
        if (y < -1f || y > height || x < -1f || x > width) return;
        y = Math.Max(y, 0f);
        x = Math.Max(x, 0f);
        int y0 = (int)y, x0 = (int)x, y1, x1;
        if (y0 >= height - 1) { y0 = y1 = height - 1; y = y0; } else y1 = y0 + 1;
        if (x0 >= width - 1) { x0 = x1 = width - 1; x = x0; } else x1 = x0 + 1;
        float ly = y - y0, lx = x - x0, hy = 1f - ly, hx = 1f - lx;
        visit(y0 * width + x0, hy * hx);
        visit(y0 * width + x1, hy * lx);
        visit(y1 * width + x0, ly * hx);
        visit(y1 * width + x1, ly * lx);
    }

    /// <summary>Calls <paramref name="visit"/>(cell, weight) for every sample cell of bin (ph, pw), the weight divided by the samples' count.</summary>
    static void ForEachRoiAlignCell(float[] rois, int box, in RoiGeometry g, int ph, int pw, Action<int, float> visit)
    {
        var (startH, startW, binH, binW, rows, columns) = RoiAlignGrid(rois, box, g);
        float count = Math.Max(rows * columns, 1); // an aligned box of zero size has no samples and gives 0
        for (int iy = 0; iy < rows; iy++)
        {
            float y = startH + ph * binH + (iy + 0.5f) * binH / rows;
            for (int ix = 0; ix < columns; ix++)
            {
                float x = startW + pw * binW + (ix + 0.5f) * binW / columns;
                BilinearSample(y, x, g.Height, g.Width, (cell, weight) => visit(cell, weight / count));
            }
        }
    }

    /// <inheritdoc/>
    public void RoiAlign(Storage x, Storage boxes, RoiGeometry g, Storage y)
    {
        float[] input = Data(x), rois = Data(boxes), output = Data(y);
        for (int k = 0; k < g.Boxes; k++)
            for (int c = 0; c < g.Channels; c++)
            {
                var (plane, pooled) = RoiPlanes(rois, k, c, g);
                for (int ph = 0; ph < g.OutputHeight; ph++)
                    for (int pw = 0; pw < g.OutputWidth; pw++)
                    {
                        double sum = 0;
                        ForEachRoiAlignCell(rois, k, g, ph, pw, (cell, weight) => sum += (double)weight * input[plane + cell]);
                        output[pooled + ph * g.OutputWidth + pw] = (float)sum;
                    }
            }
    }

    /// <inheritdoc/>
    public void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), rois = Data(boxes), inputGrad = Data(gradX);
        for (int k = 0; k < g.Boxes; k++)
            for (int c = 0; c < g.Channels; c++)
            {
                var (plane, pooled) = RoiPlanes(rois, k, c, g);
                for (int ph = 0; ph < g.OutputHeight; ph++)
                    for (int pw = 0; pw < g.OutputWidth; pw++)
                    {
                        float grad = outputGrad[pooled + ph * g.OutputWidth + pw];
                        ForEachRoiAlignCell(rois, k, g, ph, pw, (cell, weight) => inputGrad[plane + cell] += grad * weight);
                    }
            }
    }
}
