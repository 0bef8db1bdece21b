using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Batch and local response normalisation. Batch-norm kernels run a channel at a time (its N rows of L
// values), so the second pass over a channel mostly hits cache; sums go to float64 across rows.
// (N, C) inputs (spatial = 1) have rows of one value, too short for that: their kernels run down the batch
// axis instead, a block of channels at a time as vectors (the *ByRows methods).
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void BatchNormStatistics(Storage x, int batch, int channels, int spatial, Storage mean, Storage variance)
    {
        float[] input = Data(x), means = Data(mean), variances = Data(variance);
        if (spatial == 1) { BatchNormStatisticsByRows(input, batch, channels, means, variances); return; }
        double count = (double)batch * spatial;
        AxisBlocks.Run(channels, batch * spatial, 1, (c, _, _) =>
        {
            double sum = 0;
            for (int n = 0; n < batch; n++) sum += TensorPrimitives.Sum(input.AsSpan((n * channels + c) * spatial, spatial));
            float center = (float)(sum / count);
            // Two passes: squared deviations from the mean, free of the E[x²] − E[x]² cancellation.
            double squares = 0;
            for (int n = 0; n < batch; n++) squares += SquaredDeviations(input.AsSpan((n * channels + c) * spatial, spatial), center);
            means[c] = center;
            variances[c] = (float)(squares / count);
        });
    }

    /// <summary>Σ (x − center)².</summary>
    static double SquaredDeviations(ReadOnlySpan<float> row, float center)
    {
        var sum = Vector<float>.Zero;
        var centers = new Vector<float>(center);
        int i = 0;
        for (; i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var deviation = new Vector<float>(row[i..]) - centers;
            sum += deviation * deviation;
        }
        double total = Vector.Sum(sum);
        for (; i < row.Length; i++) total += (row[i] - center) * (row[i] - center);
        return total;
    }

    /// <summary>Σ g·(x − center).</summary>
    static double CenteredDot(ReadOnlySpan<float> g, ReadOnlySpan<float> row, float center)
    {
        var sum = Vector<float>.Zero;
        var centers = new Vector<float>(center);
        int i = 0;
        for (; i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
            sum += new Vector<float>(g[i..]) * (new Vector<float>(row[i..]) - centers);
        double total = Vector.Sum(sum);
        for (; i < row.Length; i++) total += g[i] * (row[i] - center);
        return total;
    }

    /// <inheritdoc/>
    public void BatchNormNormalize(Storage x, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, Storage? bias, Storage y)
    {
        float[] input = Data(x), output = Data(y), means = Data(mean), invStds = Data(invStd);
        float[]? weights = weight == null ? null : Data(weight), biases = bias == null ? null : Data(bias);
        if (spatial == 1) { BatchNormNormalizeByRows(input, batch, channels, means, invStds, weights, biases, output); return; }
        AxisBlocks.Run(batch * channels, spatial, 1, (row, _, _) =>
        {
            int c = row % channels;
            // y = x·scale + shift with the affine map folded in.
            float scale = invStds[c] * (weights?[c] ?? 1f);
            float shift = (biases?[c] ?? 0f) - means[c] * scale;
            ScaleShift(input.AsSpan(row * spatial, spatial), scale, shift, output.AsSpan(row * spatial, spatial));
        });
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Storage x, Storage gradY, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, bool batchStatistics, Storage? gradX, Storage gradWeight, Storage gradBias)
    {
        float[] input = Data(x), outputGrad = Data(gradY), means = Data(mean), invStds = Data(invStd);
        float[] weightGrads = Data(gradWeight), biasGrads = Data(gradBias);
        float[]? weights = weight == null ? null : Data(weight), inputGrad = gradX == null ? null : Data(gradX);
        if (spatial == 1)
        {
            BatchNormBackwardByRows(input, outputGrad, batch, channels, means, invStds, weights, batchStatistics, inputGrad, weightGrads, biasGrads);
            return;
        }
        double count = (double)batch * spatial;
        AxisBlocks.Run(channels, 2 * batch * spatial, 1, (c, _, _) =>
        {
            float center = means[c], invStdC = invStds[c];
            double sumGrad = 0, sumGradCentered = 0;
            for (int n = 0; n < batch; n++)
            {
                int offset = (n * channels + c) * spatial;
                sumGrad += TensorPrimitives.Sum(outputGrad.AsSpan(offset, spatial));
                sumGradCentered += CenteredDot(outputGrad.AsSpan(offset, spatial), input.AsSpan(offset, spatial), center);
            }
            biasGrads[c] = (float)sumGrad;
            weightGrads[c] = (float)(sumGradCentered * invStdC);
            if (inputGrad == null) return;

            // gradX = a·gradY + b·(x − mean) + shift; with batch statistics the mean and x̂ terms are the
            // gradient flowing through the mean and the variance.
            float a = invStdC * (weights?[c] ?? 1f);
            float b = batchStatistics ? (float)(-a * invStdC * invStdC * sumGradCentered / count) : 0f;
            float shift = batchStatistics ? (float)(-a * sumGrad / count) : 0f;
            for (int n = 0; n < batch; n++)
            {
                int offset = (n * channels + c) * spatial;
                BatchNormInputGrad(outputGrad.AsSpan(offset, spatial), input.AsSpan(offset, spatial), center, a, b, shift,
                    inputGrad.AsSpan(offset, spatial));
            }
        });
    }

    /// <summary>y = x·scale + shift.</summary>
    static void ScaleShift(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
    {
        var scales = new Vector<float>(scale);
        var shifts = new Vector<float>(shift);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            Vector.FusedMultiplyAdd(new Vector<float>(x[i..]), scales, shifts).CopyTo(y[i..]);
        for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(x[i], scale, shift);
    }

    /// <summary>dx = a·g + b·(x − center) + shift.</summary>
    static void BatchNormInputGrad(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float center, float a, float b, float shift, Span<float> dx)
    {
        var centers = new Vector<float>(center);
        var av = new Vector<float>(a);
        var bv = new Vector<float>(b);
        var shifts = new Vector<float>(shift);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            (av * new Vector<float>(g[i..]) + bv * (new Vector<float>(x[i..]) - centers) + shifts).CopyTo(dx[i..]);
        for (; i < x.Length; i++) dx[i] = a * g[i] + b * (x[i] - center) + shift;
    }

    static void BatchNormStatisticsByRows(float[] x, int batch, int channels, float[] means, float[] variances) =>
        AxisBlocks.Run(1, batch, channels, (_, first, width) =>
        {
            var mean = means.AsSpan(first, width);
            var variance = variances.AsSpan(first, width);
            Span<float> deviation = stackalloc float[width];
            mean.Clear();
            for (int n = 0; n < batch; n++) TensorPrimitives.Add(mean, x.AsSpan(n * channels + first, width), mean);
            TensorPrimitives.Multiply(mean, 1f / batch, mean);
            variance.Clear();
            for (int n = 0; n < batch; n++)
            {
                TensorPrimitives.Subtract(x.AsSpan(n * channels + first, width), mean, deviation);
                TensorPrimitives.MultiplyAdd(deviation, deviation, variance, variance);
            }
            TensorPrimitives.Multiply(variance, 1f / batch, variance);
        });

    static void BatchNormNormalizeByRows(float[] x, int batch, int channels, float[] means, float[] invStds,
        float[]? weights, float[]? biases, float[] y) =>
        AxisBlocks.Run(1, batch, channels, (_, first, width) =>
        {
            Span<float> scale = stackalloc float[width], shift = stackalloc float[width];
            invStds.AsSpan(first, width).CopyTo(scale);
            if (weights != null) TensorPrimitives.Multiply(scale, weights.AsSpan(first, width), scale);
            TensorPrimitives.Multiply(means.AsSpan(first, width), scale, shift);
            if (biases != null) TensorPrimitives.Subtract(biases.AsSpan(first, width), shift, shift);
            else TensorPrimitives.Negate(shift, shift);
            for (int n = 0; n < batch; n++)
                TensorPrimitives.MultiplyAdd(x.AsSpan(n * channels + first, width), scale, shift, y.AsSpan(n * channels + first, width));
        });

    static void BatchNormBackwardByRows(float[] x, float[] gradY, int batch, int channels, float[] means, float[] invStds,
        float[]? weights, bool batchStatistics, float[]? gradX, float[] weightGrads, float[] biasGrads) =>
        AxisBlocks.Run(1, batch, channels, (_, first, width) =>
        {
            var mean = means.AsSpan(first, width);
            var invStd = invStds.AsSpan(first, width);
            var sumGrad = biasGrads.AsSpan(first, width);
            Span<float> sumGradCentered = stackalloc float[width], deviation = stackalloc float[width];
            sumGrad.Clear();
            sumGradCentered.Clear();
            for (int n = 0; n < batch; n++)
            {
                var g = gradY.AsSpan(n * channels + first, width);
                TensorPrimitives.Add(sumGrad, g, sumGrad);
                TensorPrimitives.Subtract(x.AsSpan(n * channels + first, width), mean, deviation);
                TensorPrimitives.MultiplyAdd(g, deviation, sumGradCentered, sumGradCentered);
            }
            TensorPrimitives.Multiply(sumGradCentered, invStd, weightGrads.AsSpan(first, width));
            if (gradX == null) return;

            // gradX = a·gradY + b·(x − mean) + shift, per channel as in the per-channel kernel.
            Span<float> a = stackalloc float[width], b = stackalloc float[width], shift = stackalloc float[width];
            invStd.CopyTo(a);
            if (weights != null) TensorPrimitives.Multiply(a, weights.AsSpan(first, width), a);
            b.Clear();
            shift.Clear();
            if (batchStatistics)
            {
                // b = −a·invStd²·Σ g(x − mean)/count, shift = −a·Σ g/count
                TensorPrimitives.Multiply(a, invStd, b);
                TensorPrimitives.Multiply(b, invStd, b);
                TensorPrimitives.Multiply(b, sumGradCentered, b);
                TensorPrimitives.Multiply(b, -1f / batch, b);
                TensorPrimitives.Multiply(a, sumGrad, shift);
                TensorPrimitives.Multiply(shift, -1f / batch, shift);
            }
            for (int n = 0; n < batch; n++)
            {
                var dx = gradX.AsSpan(n * channels + first, width);
                TensorPrimitives.Subtract(x.AsSpan(n * channels + first, width), mean, deviation);
                TensorPrimitives.MultiplyAdd(deviation, b, shift, dx);
                TensorPrimitives.MultiplyAdd(gradY.AsSpan(n * channels + first, width), a, dx, dx);
            }
        });

    /// <inheritdoc/>
    public void LocalResponseNorm(Storage x, int batch, int channels, int spatial, int size, float alpha, float beta, float k,
        Storage y, Storage scale)
    {
        float[] input = Data(x), output = Data(y), scales = Data(scale);
        AxisBlocks.Run(batch * channels, size * spatial, 1, (row, _, _) =>
        {
            int n = row / channels, c = row % channels;
            var sum = scales.AsSpan(row * spatial, spatial);
            sum.Clear();
            int first = Math.Max(0, c - size / 2), last = Math.Min(channels - 1, c + (size - 1) / 2);
            for (int j = first; j <= last; j++)
            {
                var neighbour = input.AsSpan((n * channels + j) * spatial, spatial);
                TensorPrimitives.MultiplyAdd(neighbour, neighbour, sum, sum);
            }
            ScaleShift(sum, alpha / size, k, sum);
            var result = output.AsSpan(row * spatial, spatial);
            TensorPrimitives.Pow(sum, -beta, result);
            TensorPrimitives.Multiply(result, input.AsSpan(row * spatial, spatial), result);
        });
    }

    /// <inheritdoc/>
    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage gradY, int batch, int channels, int spatial,
        int size, float alpha, float beta, Storage gradX)
    {
        float[] input = Data(x), output = Data(y), scales = Data(scale), outputGrad = Data(gradY), inputGrad = Data(gradX);
        int total = batch * channels * spatial;
        // ratio = gradY·y/scale, each channel's share of the gradient that reaches its neighbours through scale.
        float[] ratio = ArrayPool<float>.Shared.Rent(total);
        try
        {
            AxisBlocks.Run(batch * channels, spatial, 1, (row, _, _) =>
            {
                var r = ratio.AsSpan(row * spatial, spatial);
                TensorPrimitives.Multiply(outputGrad.AsSpan(row * spatial, spatial), output.AsSpan(row * spatial, spatial), r);
                TensorPrimitives.Divide(r, scales.AsSpan(row * spatial, spatial), r);
            });
            float coefficient = -2f * alpha * beta / size;
            AxisBlocks.Run(batch * channels, size * spatial, 1, (row, _, _) =>
            {
                int n = row / channels, c = row % channels;
                var dx = inputGrad.AsSpan(row * spatial, spatial);
                int first = Math.Max(0, c - (size - 1) / 2), last = Math.Min(channels - 1, c + size / 2);
                ratio.AsSpan((n * channels + first) * spatial, spatial).CopyTo(dx);
                for (int j = first + 1; j <= last; j++) TensorPrimitives.Add(dx, ratio.AsSpan((n * channels + j) * spatial, spatial), dx);
                TensorPrimitives.Multiply(dx, input.AsSpan(row * spatial, spatial), dx);

                float[] direct = ArrayPool<float>.Shared.Rent(spatial);
                var d = direct.AsSpan(0, spatial);
                TensorPrimitives.Pow(scales.AsSpan(row * spatial, spatial), -beta, d);
                TensorPrimitives.Multiply(d, outputGrad.AsSpan(row * spatial, spatial), d);
                TensorPrimitives.MultiplyAdd(dx, coefficient, d, dx);
                ArrayPool<float>.Shared.Return(direct);
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(ratio);
        }
    }
}
