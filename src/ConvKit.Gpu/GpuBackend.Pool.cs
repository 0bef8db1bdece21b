using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// 2-D max and average pooling. Forward: each thread owns output cells and scans their windows. Backward: a gather,
// each thread owns input cells and sums the outputs whose windows hold them, visiting those outputs in row-major
// order, the order the reference adds them in, so no atomics are needed and the sums round as the reference's do.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, Pool2dGeometry, ArrayView<float>, ArrayView<float>, ArrayView<int>>? maxPool;
    Action<AcceleratorStream, Index1D, Work, Pool2dGeometry, ArrayView<float>, ArrayView<int>, ArrayView<float>>? maxPoolBackward;
    Action<AcceleratorStream, Index1D, Work, Pool2dGeometry, int, int, ArrayView<float>, ArrayView<float>>? avgPool;
    Action<AcceleratorStream, Index1D, Work, Pool2dGeometry, int, int, ArrayView<float>, ArrayView<float>>? avgPoolBackward;

    /// <inheritdoc/>
    public override void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.OutputPlaneSize);
        Load(ref maxPool, a => a.LoadAutoGroupedKernel<Index1D, Work, Pool2dGeometry, ArrayView<float>, ArrayView<float>, ArrayView<int>>(MaxPoolKernel))(
            Stream, threads, work, geometry, Data(x), Data(y), Indices(argmax));
    }

    static void MaxPoolKernel(Index1D t, Work w, Pool2dGeometry g, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax)
    {
        for (int o = t; o < w.Count; o += w.Stride)
        {
            int p = o / g.OutputPlaneSize, k = o - p * g.OutputPlaneSize, oh = k / g.OutputWidth, ow = k - oh * g.OutputWidth;
            int plane = p * g.InputPlaneSize;
            // Padding is −∞; the first maximum in row-major order wins and NaN beats everything (PyTorch's rule). A
            // window wholly in the padding gives −∞ and argmax −1, which routes no gradient.
            float best = float.NegativeInfinity;
            int bestAt = -1;
            for (int i = 0; i < g.Kernel.Height; i++)
            {
                int h = oh * g.Stride.Height - g.Padding.Height + i * g.Dilation.Height;
                if (h < 0 || h >= g.InputHeight) continue;
                for (int j = 0; j < g.Kernel.Width; j++)
                {
                    int c = ow * g.Stride.Width - g.Padding.Width + j * g.Dilation.Width;
                    if (c < 0 || c >= g.InputWidth) continue;
                    float v = x[plane + h * g.InputWidth + c];
                    if (bestAt < 0 || v > best || float.IsNaN(v)) { best = v; bestAt = h * g.InputWidth + c; }
                }
            }
            y[o] = best;
            argmax[o] = bestAt;
        }
    }

    /// <inheritdoc/>
    public override void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.InputPlaneSize);
        Load(ref maxPoolBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, Pool2dGeometry, ArrayView<float>, ArrayView<int>, ArrayView<float>>(MaxPoolBackwardKernel))(
            Stream, threads, work, geometry, Data(gradY), Indices(argmax), Data(gradX));
    }

    /// <summary>
    /// Input cell (h, c) lies in window (oh, ow) at kernel offset (i, j) when h = oh·stride − padding + i·dilation:
    /// for each i, from the last to the first (oh rising), at most one oh. Of those windows, the ones whose argmax is
    /// this cell pass their gradient to it.
    /// </summary>
    static void MaxPoolBackwardKernel(Index1D t, Work w, Pool2dGeometry g, ArrayView<float> gradY, ArrayView<int> argmax, ArrayView<float> gradX)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e / g.InputPlaneSize, at = e - p * g.InputPlaneSize, h = at / g.InputWidth, c = at - h * g.InputWidth;
            int plane = p * g.OutputPlaneSize;
            float sum = gradX[e];
            for (int i = g.Kernel.Height - 1; i >= 0; i--)
            {
                int rh = h + g.Padding.Height - i * g.Dilation.Height;
                if (rh < 0 || rh % g.Stride.Height != 0) continue;
                int oh = rh / g.Stride.Height;
                if (oh >= g.OutputHeight) continue;
                for (int j = g.Kernel.Width - 1; j >= 0; j--)
                {
                    int rw = c + g.Padding.Width - j * g.Dilation.Width;
                    if (rw < 0 || rw % g.Stride.Width != 0) continue;
                    int ow = rw / g.Stride.Width;
                    if (ow >= g.OutputWidth) continue;
                    int o = plane + oh * g.OutputWidth + ow;
                    if (argmax[o] == at) sum += gradY[o];
                }
            }
            gradX[e] = sum;
        }
    }

    /// <inheritdoc/>
    public override void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.OutputPlaneSize);
        Load(ref avgPool, a => a.LoadAutoGroupedKernel<Index1D, Work, Pool2dGeometry, int, int, ArrayView<float>, ArrayView<float>>(AvgPoolKernel))(
            Stream, threads, work, geometry, countIncludePad ? 1 : 0, divisorOverride, Data(x), Data(y));
    }

    /// <summary>
    /// The part of window (oh, ow) inside the input, rows [h0, h1) and columns [w0, w1), and its divisor, as the
    /// reference computes them: the window is clipped to the padded input first (that size is the divisor with
    /// countIncludePad), then to the input (the divisor without); a non-zero override replaces both.
    /// </summary>
    static int AverageWindow(in Pool2dGeometry g, int oh, int ow, int countIncludePad, int divisorOverride, out int h0, out int h1, out int w0, out int w1)
    {
        h0 = oh * g.Stride.Height - g.Padding.Height;
        w0 = ow * g.Stride.Width - g.Padding.Width;
        h1 = Math.Min(h0 + g.Kernel.Height, g.InputHeight + g.Padding.Height);
        w1 = Math.Min(w0 + g.Kernel.Width, g.InputWidth + g.Padding.Width);
        int paddedSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, g.InputHeight);
        w1 = Math.Min(w1, g.InputWidth);
        return divisorOverride != 0 ? divisorOverride : countIncludePad != 0 ? paddedSize : (h1 - h0) * (w1 - w0);
    }

    static void AvgPoolKernel(Index1D t, Work w, Pool2dGeometry g, int countIncludePad, int divisorOverride, ArrayView<float> x, ArrayView<float> y)
    {
        for (int o = t; o < w.Count; o += w.Stride)
        {
            int p = o / g.OutputPlaneSize, k = o - p * g.OutputPlaneSize, oh = k / g.OutputWidth, ow = k - oh * g.OutputWidth;
            int divisor = AverageWindow(g, oh, ow, countIncludePad, divisorOverride, out int h0, out int h1, out int w0, out int w1);
            int plane = p * g.InputPlaneSize;
            // Summed in double, as the reference.
            double sum = 0;
            for (int h = h0; h < h1; h++)
                for (int c = w0; c < w1; c++) sum += x[plane + h * g.InputWidth + c];
            // A window wholly in the padding has nothing to average (and may have a zero divisor).
            y[o] = h0 < h1 && w0 < w1 ? (float)(sum / divisor) : 0f;
        }
    }

    /// <inheritdoc/>
    public override void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX)
    {
        var (threads, work) = For((long)geometry.Planes * geometry.InputPlaneSize);
        Load(ref avgPoolBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, Pool2dGeometry, int, int, ArrayView<float>, ArrayView<float>>(AvgPoolBackwardKernel))(
            Stream, threads, work, geometry, countIncludePad ? 1 : 0, divisorOverride, Data(gradY), Data(gradX));
    }

    /// <summary>
    /// Input row h lies in the windows oh with oh·stride − padding ≤ h &lt; oh·stride − padding + kernel (dilation is 1,
    /// and a window's clipping never removes an input row); columns likewise. Each such window adds its share,
    /// gradY / divisor rounded to float, in row-major order as the reference does.
    /// </summary>
    static void AvgPoolBackwardKernel(Index1D t, Work w, Pool2dGeometry g, int countIncludePad, int divisorOverride, ArrayView<float> gradY, ArrayView<float> gradX)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e / g.InputPlaneSize, at = e - p * g.InputPlaneSize, h = at / g.InputWidth, c = at - h * g.InputWidth;
            int plane = p * g.OutputPlaneSize;
            int ohFirst = Math.Max(CeilDiv(h + g.Padding.Height - g.Kernel.Height + 1, g.Stride.Height), 0);
            int ohLast = Math.Min((h + g.Padding.Height) / g.Stride.Height, g.OutputHeight - 1);
            int owFirst = Math.Max(CeilDiv(c + g.Padding.Width - g.Kernel.Width + 1, g.Stride.Width), 0);
            int owLast = Math.Min((c + g.Padding.Width) / g.Stride.Width, g.OutputWidth - 1);
            float sum = gradX[e];
            for (int oh = ohFirst; oh <= ohLast; oh++)
                for (int ow = owFirst; ow <= owLast; ow++)
                {
                    int divisor = AverageWindow(g, oh, ow, countIncludePad, divisorOverride, out _, out _, out _, out _);
                    sum += (float)((double)gradY[plane + oh * g.OutputWidth + ow] / divisor);
                }
            gradX[e] = sum;
        }
    }
}
