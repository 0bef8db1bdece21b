namespace ConvKit.Backends.Reference;

// 2-D pooling by scanning each window of each plane. Window (oh, ow) covers rows oh·stride − padding + i·dilation
// (i < kernel; columns likewise); positions outside the input are padding.
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void MaxPool2d(Storage x, Pool2dGeometry g, Storage y, Storage argmax) =>
        MaxPool(Data(x), g, Data(y), Indices(argmax));

    /// <inheritdoc/>
    public void MaxPool2dValues(Storage x, Pool2dGeometry g, Storage y) =>
        MaxPool(Data(x), g, Data(y), new int[Data(y).Length]);

    /// <summary>
    /// Padding counts as −∞; the first maximum in row-major order wins, and NaN beats everything (PyTorch's rule). A
    /// window wholly in the padding gives −∞ and argmax −1, so it passes no gradient back.
    /// </summary>
    static void MaxPool(float[] input, in Pool2dGeometry g, float[] output, Span<int> argmax)
    {
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    float best = float.NegativeInfinity;
                    int bestAt = -1;
                    for (int i = 0; i < g.Kernel.Height; i++)
                        for (int j = 0; j < g.Kernel.Width; j++)
                        {
                            int h = oh * g.Stride.Height - g.Padding.Height + i * g.Dilation.Height;
                            int w = ow * g.Stride.Width - g.Padding.Width + j * g.Dilation.Width;
                            if (h < 0 || h >= g.InputHeight || w < 0 || w >= g.InputWidth) continue;
                            float v = input[p * g.InputPlaneSize + h * g.InputWidth + w];
                            if (bestAt < 0 || v > best || float.IsNaN(v)) { best = v; bestAt = h * g.InputWidth + w; }
                        }
                    output[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] = best;
                    argmax[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] = bestAt;
                }
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        var positions = Indices(argmax);
        for (int p = 0; p < g.Planes; p++)
            for (int k = 0; k < g.OutputPlaneSize; k++)
            {
                int at = positions[p * g.OutputPlaneSize + k];
                if (at >= 0) inputGrad[p * g.InputPlaneSize + at] += outputGrad[p * g.OutputPlaneSize + k];
            }
    }

    /// <summary>
    /// The part of average-pooling window (oh, ow) inside the input, [h0, h1) × [w0, w1), and its divisor. As in PyTorch,
    /// the window is first clipped to the padded input (bottom and right padding are the same as top and left); that
    /// size is the divisor with countIncludePad, the in-input size without; a non-zero override replaces both.
    /// </summary>
    static (int H0, int H1, int W0, int W1, int Divisor) AverageWindow(in Pool2dGeometry g, int oh, int ow, bool countIncludePad, int divisorOverride)
    {
        int h0 = oh * g.Stride.Height - g.Padding.Height, w0 = ow * g.Stride.Width - g.Padding.Width;
        int h1 = Math.Min(h0 + g.Kernel.Height, g.InputHeight + g.Padding.Height);
        int w1 = Math.Min(w0 + g.Kernel.Width, g.InputWidth + g.Padding.Width);
        int paddedSize = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, g.InputHeight);
        w1 = Math.Min(w1, g.InputWidth);
        int divisor = divisorOverride != 0 ? divisorOverride : countIncludePad ? paddedSize : (h1 - h0) * (w1 - w0);
        return (h0, h1, w0, w1, divisor);
    }

    /// <inheritdoc/>
    public void AvgPool2d(Storage x, Pool2dGeometry g, bool countIncludePad, int divisorOverride, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1, w0, w1, divisor) = AverageWindow(g, oh, ow, countIncludePad, divisorOverride);
                    double sum = 0;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) sum += input[p * g.InputPlaneSize + h * g.InputWidth + w];
                    // A window wholly in the padding has nothing to average (and may have a zero divisor).
                    output[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] = h0 < h1 && w0 < w1 ? (float)(sum / divisor) : 0;
                }
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(Storage gradY, Pool2dGeometry g, bool countIncludePad, int divisorOverride, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1, w0, w1, divisor) = AverageWindow(g, oh, ow, countIncludePad, divisorOverride);
                    float share = (float)((double)outputGrad[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] / divisor);
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) inputGrad[p * g.InputPlaneSize + h * g.InputWidth + w] += share;
                }
    }

    /// <summary>Cells [⌊i·in/out⌋, ⌈(i + 1)·in/out⌉) of an axis that adaptive output cell i averages.</summary>
    static (int Start, int End) AdaptiveWindow(int i, int inputSize, int outputSize) =>
        ((int)Math.Floor((double)i * inputSize / outputSize), (int)Math.Ceiling((double)(i + 1) * inputSize / outputSize));

    /// <inheritdoc/>
    public void AdaptiveAvgPool2d(Storage x, Pool2dGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1) = AdaptiveWindow(oh, g.InputHeight, g.OutputHeight);
                    var (w0, w1) = AdaptiveWindow(ow, g.InputWidth, g.OutputWidth);
                    double sum = 0;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) sum += input[p * g.InputPlaneSize + h * g.InputWidth + w];
                    output[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] = (float)(sum / ((h1 - h0) * (w1 - w0)));
                }
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Storage gradY, Pool2dGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1) = AdaptiveWindow(oh, g.InputHeight, g.OutputHeight);
                    var (w0, w1) = AdaptiveWindow(ow, g.InputWidth, g.OutputWidth);
                    float share = (float)((double)outputGrad[p * g.OutputPlaneSize + oh * g.OutputWidth + ow] / ((h1 - h0) * (w1 - w0)));
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) inputGrad[p * g.InputPlaneSize + h * g.InputWidth + w] += share;
                }
    }
}
