using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// im2col and its adjoint col2im for one image and one group, over a range of output positions, so the
/// column matrix of a tile stays in cache. Column matrix: (ColumnRows, count), row (c, i, j) holding, for each
/// output position p in [first, first + count), the input value under kernel tap (i, j) of channel c (zero in
/// the padding). Then output = weight (C_out/groups, ColumnRows) · columns is the convolution.
/// </summary>
static class Im2Col
{
    /// <summary>Fills <paramref name="columns"/> (ColumnRows × count) from <paramref name="image"/> (C_in/groups, H, W).</summary>
    /// <remarks>
    /// Runs of one output row are copied whole. With a stride s &gt; 1 the taps of one input row read every s-th
    /// value, so the row is first split into its s phases (values k·s + phase); each tap then copies a contiguous
    /// run of one phase instead of gathering.
    /// </remarks>
    public static void Gather(ReadOnlySpan<float> image, in ConvGeometry g, int first, int count, Span<float> columns)
    {
        int stride = g.StrideWidth, phaseLength = (g.InWidth + stride - 1) / stride;
        Span<float> phases = stride == 1 ? default
            : phaseLength * stride <= 4096 ? stackalloc float[phaseLength * stride] : new float[phaseLength * stride];
        // Per tap column j: the phase it reads and its shift in phase positions (input column = ow·s + offset).
        Span<int> tapPhase = stackalloc int[g.KernelWidth], tapShift = stackalloc int[g.KernelWidth];
        Span<int> validFrom = stackalloc int[g.KernelWidth], validTo = stackalloc int[g.KernelWidth];
        for (int j = 0; j < g.KernelWidth; j++)
        {
            int offset = j * g.DilationWidth - g.PadLeft;
            tapPhase[j] = (offset % stride + stride) % stride;
            tapShift[j] = (offset - tapPhase[j]) / stride;
            ValidRange(offset, stride, g.InWidth, g.OutWidth, out validFrom[j], out validTo[j]);
        }
        ref float destination = ref MemoryMarshal.GetReference(columns);
        for (int c = 0; c < g.InChannelsPerGroup; c++)
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int rowBase = (c * g.KernelHeight + i) * g.KernelWidth * count;
                int oh = first / g.OutWidth, ow = first % g.OutWidth;
                for (int q = 0; q < count; oh++, ow = 0)
                {
                    int run = Math.Min(g.OutWidth - ow, count - q);
                    int ih = oh * g.StrideHeight + i * g.DilationHeight - g.PadTop;
                    if ((uint)ih >= (uint)g.InHeight)
                    {
                        for (int j = 0; j < g.KernelWidth; j++) Zero(ref Unsafe.Add(ref destination, rowBase + j * count + q), run);
                    }
                    else
                    {
                        var row = image.Slice((c * g.InHeight + ih) * g.InWidth, g.InWidth);
                        if (stride > 1) SplitPhases(row, stride, phaseLength, phases);
                        ref float source = ref MemoryMarshal.GetReference(stride == 1 ? row : phases);
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            // Output columns [from, to) of this run read inside the image; the rest is padding.
                            int from = Math.Clamp(validFrom[j], ow, ow + run), to = Math.Clamp(validTo[j], from, ow + run);
                            ref float target = ref Unsafe.Add(ref destination, rowBase + j * count + q);
                            Zero(ref target, from - ow);
                            Copy(ref Unsafe.Add(ref source, tapPhase[j] * phaseLength + from + tapShift[j]), ref Unsafe.Add(ref target, from - ow), to - from);
                            Zero(ref Unsafe.Add(ref target, to - ow), ow + run - to);
                        }
                    }
                    q += run;
                }
            }
    }

    /// <summary>The adjoint of <see cref="Gather"/>: adds each column entry into the image element it was read from.</summary>
    public static void ScatterAdd(ReadOnlySpan<float> columns, in ConvGeometry g, int first, int count, Span<float> image)
    {
        for (int c = 0, row = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPlane, g.InPlane);
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var source = columns.Slice(row * count, count);
                    int rowOffset = i * g.DilationHeight - g.PadTop, columnOffset = j * g.DilationWidth - g.PadLeft;
                    ValidRange(columnOffset, g.StrideWidth, g.InWidth, g.OutWidth, out int validFrom, out int validTo);
                    int oh = first / g.OutWidth, ow = first % g.OutWidth;
                    for (int q = 0; q < count; oh++, ow = 0)
                    {
                        int run = Math.Min(g.OutWidth - ow, count - q);
                        var segment = source.Slice(q, run);
                        q += run;
                        int ih = oh * g.StrideHeight + rowOffset;
                        if ((uint)ih >= (uint)g.InHeight) continue;
                        int from = Math.Clamp(validFrom, ow, ow + run), to = Math.Clamp(validTo, from, ow + run);
                        if (from == to) continue;
                        var destination = plane.Slice(ih * g.InWidth);
                        int iw = from * g.StrideWidth + columnOffset;
                        if (g.StrideWidth == 1)
                            AddTo(ref MemoryMarshal.GetReference(segment.Slice(from - ow, to - from)), ref MemoryMarshal.GetReference(destination.Slice(iw, to - from)), to - from);
                        else
                            for (int o = from - ow; o < to - ow; o++, iw += g.StrideWidth) destination[iw] += segment[o];
                    }
                }
        }
    }

    /// <summary>
    /// Output indices o in [from, to) ⊆ [0, outSize) with 0 ≤ o·stride + offset &lt; size: the ones whose input
    /// index falls inside the image rather than in the padding.
    /// </summary>
    public static void ValidRange(int offset, int stride, int size, int outSize, out int from, out int to)
    {
        from = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        to = offset >= size ? 0 : (size - 1 - offset) / stride + 1;
        from = Math.Min(from, outSize);
        to = Math.Clamp(to, from, outSize);
    }

    /// <summary>phases[p·length + k] = row[k·stride + p].</summary>
    static void SplitPhases(ReadOnlySpan<float> row, int stride, int length, Span<float> phases)
    {
        for (int p = 0; p < stride; p++)
        {
            var phase = phases.Slice(p * length, length);
            int k = 0;
            for (int w = p; w < row.Length; w += stride, k++) phase[k] = row[w];
        }
    }

    // Runs here are short (a row of a feature map) and the padding around them shorter still (often one
    // value), where a call to the general memmove/memset/add costs more than the work.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(ref float source, ref float destination, int length)
    {
        if (length >= 16) MemoryMarshal.CreateReadOnlySpan(ref source, length).CopyTo(MemoryMarshal.CreateSpan(ref destination, length));
        else
            for (int k = 0; k < length; k++) Unsafe.Add(ref destination, k) = Unsafe.Add(ref source, k);
    }

    /// <summary>destination += source over <paramref name="length"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddTo(ref float source, ref float destination, int length)
    {
        int k = 0;
        for (; k + Vector<float>.Count <= length; k += Vector<float>.Count)
            (Vector.LoadUnsafe(ref destination, (nuint)k) + Vector.LoadUnsafe(ref source, (nuint)k)).StoreUnsafe(ref destination, (nuint)k);
        for (; k < length; k++) Unsafe.Add(ref destination, k) += Unsafe.Add(ref source, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Zero(ref float destination, int length)
    {
        if (length >= 16) MemoryMarshal.CreateSpan(ref destination, length).Clear();
        else
            for (int k = 0; k < length; k++) Unsafe.Add(ref destination, k) = 0;
    }
}
