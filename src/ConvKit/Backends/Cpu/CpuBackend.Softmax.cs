using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Softmax kernels over (outer, extent, inner), normalising along extent. When inner = 1 each row is contiguous and
// TensorPrimitives reduces it directly. Otherwise the reduced axis is strided, so whole inner-length rows are
// combined element-wise (running max, exp, sum) and the SIMD runs along the inner axis instead; that avoids a
// transpose for softmax over the channels of an (N, C, H, W) tensor. The forward subtracts the maximum first,
// so exp never overflows.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Softmax(Storage x, int outer, int extent, int inner, Storage y) =>
        SoftmaxKernels.Forward(Data(x), Data(y), outer, extent, inner, log: false);

    /// <inheritdoc/>
    public void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y) =>
        SoftmaxKernels.Forward(Data(x), Data(y), outer, extent, inner, log: true);

    /// <inheritdoc/>
    public void SoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx) =>
        SoftmaxKernels.Backward(Data(y), Data(dy), Data(dx), outer, extent, inner, log: false);

    /// <inheritdoc/>
    public void LogSoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx) =>
        SoftmaxKernels.Backward(Data(y), Data(dy), Data(dx), outer, extent, inner, log: true);
}

file static class SoftmaxKernels
{
    public static void Forward(float[] x, float[] y, int outer, int extent, int inner, bool log)
    {
        if (extent == 0) return;
        AxisBlocks.Run(outer, extent, inner, (o, column, width) =>
        {
            int start = o * extent * inner + column;
            if (inner == 1) ForwardRow(x.AsSpan(start, extent), y.AsSpan(start, extent), log);
            else ForwardStrided(x, y, start, extent, inner, width, log);
        });
    }

    public static void Backward(float[] y, float[] dy, float[] dx, int outer, int extent, int inner, bool log)
    {
        if (extent == 0) return;
        AxisBlocks.Run(outer, extent, inner, (o, column, width) =>
        {
            int start = o * extent * inner + column;
            if (inner == 1) BackwardRow(y.AsSpan(start, extent), dy.AsSpan(start, extent), dx.AsSpan(start, extent), log);
            else BackwardStrided(y, dy, dx, start, extent, inner, width, log);
        });
    }

    static void ForwardRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        if (log) TensorPrimitives.Subtract(x, max + MathF.Log(sum), y);
        else TensorPrimitives.Divide(y, sum, y);
    }

    static void ForwardStrided(float[] x, float[] y, int start, int extent, int inner, int width, bool log)
    {
        var buffer = ArrayPool<float>.Shared.Rent(2 * width);
        Span<float> max = buffer.AsSpan(0, width), sum = buffer.AsSpan(width, width);
        x.AsSpan(start, width).CopyTo(max);
        for (int r = 1; r < extent; r++) TensorPrimitives.Max(max, x.AsSpan(start + r * inner, width), max);
        sum.Clear();
        for (int r = 0; r < extent; r++)
        {
            var yRow = y.AsSpan(start + r * inner, width);
            TensorPrimitives.Subtract(x.AsSpan(start + r * inner, width), max, yRow);
            TensorPrimitives.Exp(yRow, yRow);
            TensorPrimitives.Add(sum, yRow, sum);
        }
        if (log)
        {
            // log Σ exp(x) = max + log Σ exp(x − max)
            TensorPrimitives.Log(sum, sum);
            TensorPrimitives.Add(sum, max, sum);
        }
        for (int r = 0; r < extent; r++)
        {
            var yRow = y.AsSpan(start + r * inner, width);
            if (log) TensorPrimitives.Subtract(x.AsSpan(start + r * inner, width), sum, yRow);
            else TensorPrimitives.Divide(yRow, sum, yRow);
        }
        ArrayPool<float>.Shared.Return(buffer);
    }

    // softmax: dx = y ⊙ (dy − Σ dy⊙y);  log-softmax: dx = dy − exp(y) · Σ dy
    static void BackwardRow(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool log)
    {
        if (log)
        {
            float sum = TensorPrimitives.Sum(dy);
            TensorPrimitives.Exp(y, dx);
            TensorPrimitives.MultiplyAdd(dx, -sum, dy, dx);
        }
        else
        {
            TensorPrimitives.Subtract(dy, TensorPrimitives.Dot(dy, y), dx);
            TensorPrimitives.Multiply(dx, y, dx);
        }
    }

    static void BackwardStrided(float[] y, float[] dy, float[] dx, int start, int extent, int inner, int width, bool log)
    {
        var buffer = ArrayPool<float>.Shared.Rent(width);
        var sum = buffer.AsSpan(0, width);
        sum.Clear();
        for (int r = 0; r < extent; r++)
        {
            int at = start + r * inner;
            if (log) TensorPrimitives.Add(sum, dy.AsSpan(at, width), sum);
            else TensorPrimitives.MultiplyAdd(dy.AsSpan(at, width), y.AsSpan(at, width), sum, sum);
        }
        for (int r = 0; r < extent; r++)
        {
            int at = start + r * inner;
            var dxRow = dx.AsSpan(at, width);
            if (log)
            {
                TensorPrimitives.Exp(y.AsSpan(at, width), dxRow);
                TensorPrimitives.Multiply(dxRow, sum, dxRow);
                TensorPrimitives.Subtract(dy.AsSpan(at, width), dxRow, dxRow);
            }
            else
            {
                TensorPrimitives.Subtract(dy.AsSpan(at, width), sum, dxRow);
                TensorPrimitives.Multiply(dxRow, y.AsSpan(at, width), dxRow);
            }
        }
        ArrayPool<float>.Shared.Return(buffer);
    }
}
