using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Max and average pooling forward, without indices, as two one-dimensional passes per output row: the input rows
/// under the window are reduced into one row, which is split into its stride phases between margins of the
/// reduction's identity (−∞ for max, 0 for sums), as im2col splits rows between zero margins; each kernel column's
/// contribution to the whole output row is a contiguous run of a phase. Per output row, one pass reduces the window's
/// input rows and one its kernel columns' runs (and divides, for averages), as inline vector loops whose last vector
/// overlaps the one before it: on the short rows of a network's late stages (28, 14, 7 values) calls into a general
/// routine, and scalar tails, cost more than the work (GoogLeNet's thirteen max pools 4.3 → 2.5 ms).
/// Window bounds and average divisors follow PyTorch's CPU kernels (<see cref="CpuBackend.AvgSpan"/>).
/// </summary>
static class SeparablePool
{
    // Below this many input values a call runs on the calling thread.
    const long MinParallelWork = 1 << 15;

    /// <summary>Pools every plane of <paramref name="input"/> into <paramref name="output"/>: the maximum, or the average.</summary>
    public static void Run(float[] input, float[] output, Pool2dGeometry g, bool max, bool countIncludePad = false, int divisorOverride = 0)
    {
        if (g.Planes == 0 || g.OutputPlaneSize == 0) return;
        int stride = g.Stride.Width, outputWidth = g.OutputWidth, kernelWidth = g.Kernel.Width;
        int[] tapPhase = new int[kernelWidth], tapShift = new int[kernelWidth];
        var (margin, phaseStride) = Im2Col.TapPhases(kernelWidth, g.Dilation.Width, g.Padding.Width, stride, g.InputWidth, outputWidth, tapPhase, tapShift);
        float identity = max ? float.NegativeInfinity : 0f;
        var divisors = max ? null : Divisors(g, countIncludePad, divisorOverride);
        // Where each kernel column's run along an output row starts in the phase buffer.
        var taps = new int[kernelWidth];
        for (int j = 0; j < kernelWidth; j++) taps[j] = tapPhase[j] * phaseStride + margin + tapShift[j];
        int chunks = (long)g.Planes * g.InputPlaneSize < MinParallelWork ? 1 : Math.Min(g.Planes, 4 * Threading.NumThreads);

        void Chunk(int chunk)
        {
            var phases = ArrayPool<float>.Shared.Rent(phaseStride * stride);
            var rowBuffer = ArrayPool<float>.Shared.Rent(g.InputWidth);
            Span<int> rows = stackalloc int[g.Kernel.Height];
            phases.AsSpan(0, phaseStride * stride).Fill(identity);
            // With stride 1 the one phase is the row itself, so the rows are reduced straight into it.
            ref float reduced = ref stride == 1 ? ref phases[margin] : ref rowBuffer[0];
            for (int p = chunk * g.Planes / chunks; p < (chunk + 1) * g.Planes / chunks; p++)
                for (int oh = 0; oh < g.OutputHeight; oh++)
                {
                    ref float row = ref output[p * g.OutputPlaneSize + oh * outputWidth];
                    int count = 0;
                    for (int i = 0; i < g.Kernel.Height; i++)
                    {
                        int ih = oh * g.Stride.Height - g.Padding.Height + i * g.Dilation.Height;
                        if ((uint)ih < (uint)g.InputHeight) rows[count++] = p * g.InputPlaneSize + ih * g.InputWidth;
                    }
                    // A window wholly in the padding: −∞ for max (as PyTorch), 0 for the average.
                    if (count == 0) { MemoryMarshal.CreateSpan(ref row, outputWidth).Fill(identity); continue; }
                    Reduce(max, ref input[0], rows[..count], ref reduced, g.InputWidth, ref Unsafe.NullRef<float>());
                    if (stride != 1) Im2Col.SplitPhases(rowBuffer.AsSpan(0, g.InputWidth), stride, phaseStride, phases.AsSpan(margin));
                    Reduce(max, ref phases[0], taps, ref row, outputWidth,
                        ref divisors == null ? ref Unsafe.NullRef<float>() : ref divisors[oh * outputWidth]);
                }
            ArrayPool<float>.Shared.Return(rowBuffer);
            ArrayPool<float>.Shared.Return(phases);
        }
        if (chunks == 1) Chunk(0);
        else Threading.For(chunks, Threading.NumThreads, Chunk);
    }

    /// <summary>
    /// Each average window's divisor, output row by output row: the cells it counts along each axis multiplied, as
    /// PyTorch's average pooling counts them (clipped to the padded input when padding counts, else to the input
    /// itself); 1 for a window with no input cell, whose sum of nothing is the 0 it averages to.
    /// </summary>
    internal static float[] Divisors(in Pool2dGeometry g, bool countIncludePad, int divisorOverride)
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
            var (start, end, paddedLength) = CpuBackend.AvgSpan(o, stride, padding, kernel, inputSize);
            (padded[o], real[o]) = (paddedLength, Math.Max(0, end - start));
        }
        return (padded, real);
    }

    /// <summary>
    /// destination[i] = the maximum (NaN wins, as PyTorch's max pooling) or the sum, in order, of the runs of
    /// <paramref name="n"/> values at <paramref name="offsets"/> from <paramref name="source"/>, divided by
    /// divisors[i] unless <paramref name="divisors"/> is a null reference. The destination overlaps no run, so the last
    /// vector may overlap the one before it instead of leaving a scalar tail: rows of 7 to 35 values are most of a
    /// network's late stages.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Reduce(bool max, ref float source, ReadOnlySpan<int> offsets, ref float destination, int n, ref float divisors)
    {
        bool divide = !Unsafe.IsNullRef(ref divisors);
        int width = Vector256<float>.Count;
        if (n < width)
        {
            for (int i = 0; i < n; i++)
            {
                float value = Unsafe.Add(ref source, offsets[0] + i);
                for (int s = 1; s < offsets.Length; s++)
                {
                    float next = Unsafe.Add(ref source, offsets[s] + i);
                    value = max ? MathF.Max(value, next) : value + next;
                }
                Unsafe.Add(ref destination, i) = divide ? value / Unsafe.Add(ref divisors, i) : value;
            }
            return;
        }
        for (int i = 0; ; i += width)
        {
            if (i > n - width) i = n - width;
            var value = Vector256.LoadUnsafe(ref source, (nuint)(offsets[0] + i));
            for (int s = 1; s < offsets.Length; s++)
            {
                var next = Vector256.LoadUnsafe(ref source, (nuint)(offsets[s] + i));
                value = max ? Vector256.Max(value, next) : value + next;
            }
            if (divide) value /= Vector256.LoadUnsafe(ref divisors, (nuint)i);
            value.StoreUnsafe(ref destination, (nuint)i);
            if (i == n - width) return;
        }
    }
}
