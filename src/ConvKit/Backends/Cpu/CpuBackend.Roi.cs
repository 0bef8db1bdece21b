namespace ConvKit.Backends.Cpu;

// Region-of-interest pooling. Each box's bins (or bilinear samples) depend only on the box, so they are placed once
// per box and shared by its channels, which run in parallel: a channel's gradient plane is written by no other
// channel, so the backward passes need no locks even where boxes overlap. The float32 arithmetic follows
// torchvision's CPU kernels step by step, so bin edges and sample cells agree at exact boundaries too.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void RoiPool(Storage x, Storage boxes, RoiGeometry g, Storage y, Storage argmax)
    {
        float[] input = Data(x), output = Data(y), rois = Data(boxes);
        int[] indices = Indices(argmax);
        var bins = new (int RowStart, int RowEnd, int ColumnStart, int ColumnEnd)[g.OutputPlaneSize];
        for (int k = 0; k < g.Boxes; k++)
        {
            int batch = PlaceRoiPoolBins(rois.AsSpan(k * 5, 5), g, bins);
            AxisBlocks.Run(g.Channels, 4 * g.InputPlaneSize, 1, (c, _, _) =>
            {
                var plane = input.AsSpan((batch * g.Channels + c) * g.InputPlaneSize, g.InputPlaneSize);
                int offset = (k * g.Channels + c) * g.OutputPlaneSize;
                var positions = indices.AsSpan(offset, g.OutputPlaneSize);
                for (int b = 0; b < bins.Length; b++)
                {
                    var (h0, h1, w0, w1) = bins[b];
                    // An empty bin is 0 with no argmax; otherwise the first strict maximum wins (NaN never does).
                    float max = h1 <= h0 || w1 <= w0 ? 0f : float.MinValue;
                    int at = -1;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++)
                            if (plane[h * g.Width + w] > max) { max = plane[h * g.Width + w]; at = h * g.Width + w; }
                    output[offset + b] = max;
                    positions[b] = at;
                }
            });
        }
    }

    /// <inheritdoc/>
    public void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX), rois = Data(boxes);
        int[] indices = Indices(argmax);
        AxisBlocks.Run(g.Channels, g.Boxes * g.OutputPlaneSize, 1, (c, _, _) =>
        {
            for (int k = 0; k < g.Boxes; k++)
            {
                var plane = inputGrad.AsSpan(((int)rois[k * 5] * g.Channels + c) * g.InputPlaneSize, g.InputPlaneSize);
                int offset = (k * g.Channels + c) * g.OutputPlaneSize;
                var positions = indices.AsSpan(offset, g.OutputPlaneSize);
                for (int b = 0; b < positions.Length; b++)
                    if (positions[b] >= 0) plane[positions[b]] += outputGrad[offset + b];
            }
        });
    }

    /// <summary>The cells [start, end) of each bin of one box, clipped to the map; returns the box's batch index.</summary>
    static int PlaceRoiPoolBins(ReadOnlySpan<float> roi, RoiGeometry g, Span<(int, int, int, int)> bins)
    {
        static int Round(float v) => (int)MathF.Round(v, MidpointRounding.AwayFromZero);
        int startW = Round(roi[1] * g.SpatialScale), startH = Round(roi[2] * g.SpatialScale);
        int endW = Round(roi[3] * g.SpatialScale), endH = Round(roi[4] * g.SpatialScale);
        float binH = Math.Max(endH - startH + 1, 1) / (float)g.OutputHeight;
        float binW = Math.Max(endW - startW + 1, 1) / (float)g.OutputWidth;
        for (int ph = 0; ph < g.OutputHeight; ph++)
        {
            int h0 = Math.Clamp((int)MathF.Floor(ph * binH) + startH, 0, g.Height);
            int h1 = Math.Clamp((int)MathF.Ceiling((ph + 1) * binH) + startH, 0, g.Height);
            for (int pw = 0; pw < g.OutputWidth; pw++)
            {
                int w0 = Math.Clamp((int)MathF.Floor(pw * binW) + startW, 0, g.Width);
                int w1 = Math.Clamp((int)MathF.Ceiling((pw + 1) * binW) + startW, 0, g.Width);
                bins[ph * g.OutputWidth + pw] = (h0, h1, w0, w1);
            }
        }
        return (int)roi[0];
    }

    /// <inheritdoc/>
    public void RoiAlign(Storage x, Storage boxes, RoiGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y), rois = Data(boxes);
        for (int k = 0; k < g.Boxes; k++)
        {
            var (samples, perBin, count) = PlaceRoiAlignSamples(rois.AsSpan(k * 5, 5), g);
            int batch = (int)rois[k * 5];
            AxisBlocks.Run(g.Channels, 4 * samples.Length, 1, (c, _, _) =>
            {
                var plane = input.AsSpan((batch * g.Channels + c) * g.InputPlaneSize, g.InputPlaneSize);
                int offset = (k * g.Channels + c) * g.OutputPlaneSize;
                for (int b = 0; b < g.OutputPlaneSize; b++)
                {
                    float sum = 0f;
                    foreach (var s in samples.AsSpan(b * perBin, perBin))
                        if (s.Inside) sum += s.W1 * plane[s.P1] + s.W2 * plane[s.P2] + s.W3 * plane[s.P3] + s.W4 * plane[s.P4];
                    output[offset + b] = sum / count;
                }
            });
        }
    }

    /// <inheritdoc/>
    public void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX), rois = Data(boxes);
        for (int k = 0; k < g.Boxes; k++)
        {
            var (samples, perBin, count) = PlaceRoiAlignSamples(rois.AsSpan(k * 5, 5), g);
            int batch = (int)rois[k * 5];
            AxisBlocks.Run(g.Channels, 4 * samples.Length, 1, (c, _, _) =>
            {
                var plane = inputGrad.AsSpan((batch * g.Channels + c) * g.InputPlaneSize, g.InputPlaneSize);
                int offset = (k * g.Channels + c) * g.OutputPlaneSize;
                for (int b = 0; b < g.OutputPlaneSize; b++)
                {
                    float grad = outputGrad[offset + b];
                    foreach (var s in samples.AsSpan(b * perBin, perBin))
                        if (s.Inside)
                        {
                            plane[s.P1] += grad * s.W1 / count;
                            plane[s.P2] += grad * s.W2 / count;
                            plane[s.P3] += grad * s.W3 / count;
                            plane[s.P4] += grad * s.W4 / count;
                        }
                }
            });
        }
    }

    /// <summary>One bilinear sample: four cells of the plane and their weights; none when it lies beyond the map's one-cell band.</summary>
    readonly record struct BilinearSample(bool Inside, int P1, int P2, int P3, int P4, float W1, float W2, float W3, float W4);

    /// <summary>
    /// The samples of every bin of one box, bin after bin (<c>perBin</c> each, a grid of rows × columns), and the
    /// divisor of their sum: the grid's size, at least 1 (an aligned box of zero size has no samples and gives 0).
    /// </summary>
    static (BilinearSample[] Samples, int PerBin, float Count) PlaceRoiAlignSamples(ReadOnlySpan<float> roi, RoiGeometry g)
    {
        float offset = g.Aligned ? 0.5f : 0f;
        float startW = roi[1] * g.SpatialScale - offset, startH = roi[2] * g.SpatialScale - offset;
        float roiWidth = roi[3] * g.SpatialScale - offset - startW, roiHeight = roi[4] * g.SpatialScale - offset - startH;
        if (!g.Aligned)
        {
            roiWidth = Math.Max(roiWidth, 1f);
            roiHeight = Math.Max(roiHeight, 1f);
        }
        float binH = roiHeight / g.OutputHeight, binW = roiWidth / g.OutputWidth;
        int rows = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(roiHeight / g.OutputHeight);
        int columns = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(roiWidth / g.OutputWidth);
        rows = Math.Max(rows, 0);
        columns = Math.Max(columns, 0);
        var samples = new BilinearSample[g.OutputPlaneSize * rows * columns];
        int i = 0;
        for (int ph = 0; ph < g.OutputHeight; ph++)
            for (int pw = 0; pw < g.OutputWidth; pw++)
                for (int iy = 0; iy < rows; iy++)
                {
                    float y = startH + ph * binH + (iy + 0.5f) * binH / rows;
                    for (int ix = 0; ix < columns; ix++)
                        samples[i++] = Bilinear(y, startW + pw * binW + (ix + 0.5f) * binW / columns, g.Height, g.Width);
                }
        return (samples, rows * columns, Math.Max(rows * columns, 1));
    }

    /// <summary>torchvision's bilinear_interpolate: zero beyond [−1, size], clamped onto the map within that band.</summary>
    static BilinearSample Bilinear(float y, float x, int height, int width)
    {
        if (y < -1f || y > height || x < -1f || x > width) return default;
        y = Math.Max(y, 0f);
        x = Math.Max(x, 0f);
        int yLow = (int)y, xLow = (int)x, yHigh, xHigh;
        if (yLow >= height - 1) { yHigh = yLow = height - 1; y = yLow; }
        else yHigh = yLow + 1;
        if (xLow >= width - 1) { xHigh = xLow = width - 1; x = xLow; }
        else xHigh = xLow + 1;
        float ly = y - yLow, lx = x - xLow, hy = 1f - ly, hx = 1f - lx;
        return new BilinearSample(true, yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh,
            hy * hx, hy * lx, ly * hx, ly * lx);
    }
}
