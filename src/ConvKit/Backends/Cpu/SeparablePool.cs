using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Max and average pooling forward, without indices, as two one-dimensional passes per output row: the input rows
/// under the window are reduced into one row, which is split into its stride phases between margins of the
/// reduction's identity (−∞ for max, 0 for sums), as im2col splits rows between zero margins; each kernel column's
/// contribution to the whole output row is then one vector pass over a contiguous run of a phase. Kernel height +
/// width passes per output row instead of height × width per output, and the passes are inline loops: on the short
/// rows of a network's late stages (28, 14 values) calls into a general routine cost more than their work.
/// Window bounds and average divisors follow PyTorch's CPU kernels (see <see cref="CpuBackend"/>'s AvgWindow).
/// </summary>
static class SeparablePool
{
    // Below this many input values a call runs on the calling thread.
    const long MinParallelWork = 1 << 15;

    /// <summary>Pools every plane of <paramref name="input"/> into <paramref name="output"/>: the maximum, or the average.</summary>
    public static void Run(float[] input, float[] output, Pool2dGeometry g, bool max, bool countIncludePad = false, int divisorOverride = 0)
    {
        int stride = g.Stride.Width, outputWidth = g.OutputWidth, kernelWidth = g.Kernel.Width;
        int[] tapPhase = new int[kernelWidth], tapShift = new int[kernelWidth];
        var (margin, phaseStride) = Im2Col.TapPhases(kernelWidth, g.Dilation.Width, g.Padding.Width, stride, g.InputWidth, outputWidth, tapPhase, tapShift);
        float identity = max ? float.NegativeInfinity : 0f;
        var reduce = max ? Op.Max : Op.Add;
        var divisors = max ? null : Divisors(g, countIncludePad, divisorOverride);
        int chunks = (long)g.Planes * g.InputPlaneSize < MinParallelWork ? 1 : Math.Min(g.Planes, 4 * Threading.NumThreads);

        void Chunk(int chunk)
        {
            var phases = ArrayPool<float>.Shared.Rent(phaseStride * stride);
            var rowBuffer = ArrayPool<float>.Shared.Rent(g.InputWidth);
            phases.AsSpan(0, phaseStride * stride).Fill(identity);
            // With stride 1 the one phase is the row itself, so the rows are reduced straight into it.
            var reduced = stride == 1 ? phases.AsSpan(margin, g.InputWidth) : rowBuffer.AsSpan(0, g.InputWidth);
            for (int p = chunk * g.Planes / chunks; p < (chunk + 1) * g.Planes / chunks; p++)
            {
                var plane = input.AsSpan(p * g.InputPlaneSize, g.InputPlaneSize);
                for (int oh = 0; oh < g.OutputHeight; oh++)
                {
                    var row = output.AsSpan(p * g.OutputPlaneSize + oh * outputWidth, outputWidth);
                    int rows = 0;
                    for (int i = 0; i < g.Kernel.Height; i++)
                    {
                        int ih = oh * g.Stride.Height - g.Padding.Height + i * g.Dilation.Height;
                        if ((uint)ih >= (uint)g.InputHeight) continue;
                        var inputRow = plane.Slice(ih * g.InputWidth, g.InputWidth);
                        if (rows++ == 0) inputRow.CopyTo(reduced);
                        else Combine(reduce, reduced, inputRow, reduced);
                    }
                    // A window wholly in the padding: −∞ for max (as PyTorch), 0 for the average.
                    if (rows == 0) { row.Fill(max ? float.NegativeInfinity : 0f); continue; }
                    if (stride != 1) Im2Col.SplitPhases(reduced, stride, phaseStride, phases.AsSpan(margin));
                    phases.AsSpan(tapPhase[0] * phaseStride + margin + tapShift[0], outputWidth).CopyTo(row);
                    for (int j = 1; j < kernelWidth; j++)
                        Combine(reduce, row, phases.AsSpan(tapPhase[j] * phaseStride + margin + tapShift[j], outputWidth), row);
                    if (divisors != null) Combine(Op.Divide, row, divisors.AsSpan(oh * outputWidth, outputWidth), row);
                }
            }
            ArrayPool<float>.Shared.Return(rowBuffer);
            ArrayPool<float>.Shared.Return(phases);
        }
        if (chunks == 1) Chunk(0);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Threading.NumThreads }, Chunk);
    }

    /// <summary>
    /// Each average window's divisor, output row by output row: the cells it counts along each axis multiplied, as
    /// PyTorch's average pooling counts them (clipped to the padded input when padding counts, else to the input
    /// itself); 1 for a window with no input cell, whose sum of nothing is the 0 it averages to.
    /// </summary>
    static float[] Divisors(in Pool2dGeometry g, bool countIncludePad, int divisorOverride)
    {
        var rows = Counts(g.OutputHeight, g.Stride.Height, g.Padding.Height, g.Kernel.Height, g.InputHeight);
        var columns = Counts(g.OutputWidth, g.Stride.Width, g.Padding.Width, g.Kernel.Width, g.InputWidth);
        var divisors = new float[g.OutputHeight * g.OutputWidth];
        for (int oh = 0; oh < g.OutputHeight; oh++)
            for (int ow = 0; ow < g.OutputWidth; ow++)
                divisors[oh * g.OutputWidth + ow] = rows.Real[oh] == 0 || columns.Real[ow] == 0 ? 1
                    : divisorOverride != 0 ? divisorOverride
                    : countIncludePad ? rows.Padded[oh] * columns.Padded[ow] : rows.Real[oh] * columns.Real[ow];
        return divisors;
    }

    /// <summary>For each output index along one axis, the cells its window counts: in the padded input, and in the input.</summary>
    static (int[] Padded, int[] Real) Counts(int outputSize, int stride, int padding, int kernel, int inputSize)
    {
        var padded = new int[outputSize];
        var real = new int[outputSize];
        for (int o = 0; o < outputSize; o++)
        {
            int start = o * stride - padding, end = Math.Min(start + kernel, inputSize + padding);
            padded[o] = end - start;
            real[o] = Math.Max(0, Math.Min(end, inputSize) - Math.Max(start, 0));
        }
        return (padded, real);
    }

    enum Op { Max, Add, Divide }

    /// <summary>destination = max(a, b) (NaN wins, as PyTorch's max pooling), a + b or a / b, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Combine(Op op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
    {
        ref float x = ref MemoryMarshal.GetReference(a), y = ref MemoryMarshal.GetReference(b), z = ref MemoryMarshal.GetReference(destination);
        int n = destination.Length, i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var u = Vector256.LoadUnsafe(ref x, (nuint)i);
            var v = Vector256.LoadUnsafe(ref y, (nuint)i);
            (op == Op.Max ? Vector256.Max(u, v) : op == Op.Add ? u + v : u / v).StoreUnsafe(ref z, (nuint)i);
        }
        for (; i < n; i++)
        {
            float u = Unsafe.Add(ref x, i), v = Unsafe.Add(ref y, i);
            Unsafe.Add(ref z, i) = op == Op.Max ? MathF.Max(u, v) : op == Op.Add ? u + v : u / v;
        }
    }
}
