using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

// 2-D pooling, one (H, W) plane at a time, planes in parallel. Window bounds follow PyTorch's CPU kernels
// exactly, so ceil-mode edge windows, padding and divisors agree value for value.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void MaxPool2d(Storage x, Pool2dGeometry g, Storage y, Storage argmax)
    {
        float[] input = Data(x), output = Data(y);
        int[] indices = Indices(argmax);
        AxisBlocks.Run(g.Planes, g.InputPlaneSize, 1, (p, _, _) =>
        {
            var plane = input.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var values = output.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            var positions = indices.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            if (IsPlainHalving(g)) MaxPoolHalving(plane, g, values, positions);
            else MaxPoolPlane(plane, g, values, positions);
        });
    }

    /// <summary>Values only: the separable passes of <see cref="SeparablePool"/>, or small planes channels-last (<see cref="ChannelsLastPool"/>).</summary>
    public void MaxPool2dValues(Storage x, Pool2dGeometry g, Storage y)
    {
        if (ChannelsLastPool.Takes(g)) ChannelsLastPool.Max(Data(x), Data(y), g);
        else SeparablePool.Run(Data(x), Data(y), g, max: true);
    }

    /// <summary>The common 2×2, stride-2, unpadded case with every window inside the input.</summary>
    static bool IsPlainHalving(in Pool2dGeometry g) =>
        g.Kernel == new Size2(2, 2) && g.Stride == new Size2(2, 2) && g.Padding == new Size2(0, 0) && g.Dilation == new Size2(1, 1)
        && 2 * g.OutputHeight <= g.InputHeight && 2 * g.OutputWidth <= g.InputWidth;

    static void MaxPoolPlane(ReadOnlySpan<float> x, in Pool2dGeometry g, Span<float> y, Span<int> argmax)
    {
        int width = g.InputWidth, outputWidth = g.OutputWidth;
        int strideW = g.Stride.Width, paddingW = g.Padding.Width, kernelW = g.Kernel.Width, dilationH = g.Dilation.Height, dilationW = g.Dilation.Width;
        for (int oh = 0; oh < g.OutputHeight; oh++)
        {
            var (h0, h1) = WindowSpan(oh, g.Stride.Height, g.Padding.Height, g.Kernel.Height, dilationH, g.InputHeight);
            for (int ow = 0; ow < outputWidth; ow++)
            {
                var (w0, w1) = WindowSpan(ow, strideW, paddingW, kernelW, dilationW, width);
                // Like PyTorch: the first in-range position is the answer if nothing beats −∞
                // (none for a window wholly in the padding, which gets no gradient).
                float best = float.NegativeInfinity;
                int bestIndex = h0 < h1 && w0 < w1 ? h0 * width + w0 : -1;
                for (int h = h0; h < h1; h += dilationH)
                {
                    var row = x.Slice(h * width, w1);
                    for (int w = w0; w < row.Length; w += dilationW)
                    {
                        float value = row[w];
                        if (value > best || float.IsNaN(value)) { best = value; bestIndex = h * width + w; }
                    }
                }
                y[oh * outputWidth + ow] = best;
                argmax[oh * outputWidth + ow] = bestIndex;
            }
        }
    }

    static void MaxPoolHalving(ReadOnlySpan<float> x, in Pool2dGeometry g, Span<float> y, Span<int> argmax)
    {
        int width = g.InputWidth, outputWidth = g.OutputWidth;
        var evenColumns = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        for (int oh = 0; oh < g.OutputHeight; oh++)
        {
            int top = 2 * oh * width, bottom = top + width;
            var yRow = y.Slice(oh * outputWidth, outputWidth);
            var indexRow = argmax.Slice(oh * outputWidth, outputWidth);
            int ow = 0;
            // Eight outputs at a time from 16 columns of both rows (2·OW ≤ W keeps the loads inside the rows).
            if (Vector256.IsHardwareAccelerated)
                for (; ow + 8 <= outputWidth; ow += 8)
                {
                    var (topLeft, topRight) = Deinterleave(x.Slice(top + 2 * ow, 16));
                    var (bottomLeft, bottomRight) = Deinterleave(x.Slice(bottom + 2 * ow, 16));
                    var topIndex = Vector256.Create(top + 2 * ow) + evenColumns;
                    var bottomIndex = Vector256.Create(bottom + 2 * ow) + evenColumns;
                    var best = topLeft;
                    var index = topIndex;
                    Challenge(ref best, ref index, topRight, topIndex + Vector256<int>.One);
                    Challenge(ref best, ref index, bottomLeft, bottomIndex);
                    Challenge(ref best, ref index, bottomRight, bottomIndex + Vector256<int>.One);
                    best.CopyTo(yRow[ow..]);
                    index.CopyTo(indexRow[ow..]);
                }
            for (; ow < outputWidth; ow++)
            {
                // Scan order (top-left, top-right, bottom-left, bottom-right) decides ties, as in the general loop.
                int a = top + 2 * ow, best = a;
                if (x[a + 1] > x[best] || float.IsNaN(x[a + 1])) best = a + 1;
                int b = bottom + 2 * ow;
                if (x[b] > x[best] || float.IsNaN(x[b])) best = b;
                if (x[b + 1] > x[best] || float.IsNaN(x[b + 1])) best = b + 1;
                yRow[ow] = x[best];
                indexRow[ow] = best;
            }
        }
    }

    /// <summary>Splits 16 consecutive values into the 8 at even and the 8 at odd offsets.</summary>
    static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(ReadOnlySpan<float> values)
    {
        var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        var low = Vector256.Shuffle(Vector256.Create(values), order);
        var high = Vector256.Shuffle(Vector256.Create(values[8..]), order);
        return (Vector256.Create(low.GetLower(), high.GetLower()), Vector256.Create(low.GetUpper(), high.GetUpper()));
    }

    /// <summary>Lanes where the candidate is larger, or NaN, take the candidate and its index (PyTorch's rule).</summary>
    static void Challenge(ref Vector256<float> best, ref Vector256<int> index, Vector256<float> candidate, Vector256<int> candidateIndex)
    {
        var wins = Vector256.GreaterThan(candidate, best) | ~Vector256.Equals(candidate, candidate);
        best = Vector256.ConditionalSelect(wins, candidate, best);
        index = Vector256.ConditionalSelect(wins.AsInt32(), candidateIndex, index);
    }

    /// <inheritdoc/>
    public void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        int[] indices = Indices(argmax);
        AxisBlocks.Run(g.Planes, g.InputPlaneSize, 1, (p, _, _) =>
        {
            var plane = inputGrad.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var grads = outputGrad.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            var positions = indices.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int i = 0; i < grads.Length; i++)
                if ((uint)positions[i] < (uint)plane.Length) plane[positions[i]] += grads[i];
        });
    }

    /// <summary>
    /// Rows (or columns) [start, end) that window <paramref name="index"/> covers inside the input; start is
    /// moved forward by whole dilation steps past any leading padding.
    /// </summary>
    static (int Start, int End) WindowSpan(int index, int stride, int padding, int kernel, int dilation, int size)
    {
        int start = index * stride - padding;
        int end = Math.Min(start + (kernel - 1) * dilation + 1, size);
        if (start < 0) start += (-start + dilation - 1) / dilation * dilation;
        return (start, end);
    }

    /// <inheritdoc/>
    public void AvgPool2d(Storage x, Pool2dGeometry g, bool countIncludePad, int divisorOverride, Storage y)
    {
        if (ChannelsLastPool.Takes(g)) ChannelsLastPool.Average(Data(x), Data(y), g, countIncludePad, divisorOverride);
        else SeparablePool.Run(Data(x), Data(y), g, max: false, countIncludePad, divisorOverride);
    }

    /// <inheritdoc/>
    public void AvgPool2dBackward(Storage gradY, Pool2dGeometry g, bool countIncludePad, int divisorOverride, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        AxisBlocks.Run(g.Planes, g.InputPlaneSize, 1, (p, _, _) =>
        {
            var plane = inputGrad.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var grads = outputGrad.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            int width = g.InputWidth;
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1, w0, w1, divisor) = AvgWindow(g, oh, ow, countIncludePad, divisorOverride);
                    float share = grads[oh * g.OutputWidth + ow] / divisor;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) plane[h * width + w] += share;
                }
        });
    }

    /// <summary>The in-input part [h0, h1) × [w0, w1) of average-pooling window (oh, ow), and its divisor (see <see cref="AvgSpan"/>).</summary>
    static (int H0, int H1, int W0, int W1, int Divisor) AvgWindow(in Pool2dGeometry g, int oh, int ow, bool countIncludePad, int divisorOverride)
    {
        var (h0, h1, paddedHeight) = AvgSpan(oh, g.Stride.Height, g.Padding.Height, g.Kernel.Height, g.InputHeight);
        var (w0, w1, paddedWidth) = AvgSpan(ow, g.Stride.Width, g.Padding.Width, g.Kernel.Width, g.InputWidth);
        int divisor = divisorOverride != 0 ? divisorOverride : countIncludePad ? paddedHeight * paddedWidth : (h1 - h0) * (w1 - w0);
        return (h0, h1, w0, w1, divisor);
    }

    /// <summary>
    /// Average-pooling window <paramref name="index"/> along one axis, by PyTorch's rule: the window is first clipped
    /// to the padded input (its length there, Padded, is the count-include-pad divisor's factor), then to the input
    /// itself, [Start, End) (whose length is the other divisor's).
    /// </summary>
    internal static (int Start, int End, int Padded) AvgSpan(int index, int stride, int padding, int kernel, int size)
    {
        int start = index * stride - padding, end = Math.Min(start + kernel, size + padding);
        return (Math.Max(start, 0), Math.Min(end, size), end - start);
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2d(Storage x, Pool2dGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        if (g.OutputPlaneSize == 1)
        {
            // Global pooling (every squeeze-and-excitation block): one vectorised sum a plane, not one a row of 7 or
            // 14; on the calling thread below a million values, where splitting it across two cores made it 4× slower.
            int n = g.InputPlaneSize;
            void Mean(int p, int column, int width) => output[p] = TensorPrimitives.Sum(input.AsSpan(p * n, n)) / n;
            if ((long)g.Planes * n < 1 << 20)
                for (int p = 0; p < g.Planes; p++) Mean(p, 0, 1);
            else AxisBlocks.Run(g.Planes, n, 1, Mean);
            return;
        }
        AxisBlocks.Run(g.Planes, g.InputPlaneSize, 1, (p, _, _) =>
        {
            var plane = input.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var values = output.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var (h0, h1) = AdaptiveSpan(oh, g.InputHeight, g.OutputHeight);
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (w0, w1) = AdaptiveSpan(ow, g.InputWidth, g.OutputWidth);
                    float sum = 0;
                    for (int h = h0; h < h1; h++) sum += TensorPrimitives.Sum(plane.Slice(h * g.InputWidth + w0, w1 - w0));
                    values[oh * g.OutputWidth + ow] = sum / ((h1 - h0) * (w1 - w0));
                }
            }
        });
    }

    /// <inheritdoc/>
    public void AdaptiveAvgPool2dBackward(Storage gradY, Pool2dGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        AxisBlocks.Run(g.Planes, g.InputPlaneSize, 1, (p, _, _) =>
        {
            var plane = inputGrad.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
            var grads = outputGrad.AsSpan(p * g.OutputPlaneSize, g.OutputPlaneSize);
            for (int oh = 0; oh < g.OutputHeight; oh++)
            {
                var (h0, h1) = AdaptiveSpan(oh, g.InputHeight, g.OutputHeight);
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (w0, w1) = AdaptiveSpan(ow, g.InputWidth, g.OutputWidth);
                    float share = grads[oh * g.OutputWidth + ow] / ((h1 - h0) * (w1 - w0));
                    for (int h = h0; h < h1; h++)
                    {
                        var row = plane.Slice(h * g.InputWidth + w0, w1 - w0);
                        TensorPrimitives.Add(row, share, row);
                    }
                }
            }
        });
    }

    /// <summary>Adaptive window of output cell <paramref name="index"/>: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉).</summary>
    static (int Start, int End) AdaptiveSpan(int index, int inputSize, int outputSize) =>
        ((int)((long)index * inputSize / outputSize), (int)(((long)(index + 1) * inputSize + outputSize - 1) / outputSize));
}
