using System.Numerics.Tensors;

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
    public static void Gather(ReadOnlySpan<float> image, in ConvGeometry g, int first, int count, Span<float> columns)
    {
        for (int c = 0, row = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = image.Slice(c * g.InPlane, g.InPlane);
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    var destination = columns.Slice(row * count, count);
                    int rowOffset = i * g.DilationHeight - g.PadTop, columnOffset = j * g.DilationWidth - g.PadLeft;
                    ValidRange(columnOffset, g.StrideWidth, g.InWidth, g.OutWidth, out int validFrom, out int validTo);
                    int oh = first / g.OutWidth, ow = first % g.OutWidth;
                    for (int q = 0; q < count; oh++, ow = 0)
                    {
                        int run = Math.Min(g.OutWidth - ow, count - q);
                        var segment = destination.Slice(q, run);
                        q += run;
                        int ih = oh * g.StrideHeight + rowOffset;
                        if ((uint)ih >= (uint)g.InHeight) { segment.Clear(); continue; }
                        // Output columns [from, to) of this run read inside the image; the rest is padding.
                        int from = Math.Clamp(validFrom, ow, ow + run), to = Math.Clamp(validTo, from, ow + run);
                        segment[..(from - ow)].Clear();
                        segment[(to - ow)..].Clear();
                        var source = plane.Slice(ih * g.InWidth);
                        int iw = from * g.StrideWidth + columnOffset;
                        if (g.StrideWidth == 1)
                            source.Slice(iw, to - from).CopyTo(segment[(from - ow)..]);
                        else
                            for (int o = from - ow; o < to - ow; o++, iw += g.StrideWidth) segment[o] = source[iw];
                    }
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
                        var destination = plane.Slice(ih * g.InWidth);
                        int iw = from * g.StrideWidth + columnOffset;
                        if (g.StrideWidth == 1)
                        {
                            var target = destination.Slice(iw, to - from);
                            TensorPrimitives.Add(target, segment.Slice(from - ow, to - from), target);
                        }
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
}
