using System.Buffers;
using System.Numerics.Tensors;
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
        // Averages: a window's divisor is (rows it counts) × (columns it counts), the columns' share the same for every row.
        var columns = max ? default : Counts(outputWidth, g.Stride.Width, g.Padding.Width, g.Kernel.Width, g.InputWidth);
        int chunks = (long)g.Planes * g.InputPlaneSize < MinParallelWork ? 1 : Math.Min(g.Planes, 4 * Threading.NumThreads);

        void Chunk(int chunk)
        {
            var phases = ArrayPool<float>.Shared.Rent(phaseStride * stride);
            var rowBuffer = ArrayPool<float>.Shared.Rent(g.InputWidth);
            var divisors = ArrayPool<float>.Shared.Rent(outputWidth);
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
                        else Combine(max, reduced, inputRow, reduced);
                    }
                    // A window wholly in the padding: −∞ for max (as PyTorch), 0 for the average.
                    if (rows == 0) { row.Fill(max ? float.NegativeInfinity : 0f); continue; }
                    if (stride != 1) Im2Col.SplitPhases(reduced, stride, phaseStride, phases.AsSpan(margin));
                    phases.AsSpan(tapPhase[0] * phaseStride + margin + tapShift[0], outputWidth).CopyTo(row);
                    for (int j = 1; j < kernelWidth; j++)
                        Combine(max, row, phases.AsSpan(tapPhase[j] * phaseStride + margin + tapShift[j], outputWidth), row);
                    if (!max) Divide(row, divisors.AsSpan(0, outputWidth), oh, g, columns, countIncludePad, divisorOverride);
                }
            }
            ArrayPool<float>.Shared.Return(rowBuffer);
            ArrayPool<float>.Shared.Return(divisors);
            ArrayPool<float>.Shared.Return(phases);
        }
        if (chunks == 1) Chunk(0);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Threading.NumThreads }, Chunk);
    }

    /// <summary>
    /// For each output index along one axis, the cells its window counts: clipped to the padded input (the divisor when
    /// padding counts) and then to the input itself (the divisor otherwise), as PyTorch's average pooling.
    /// </summary>
    static (float[] Padded, float[] Real) Counts(int outputSize, int stride, int padding, int kernel, int inputSize)
    {
        var padded = new float[outputSize];
        var real = new float[outputSize];
        for (int o = 0; o < outputSize; o++)
        {
            int start = o * stride - padding, end = Math.Min(start + kernel, inputSize + padding);
            padded[o] = end - start;
            real[o] = Math.Max(0, Math.Min(end, inputSize) - Math.Max(start, 0));
        }
        return (padded, real);
    }

    /// <summary>Turns the window sums of output row <paramref name="oh"/> into averages (<paramref name="divisors"/> is scratch space).</summary>
    static void Divide(Span<float> sums, Span<float> divisors, int oh, in Pool2dGeometry g, (float[] Padded, float[] Real) columns, bool countIncludePad, int divisorOverride)
    {
        var (rowPadded, rowReal) = Counts(oh, g);
        if (divisorOverride != 0) divisors.Fill(divisorOverride);
        else TensorPrimitives.Multiply(countIncludePad ? columns.Padded : columns.Real, countIncludePad ? rowPadded : rowReal, divisors);
        TensorPrimitives.Divide(sums, divisors, sums);
        // A window whose columns all lie in the padding averages nothing: 0.
        for (int ow = 0; ow < sums.Length; ow++)
            if (columns.Real[ow] == 0) sums[ow] = 0f;
    }

    /// <summary>The rows output row <paramref name="oh"/>'s window counts (see <see cref="Counts(int, int, int, int, int)"/>).</summary>
    static (float Padded, float Real) Counts(int oh, in Pool2dGeometry g)
    {
        int start = oh * g.Stride.Height - g.Padding.Height, end = Math.Min(start + g.Kernel.Height, g.InputHeight + g.Padding.Height);
        return (end - start, Math.Max(0, Math.Min(end, g.InputHeight) - Math.Max(start, 0)));
    }

    /// <summary>destination = max(a, b) (NaN wins, as PyTorch's max pooling) or a + b, element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Combine(bool max, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
    {
        ref float x = ref MemoryMarshal.GetReference(a), y = ref MemoryMarshal.GetReference(b), z = ref MemoryMarshal.GetReference(destination);
        int n = destination.Length, i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var u = Vector256.LoadUnsafe(ref x, (nuint)i);
            var v = Vector256.LoadUnsafe(ref y, (nuint)i);
            (max ? Vector256.Max(u, v) : u + v).StoreUnsafe(ref z, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref z, i) = max ? MathF.Max(Unsafe.Add(ref x, i), Unsafe.Add(ref y, i)) : Unsafe.Add(ref x, i) + Unsafe.Add(ref y, i);
    }
}
