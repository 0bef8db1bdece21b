using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Region-of-interest pooling, torchvision's roi_pool and roi_align value for value (the reference backend is the
// definition). Forward kernels own one output element each; backward kernels take one gradY element each and add into
// gradX with atomics, for boxes overlap and bins share cells. Coordinates are computed in float32 step by step in the
// reference's order, because bin edges and sample cells change at exact boundaries.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>? roiPool;
    Action<AcceleratorStream, Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>>? roiPoolBackward;
    Action<AcceleratorStream, Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>? roiAlign;
    Action<AcceleratorStream, Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>? roiAlignBackward;

    /// <summary><see cref="RoiGeometry"/> as plain ints and floats (its bool passed as an int, which every ILGPU backend lays out alike).</summary>
    internal readonly record struct RoiArgs(int Channels, int Height, int Width, int OutputHeight, int OutputWidth,
        float SpatialScale, int SamplingRatio, int Aligned)
    {
        public RoiArgs(in RoiGeometry g)
            : this(g.Channels, g.Height, g.Width, g.OutputHeight, g.OutputWidth, g.SpatialScale, g.SamplingRatio, g.Aligned ? 1 : 0) { }
    }

    /// <summary>Rounds half away from zero (MathF.Round's AwayFromZero mode, which kernels cannot call); v − trunc(v) is exact.</summary>
    static int RoundAwayFromZero(float v)
    {
        int t = (int)v;
        float f = v - t;
        return f >= 0.5f ? t + 1 : f <= -0.5f ? t - 1 : t;
    }

    /// <summary>Output element <paramref name="i"/>'s box k, channel c and bin (ph, pw), and the offset of its input plane.</summary>
    static void RoiElement(int i, in RoiArgs g, ArrayView<float> boxes, out int k, out int ph, out int pw, out int plane)
    {
        pw = i % g.OutputWidth;
        int r = i / g.OutputWidth;
        ph = r % g.OutputHeight;
        r /= g.OutputHeight;
        int c = r % g.Channels;
        k = r / g.Channels;
        plane = ((int)boxes[k * 5] * g.Channels + c) * (g.Height * g.Width);
    }

    /// <inheritdoc/>
    public override void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax)
    {
        var (threads, work) = For((long)geometry.Boxes * geometry.Channels * geometry.OutputPlaneSize);
        Load(ref roiPool, a => a.LoadAutoGroupedKernel<Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(RoiPoolKernel))(
            Stream, threads, work, new RoiArgs(geometry), Data(x), Data(boxes), Data(y), Indices(argmax));
    }

    static void RoiPoolKernel(Index1D t, Work w, RoiArgs g, ArrayView<float> x, ArrayView<float> boxes, ArrayView<float> y, ArrayView<int> argmax)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            RoiElement(i, g, boxes, out int k, out int ph, out int pw, out int plane);
            // Box edges rounded to whole cells, at least one cell; bin i covers ⌊i·s⌋ … ⌈(i + 1)·s⌉ − 1, clipped to the map.
            int startW = RoundAwayFromZero(boxes[k * 5 + 1] * g.SpatialScale), startH = RoundAwayFromZero(boxes[k * 5 + 2] * g.SpatialScale);
            int endW = RoundAwayFromZero(boxes[k * 5 + 3] * g.SpatialScale), endH = RoundAwayFromZero(boxes[k * 5 + 4] * g.SpatialScale);
            float binHeight = Math.Max(endH - startH + 1, 1) / (float)g.OutputHeight;
            float binWidth = Math.Max(endW - startW + 1, 1) / (float)g.OutputWidth;
            int h0 = Math.Min(Math.Max((int)MathF.Floor(ph * binHeight) + startH, 0), g.Height);
            int h1 = Math.Min(Math.Max((int)MathF.Ceiling((ph + 1) * binHeight) + startH, 0), g.Height);
            int w0 = Math.Min(Math.Max((int)MathF.Floor(pw * binWidth) + startW, 0), g.Width);
            int w1 = Math.Min(Math.Max((int)MathF.Ceiling((pw + 1) * binWidth) + startW, 0), g.Width);
            // An empty bin is 0 with no argmax; otherwise the first strict maximum wins (so NaN never does, and an
            // all-NaN bin stays float.MinValue with argmax −1, as in the reference).
            bool empty = h1 <= h0 || w1 <= w0;
            float max = empty ? 0f : float.MinValue;
            int at = -1;
            for (int h = h0; h < h1; h++)
                for (int col = w0; col < w1; col++)
                {
                    float v = x[plane + h * g.Width + col];
                    if (v > max) { max = v; at = h * g.Width + col; }
                }
            y[i] = max;
            argmax[i] = at;
        }
    }

    /// <inheritdoc/>
    public override void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX)
    {
        // gradX is zero-filled by the caller; this adds.
        var (threads, work) = For((long)geometry.Boxes * geometry.Channels * geometry.OutputPlaneSize);
        Load(ref roiPoolBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>>(RoiPoolBackwardKernel))(
            Stream, threads, work, new RoiArgs(geometry), Data(gradY), Data(boxes), Indices(argmax), Data(gradX));
    }

    static void RoiPoolBackwardKernel(Index1D t, Work w, RoiArgs g, ArrayView<float> gradY, ArrayView<float> boxes, ArrayView<int> argmax, ArrayView<float> gradX)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            int at = argmax[i];
            if (at < 0) continue;
            RoiElement(i, g, boxes, out _, out _, out _, out int plane);
            Atomic.Add(ref gradX[plane + at], gradY[i]);
        }
    }

    /// <summary>
    /// The four cells a bilinear sample blends and their weights (torchvision's bilinear_interpolate): no cells beyond
    /// [−1, size] on either axis; within that band the sample is clamped onto the map, and at the last row or column
    /// both neighbours are that row or column.
    /// </summary>
    struct Bilinear
    {
        public bool Valid;
        public int C00, C01, C10, C11;
        public float W00, W01, W10, W11;
    }

    static Bilinear BilinearSample(float y, float x, int height, int width)
    {
        var s = default(Bilinear);
        if (y < -1f || y > height || x < -1f || x > width) return s;
        y = Math.Max(y, 0f);
        x = Math.Max(x, 0f);
        int y0 = (int)y, x0 = (int)x, y1, x1;
        if (y0 >= height - 1) { y0 = y1 = height - 1; y = y0; } else y1 = y0 + 1;
        if (x0 >= width - 1) { x0 = x1 = width - 1; x = x0; } else x1 = x0 + 1;
        float ly = y - y0, lx = x - x0, hy = 1f - ly, hx = 1f - lx;
        s.Valid = true;
        s.C00 = y0 * width + x0; s.W00 = hy * hx;
        s.C01 = y0 * width + x1; s.W01 = hy * lx;
        s.C10 = y1 * width + x0; s.W10 = ly * hx;
        s.C11 = y1 * width + x1; s.W11 = ly * lx;
        return s;
    }

    /// <summary>
    /// Box k's sample grid: where it starts, a bin's size and the samples per bin along each axis (sampling ratio ≤ 0:
    /// ⌈bin size⌉). Aligned boxes are shifted by half a cell; unaligned ones are at least one cell on each side.
    /// </summary>
    static void RoiAlignGrid(int k, in RoiArgs g, ArrayView<float> boxes,
        out float startH, out float startW, out float binH, out float binW, out int rows, out int columns)
    {
        float offset = g.Aligned != 0 ? 0.5f : 0f;
        startW = boxes[k * 5 + 1] * g.SpatialScale - offset;
        startH = boxes[k * 5 + 2] * g.SpatialScale - offset;
        float width = boxes[k * 5 + 3] * g.SpatialScale - offset - startW, height = boxes[k * 5 + 4] * g.SpatialScale - offset - startH;
        if (g.Aligned == 0)
        {
            width = Math.Max(width, 1f);
            height = Math.Max(height, 1f);
        }
        rows = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(height / g.OutputHeight);
        columns = g.SamplingRatio > 0 ? g.SamplingRatio : (int)MathF.Ceiling(width / g.OutputWidth);
        rows = Math.Max(rows, 0);
        columns = Math.Max(columns, 0);
        binH = height / g.OutputHeight;
        binW = width / g.OutputWidth;
    }

    /// <inheritdoc/>
    public override void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y)
    {
        var (threads, work) = For((long)geometry.Boxes * geometry.Channels * geometry.OutputPlaneSize);
        Load(ref roiAlign, a => a.LoadAutoGroupedKernel<Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(RoiAlignKernel))(
            Stream, threads, work, new RoiArgs(geometry), Data(x), Data(boxes), Data(y));
    }

    static void RoiAlignKernel(Index1D t, Work w, RoiArgs g, ArrayView<float> x, ArrayView<float> boxes, ArrayView<float> y)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            RoiElement(i, g, boxes, out int k, out int ph, out int pw, out int plane);
            RoiAlignGrid(k, g, boxes, out float startH, out float startW, out float binH, out float binW, out int rows, out int columns);
            float count = Math.Max(rows * columns, 1); // an aligned box of zero size has no samples and gives 0
            // The mean in double, as the reference: each weight divided by the count in float first, as it does.
            double sum = 0;
            for (int iy = 0; iy < rows; iy++)
            {
                float sy = startH + ph * binH + (iy + 0.5f) * binH / rows;
                for (int ix = 0; ix < columns; ix++)
                {
                    float sx = startW + pw * binW + (ix + 0.5f) * binW / columns;
                    var s = BilinearSample(sy, sx, g.Height, g.Width);
                    if (!s.Valid) continue;
                    sum += (double)(s.W00 / count) * x[plane + s.C00];
                    sum += (double)(s.W01 / count) * x[plane + s.C01];
                    sum += (double)(s.W10 / count) * x[plane + s.C10];
                    sum += (double)(s.W11 / count) * x[plane + s.C11];
                }
            }
            y[i] = (float)sum;
        }
    }

    /// <inheritdoc/>
    public override void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX)
    {
        // gradX is zero-filled by the caller; this adds.
        var (threads, work) = For((long)geometry.Boxes * geometry.Channels * geometry.OutputPlaneSize);
        Load(ref roiAlignBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, RoiArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(RoiAlignBackwardKernel))(
            Stream, threads, work, new RoiArgs(geometry), Data(gradY), Data(boxes), Data(gradX));
    }

    static void RoiAlignBackwardKernel(Index1D t, Work w, RoiArgs g, ArrayView<float> gradY, ArrayView<float> boxes, ArrayView<float> gradX)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            float grad = gradY[i];
            RoiElement(i, g, boxes, out int k, out int ph, out int pw, out int plane);
            RoiAlignGrid(k, g, boxes, out float startH, out float startW, out float binH, out float binW, out int rows, out int columns);
            float count = Math.Max(rows * columns, 1);
            for (int iy = 0; iy < rows; iy++)
            {
                float sy = startH + ph * binH + (iy + 0.5f) * binH / rows;
                for (int ix = 0; ix < columns; ix++)
                {
                    float sx = startW + pw * binW + (ix + 0.5f) * binW / columns;
                    var s = BilinearSample(sy, sx, g.Height, g.Width);
                    if (!s.Valid) continue;
                    Atomic.Add(ref gradX[plane + s.C00], grad * (s.W00 / count));
                    Atomic.Add(ref gradX[plane + s.C01], grad * (s.W01 / count));
                    Atomic.Add(ref gradX[plane + s.C10], grad * (s.W10 / count));
                    Atomic.Add(ref gradX[plane + s.C11], grad * (s.W11 / count));
                }
            }
        }
    }
}
