using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// im2col and its adjoint col2im for one image and one group, over a range of output positions, so the
/// column matrix of a tile stays in cache. Column matrix: (ColumnRows, count), row (c, i, j) holding, for each
/// output position p in [first, first + count), the input value under kernel tap (i, j) of channel c (zero in
/// the padding). Then output = weight (C_out/groups, ColumnRows) · columns is the convolution.
/// </summary>
/// <remarks>
/// The kernels are compiled fully optimised from their first call: at tier 0 the stride-2 split ran several
/// times slower, and a network's first inference would pay for it.
/// </remarks>
static class Im2Col
{
    /// <summary>Fills <paramref name="columns"/> (ColumnRows × count) from <paramref name="image"/> (C_in/groups, H, W).</summary>
    /// <remarks>
    /// With a column stride s > 1 each input row is first split into its s phases (values k·s + phase), laid between
    /// zero margins wide enough for every tap. A tap's run along an output row is then one contiguous copy of a phase,
    /// with the padding read as zeros: no gathering and no per-tap bounds. At unit stride the runs are copied from
    /// the input rows themselves (<see cref="GatherUnitStride"/>).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(ReadOnlySpan<float> image, in ConvGeometry g, int first, int count, Span<float> columns)
    {
        if (first == 0 && count == g.OutPlane && g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutWidth <= SmallWidth && g.PadTop >= 0 && g.PadLeft >= 0)
        {
            GatherSmallPlane(image, g, columns);
            return;
        }
        if (g.StrideWidth == 1)
        {
            GatherUnitStride(image, g, first, count, columns);
            return;
        }
        int stride = g.StrideWidth;
        Span<int> tapPhase = stackalloc int[g.KernelWidth], tapShift = stackalloc int[g.KernelWidth];
        var (margin, phaseStride) = TapPhases(g.KernelWidth, g.DilationWidth, g.PadLeft, stride, g.InWidth, g.OutWidth, tapPhase, tapShift);
        Span<float> phases = phaseStride * stride <= 4096 ? stackalloc float[phaseStride * stride] : new float[phaseStride * stride];
        phases.Clear();
        ref float destination = ref MemoryMarshal.GetReference(columns);
        ref float source = ref MemoryMarshal.GetReference(phases);
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
                        for (int j = 0; j < g.KernelWidth; j++) Zero(ref Unsafe.Add(ref destination, rowBase + j * count + q), run);
                    else
                    {
                        SplitPhases(image.Slice((c * g.InHeight + ih) * g.InWidth, g.InWidth), stride, phaseStride, phases[margin..]);
                        for (int j = 0; j < g.KernelWidth; j++)
                            Copy(ref Unsafe.Add(ref source, tapPhase[j] * phaseStride + margin + tapShift[j] + ow),
                                ref Unsafe.Add(ref destination, rowBase + j * count + q), run);
                    }
                    q += run;
                }
            }
    }

    /// <summary>
    /// Gather at unit column stride: each tap's run along an output row is copied straight from the input row, the
    /// padding written as zeros at its ends. Laying each row out first, as the strided path does, made every copy
    /// read back unaligned vectors from stores just made, which the processor cannot forward: on Zen 3 this gathered
    /// a tile three times faster (64 channels, 3×3, 56×56 in tiles of 128 positions: 2.41 → 0.75 ms), and DenseNet-121
    /// and Inception-v3 ran a quarter and a fifth faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GatherUnitStride(ReadOnlySpan<float> image, in ConvGeometry g, int first, int count, Span<float> columns)
    {
        int kernelWidth = g.KernelWidth;
        Span<int> validFrom = stackalloc int[kernelWidth], validTo = stackalloc int[kernelWidth];
        for (int j = 0; j < kernelWidth; j++)
            ValidRange(j * g.DilationWidth - g.PadLeft, 1, g.InWidth, g.OutWidth, out validFrom[j], out validTo[j]);
        ref float destination = ref MemoryMarshal.GetReference(columns);
        ref float source = ref MemoryMarshal.GetReference(image);
        for (int c = 0; c < g.InChannelsPerGroup; c++)
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int rowBase = (c * g.KernelHeight + i) * kernelWidth * count;
                int oh = first / g.OutWidth, ow = first % g.OutWidth;
                for (int q = 0; q < count; oh++, ow = 0)
                {
                    int run = Math.Min(g.OutWidth - ow, count - q);
                    int ih = oh * g.StrideHeight + i * g.DilationHeight - g.PadTop;
                    if ((uint)ih >= (uint)g.InHeight)
                        for (int j = 0; j < kernelWidth; j++) Zero(ref Unsafe.Add(ref destination, rowBase + j * count + q), run);
                    else
                        for (int j = 0; j < kernelWidth; j++)
                        {
                            ref float to = ref Unsafe.Add(ref destination, rowBase + j * count + q);
                            int from = Math.Clamp(validFrom[j], ow, ow + run), end = Math.Clamp(validTo[j], from, ow + run);
                            Zero(ref to, from - ow);
                            Copy(ref Unsafe.Add(ref source, (c * g.InHeight + ih) * g.InWidth + from + j * g.DilationWidth - g.PadLeft),
                                ref Unsafe.Add(ref to, from - ow), end - from);
                            Zero(ref Unsafe.Add(ref to, end - ow), ow + run - end);
                        }
                    q += run;
                }
            }
    }

    // Output rows at most this wide take the small-plane path of Gather.
    const int SmallWidth = 32;

    /// <summary>
    /// Gather for a whole plane at stride 1 with short output rows (the 14×14 and 7×7 stages of an ImageNet network,
    /// 28×28 images): splitting every input row into phases costs more than the copies it serves there. Each
    /// channel is laid into a zero-bordered plane (the depthwise convolution's), and a tap's run along an output row
    /// is then copied as whole vectors, the last of which may run past the run's end: the values it leaves there
    /// are overwritten by the copies that follow, in order. A copy that would run past the end of the columns is
    /// exact: with rows of one or two positions that is more than the last copy, and past the end lies memory that
    /// is not ours (in a forward pass, the rows another thread gathers at the same time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void GatherSmallPlane(ReadOnlySpan<float> image, in ConvGeometry g, Span<float> columns)
    {
        int outWidth = g.OutWidth, outHeight = g.OutHeight, positions = g.OutPlane, width = Vector256<float>.Count;
        int vectors = (outWidth + width - 1) / width;
        var plane = new DepthwiseConv.PaddedPlane(g);
        // One vector more than the plane: the copies from its last row may read past the end.
        var buffer = ArrayPool<float>.Shared.Rent(plane.Length + width);
        ref float padded = ref MemoryMarshal.GetArrayDataReference(buffer);
        ref float destination = ref MemoryMarshal.GetReference(columns);
        plane.Clear(buffer);
        int row = 0, rows = g.InChannelsPerGroup * g.KernelArea, end = rows * positions;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            plane.Fill(image.Slice(c * g.InPlane, g.InPlane), buffer);
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    int tap = i * g.DilationHeight * plane.Width + j * g.DilationWidth, target = row * positions;
                    for (int oh = 0; oh < outHeight; oh++)
                    {
                        ref float from = ref Unsafe.Add(ref padded, tap + oh * plane.Width);
                        ref float to = ref Unsafe.Add(ref destination, target + oh * outWidth);
                        if (target + oh * outWidth + vectors * width > end) Copy(ref from, ref to, outWidth);
                        else
                            for (int v = 0; v < vectors; v++)
                                Vector256.LoadUnsafe(ref from, (nuint)(v * width)).StoreUnsafe(ref to, (nuint)(v * width));
                    }
                }
        }
        ArrayPool<float>.Shared.Return(buffer);
    }

    /// <summary>The adjoint of <see cref="Gather"/>: adds each column entry into the image element it was read from.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>
    /// For a window sliding along rows of <paramref name="width"/> with the given stride: fills in the phase each
    /// kernel column j reads and its shift in phase positions (input column = o·stride + j·dilation − padding),
    /// and returns the layout of a phase buffer whose margins are wide enough that output o of tap j is at
    /// [tapPhase·phaseStride + margin + tapShift + o] for every o below <paramref name="outWidth"/>.
    /// </summary>
    internal static (int Margin, int PhaseStride) TapPhases(
        int kernelWidth, int dilation, int padding, int stride, int width, int outWidth, Span<int> tapPhase, Span<int> tapShift)
    {
        int minShift = 0, maxShift = 0;
        for (int j = 0; j < kernelWidth; j++)
        {
            int offset = j * dilation - padding;
            tapPhase[j] = (offset % stride + stride) % stride;
            tapShift[j] = (offset - tapPhase[j]) / stride;
            (minShift, maxShift) = (Math.Min(minShift, tapShift[j]), Math.Max(maxShift, tapShift[j]));
        }
        int phaseLength = (width + stride - 1) / stride;
        return (-minShift, -minShift + Math.Max(phaseLength, outWidth + maxShift));
    }

    /// <summary>phases[p·phaseStride + k] = row[k·stride + p]; the rest of the buffer is left as it is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SplitPhases(ReadOnlySpan<float> row, int stride, int phaseStride, Span<float> phases)
    {
        if (stride == 2)
        {
            ref float even = ref MemoryMarshal.GetReference(phases);
            SplitInTwo(row, ref even, ref Unsafe.Add(ref even, phaseStride));
            return;
        }
        for (int p = 0; p < stride; p++)
            for (int w = p, k = 0; w < row.Length; w += stride, k++) phases[p * phaseStride + k] = row[w];
    }

    /// <summary>even[k] = row[2k] and odd[k] = row[2k + 1]; nothing else is written.</summary>
    /// <remarks>
    /// Stride 2 (every downsampling convolution) deinterleaves 32 values at a time with two-source permutes where
    /// AVX-512 has them, 16 at a time with AVX2: done once per kernel row and output row, a scalar split cost the 7×7
    /// stride-2 stem more than all its copies (on Zen 3 the AVX2 split made the gathers of stride-2 convolutions
    /// two to four times faster).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SplitInTwo(ReadOnlySpan<float> row, ref float even, ref float odd)
    {
        int done = 0, length = row.Length;
        ref float source = ref MemoryMarshal.GetReference(row);
        if (Avx512F.IsSupported)
        {
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            if (length >= 32)
                for (int at = 0; ; at += 32)
                {
                    // The last block starts early, at an even index, to end at (or one before) the row's end: it
                    // writes again values the block before it wrote, the same ones.
                    if (at > length - 32) at = (length - 32) & ~1;
                    var low = Vector512.LoadUnsafe(ref source, (nuint)at);
                    var high = Vector512.LoadUnsafe(ref source, (nuint)at + 16);
                    Avx512F.PermuteVar16x32x2(low, evens, high).StoreUnsafe(ref even, (nuint)at / 2);
                    Avx512F.PermuteVar16x32x2(low, odds, high).StoreUnsafe(ref odd, (nuint)at / 2);
                    done = at + 32;
                    if (done >= length - 1) break;
                }
            else if (length >= 16 && Avx512F.VL.IsSupported)
            {
                // Rows of 16 to 31 values (late-stage pools, small planes' im2col): two blocks of 16, the second from an
                // even index that ends it.
                var evens8 = evens.GetLower();
                var odds8 = odds.GetLower();
                foreach (int at in (ReadOnlySpan<int>)[0, (length - 16) & ~1])
                {
                    var low = Vector256.LoadUnsafe(ref source, (nuint)at);
                    var high = Vector256.LoadUnsafe(ref source, (nuint)at + 8);
                    Avx512F.VL.PermuteVar8x32x2(low, evens8, high).StoreUnsafe(ref even, (nuint)at / 2);
                    Avx512F.VL.PermuteVar8x32x2(low, odds8, high).StoreUnsafe(ref odd, (nuint)at / 2);
                    done = at + 16;
                }
            }
        }
        else if (Avx2.IsSupported && length >= 16)
        {
            // Two vectors of 8: even values to the low half of each, odd to the high, then the halves paired.
            var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (int at = 0; ; at += 16)
            {
                if (at > length - 16) at = (length - 16) & ~1;
                var low = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref source, (nuint)at), order);
                var high = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref source, (nuint)at + 8), order);
                Avx2.Permute2x128(low, high, 0x20).StoreUnsafe(ref even, (nuint)at / 2);
                Avx2.Permute2x128(low, high, 0x31).StoreUnsafe(ref odd, (nuint)at / 2);
                done = at + 16;
                if (done >= length - 1) break;
            }
        }
        for (int w = done; w < length; w++) Unsafe.Add(ref w % 2 == 0 ? ref even : ref odd, w / 2) = row[w];
    }

    // Runs here are short (a row of a feature map) and the padding around them shorter still (often one value),
    // where a call to the general memmove/memset costs more than the work: runs are copied with inline vector
    // moves, the last one overlapping the one before it instead of a scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(ref float source, ref float destination, int length)
    {
        int width = Vector256<float>.Count;
        if (length >= width)
        {
            for (int k = 0; k < length - width; k += width)
                Vector256.LoadUnsafe(ref source, (nuint)k).StoreUnsafe(ref destination, (nuint)k);
            Vector256.LoadUnsafe(ref source, (nuint)(length - width)).StoreUnsafe(ref destination, (nuint)(length - width));
        }
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
