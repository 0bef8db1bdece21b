using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Direct depthwise convolution (groups = input channels, each output channel oc filtering input channel
/// oc / multiplier). Its GEMM form would be a 1 × kH·kW times kH·kW × P product per channel, all overhead, so
/// it runs as a direct loop instead:
///   y[n, oc, oh, ow] = bias[oc] + Σ_ij w[oc, 0, i, j] · x[n, oc / multiplier, oh·s − pt + i·d, ow·s − pl + j·d]
/// </summary>
static class DepthwiseConv
{
    static readonly int Lanes = Vector<float>.Count;

    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, in ConvGeometry geometry)
    {
        var g = geometry;
        bool unitStride = g.StrideHeight == 1 && g.StrideWidth == 1 && Vector.IsHardwareAccelerated;
        var padded = new PaddedPlane(g);
        int planes = g.Batch * g.InChannels, multiplier = g.OutChannels / g.InChannels;
        int threads = g.MultiplyAdds < 200_000 ? 1 : Math.Min(Threading.NumThreads, planes);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            var buffer = unitStride ? ArrayPool<float>.Shared.Rent(padded.Length) : [];
            for (int plane = part * planes / threads; plane < (part + 1) * planes / threads; plane++)
            {
                int n = plane / g.InChannels, c = plane % g.InChannels;
                var input = x.AsSpan(plane * g.InPlane, g.InPlane);
                if (unitStride) padded.Fill(input, buffer);
                // While this plane is convolved from the cache, the next one is fetched from memory.
                var next = plane + 1 < (part + 1) * planes / threads ? x.AsSpan((plane + 1) * g.InPlane, g.InPlane) : default;
                for (int oc = c * multiplier; oc < (c + 1) * multiplier; oc++)
                {
                    var output = y.AsSpan((n * g.OutChannels + oc) * g.OutPlane, g.OutPlane);
                    var taps = w.AsSpan(oc * g.KernelArea, g.KernelArea);
                    float b = bias == null ? 0f : bias[oc];
                    if (unitStride) padded.Convolve(buffer, taps, b, output, oc == c * multiplier ? next : default);
                    else Strided(input, taps, b, output, g);
                }
            }
            if (unitStride) ArrayPool<float>.Shared.Return(buffer);
        });
    }

    /// <summary>Any stride: for each tap, add its weight times the input samples it touches, row by row.</summary>
    static void Strided(ReadOnlySpan<float> input, ReadOnlySpan<float> taps, float bias, Span<float> output, in ConvGeometry g)
    {
        output.Fill(bias);
        for (int i = 0; i < g.KernelHeight; i++)
            for (int j = 0; j < g.KernelWidth; j++)
            {
                float weight = taps[i * g.KernelWidth + j];
                int columnOffset = j * g.DilationWidth - g.PadLeft;
                Im2Col.ValidRange(columnOffset, g.StrideWidth, g.InWidth, g.OutWidth, out int from, out int to);
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int ih = oh * g.StrideHeight + i * g.DilationHeight - g.PadTop;
                    if ((uint)ih >= (uint)g.InHeight) continue;
                    var row = input.Slice(ih * g.InWidth);
                    var target = output.Slice(oh * g.OutWidth);
                    for (int ow = from, iw = from * g.StrideWidth + columnOffset; ow < to; ow++, iw += g.StrideWidth)
                        target[ow] += weight * row[iw];
                }
            }
    }

    /// <summary>
    /// Stride 1: the input plane copied into a zero-bordered buffer, wide enough that every vector of outputs
    /// reads whole vectors, so no output needs edge tests. Buffer element (r, c) is input (r − pt, c − pl), or zero.
    /// im2col lays small planes out the same way (see <see cref="Im2Col"/>).
    /// </summary>
    internal readonly struct PaddedPlane
    {
        readonly ConvGeometry g;
        readonly int width, height;
        public int Length => width * height;
        /// <summary>Values per buffer row.</summary>
        public int Width => width;

        public PaddedPlane(in ConvGeometry geometry)
        {
            g = geometry;
            width = (g.OutWidth + Lanes - 1) / Lanes * Lanes + g.DilationWidth * (g.KernelWidth - 1);
            height = g.OutHeight + g.DilationHeight * (g.KernelHeight - 1);
        }

        public void Fill(ReadOnlySpan<float> input, Span<float> buffer)
        {
            int from = Math.Min(g.PadLeft, width), to = Math.Min(width, g.PadLeft + g.InWidth);
            for (int r = 0; r < height; r++)
            {
                var row = buffer.Slice(r * width, width);
                int ih = r - g.PadTop;
                if ((uint)ih >= (uint)g.InHeight) { row.Clear(); continue; }
                row[..from].Clear();
                input.Slice(ih * g.InWidth, to - from).CopyTo(row[from..]);
                row[to..].Clear();
            }
        }

        /// <summary>
        /// One output plane in blocks of two rows × four vectors (eight independent FMA chains, enough to hide the
        /// FMA latency); rows left over, and rows narrower than a block, go one vector at a time. A row's last
        /// block starts early enough to end at the row's end, recomputing a few outputs rather than leaving a tail.
        /// </summary>
        public void Convolve(float[] buffer, ReadOnlySpan<float> taps, float bias, Span<float> output, ReadOnlySpan<float> prefetch)
        {
            int prefetchPerRow = (prefetch.Length + g.OutHeight - 1) / g.OutHeight;
            ref float source = ref MemoryMarshal.GetArrayDataReference(buffer);
            ref float target = ref MemoryMarshal.GetReference(output);
            int block = 4 * Lanes, oh = 0;
            bool kernel3x3 = g.KernelHeight == 3 && g.KernelWidth == 3 && g.DilationHeight == 1 && g.DilationWidth == 1;
            Span<Vector<float>> weights = stackalloc Vector<float>[g.KernelArea];
            for (int t = 0; t < weights.Length; t++) weights[t] = new Vector<float>(taps[t]);
            var start = new Vector<float>(bias);
            if (g.OutWidth >= block)
                for (; oh + 2 <= g.OutHeight; oh += 2)
                {
                    for (int next = 0; next < g.OutWidth; next += block)
                    {
                        int ow = Math.Min(next, g.OutWidth - block);
                        ref float input = ref Unsafe.Add(ref source, oh * width + ow);
                        ref float result = ref Unsafe.Add(ref target, oh * g.OutWidth + ow);
                        if (kernel3x3) TwoRowBlock3x3(ref input, width, weights, start, ref result, g.OutWidth);
                        else TwoRowBlock(ref input, weights, start, ref result);
                    }
                    Prefetch(prefetch, oh * prefetchPerRow, 2 * prefetchPerRow);
                }
            for (; oh < g.OutHeight; oh++)
            {
                for (int ow = 0; ow < g.OutWidth; ow += Lanes)
                    OneVector(ref Unsafe.Add(ref source, oh * width + ow), weights, start, output.Slice(oh * g.OutWidth + ow, Math.Min(Lanes, g.OutWidth - ow)));
                Prefetch(prefetch, oh * prefetchPerRow, prefetchPerRow);
            }
        }

        /// <summary>Asks the cache for values [from, from + count) of <paramref name="values"/>, one request per cache line.</summary>
        static unsafe void Prefetch(ReadOnlySpan<float> values, int from, int count)
        {
            if (!Sse.IsSupported) return;
            int end = Math.Min(values.Length, from + count);
            ref float first = ref MemoryMarshal.GetReference(values);
            // A prefetch is only a hint and never faults, so an address the GC has since moved does no harm.
            for (int i = from; i < end; i += 16) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref first, i)));
        }

        /// <summary>Outputs (oh..oh+1, ow..ow+4·Lanes), given the buffer at (oh, ow) and the output at (oh, ow).</summary>
        void TwoRowBlock(ref float input, ReadOnlySpan<Vector<float>> w, Vector<float> start, ref float output)
        {
            Vector<float> a0 = start, a1 = start, a2 = start, a3 = start, b0 = start, b1 = start, b2 = start, b3 = start;
            int kw = g.KernelWidth, rowStep = g.DilationHeight * width, columnStep = g.DilationWidth;
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < kw; j++)
                {
                    ref float at = ref Unsafe.Add(ref input, i * rowStep + j * columnStep);
                    Taps(ref at, w[i * kw + j], ref a0, ref a1, ref a2, ref a3);
                    Taps(ref Unsafe.Add(ref at, width), w[i * kw + j], ref b0, ref b1, ref b2, ref b3);
                }
            Store(ref output, a0, a1, a2, a3);
            Store(ref Unsafe.Add(ref output, g.OutWidth), b0, b1, b2, b3);
        }

        /// <summary>Up to one vector of outputs, given the buffer at (oh, ow).</summary>
        void OneVector(ref float input, ReadOnlySpan<Vector<float>> w, Vector<float> start, Span<float> output)
        {
            var a = start;
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    a = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref input, (nuint)(i * g.DilationHeight * width + j * g.DilationWidth)),
                        w[i * g.KernelWidth + j], a);
            if (output.Length == Lanes) a.CopyTo(output);
            else
                for (int k = 0; k < output.Length; k++) output[k] = a[k];
        }
    }

    /// <summary>
    /// The two-row block for the commonest depthwise kernel, 3×3 undilated, unrolled: the two output rows share
    /// two of their four input rows, so it is 48 loads and 72 FMAs for 64 outputs with no loop overhead.
    /// </summary>
    static void TwoRowBlock3x3(ref float input, int width, ReadOnlySpan<Vector<float>> w, Vector<float> start, ref float output, int outWidth)
    {
        Vector<float> a0 = start, a1 = start, a2 = start, a3 = start, b0 = start, b1 = start, b2 = start, b3 = start;
        ref float row1 = ref Unsafe.Add(ref input, width);
        ref float row2 = ref Unsafe.Add(ref input, 2 * width);
        ref float row3 = ref Unsafe.Add(ref input, 3 * width);
        for (int j = 0; j < 3; j++)
        {
            Taps(ref Unsafe.Add(ref input, j), w[j], ref a0, ref a1, ref a2, ref a3);
            TwoTaps(ref Unsafe.Add(ref row1, j), w[3 + j], ref a0, ref a1, ref a2, ref a3, w[j], ref b0, ref b1, ref b2, ref b3);
            TwoTaps(ref Unsafe.Add(ref row2, j), w[6 + j], ref a0, ref a1, ref a2, ref a3, w[3 + j], ref b0, ref b1, ref b2, ref b3);
            Taps(ref Unsafe.Add(ref row3, j), w[6 + j], ref b0, ref b1, ref b2, ref b3);
        }
        Store(ref output, a0, a1, a2, a3);
        Store(ref Unsafe.Add(ref output, outWidth), b0, b1, b2, b3);
    }

    /// <summary>c += w · (the four vectors at <paramref name="at"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Taps(ref float at, Vector<float> w, ref Vector<float> c0, ref Vector<float> c1, ref Vector<float> c2, ref Vector<float> c3)
    {
        c0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref at), w, c0);
        c1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref at, (nuint)Lanes), w, c1);
        c2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref at, (nuint)(2 * Lanes)), w, c2);
        c3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref at, (nuint)(3 * Lanes)), w, c3);
    }

    /// <summary>a += wa · v and b += wb · v for the four vectors v at <paramref name="at"/>, each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TwoTaps(ref float at, Vector<float> wa, ref Vector<float> a0, ref Vector<float> a1, ref Vector<float> a2, ref Vector<float> a3,
        Vector<float> wb, ref Vector<float> b0, ref Vector<float> b1, ref Vector<float> b2, ref Vector<float> b3)
    {
        var v0 = Vector.LoadUnsafe(ref at);
        var v1 = Vector.LoadUnsafe(ref at, (nuint)Lanes);
        var v2 = Vector.LoadUnsafe(ref at, (nuint)(2 * Lanes));
        var v3 = Vector.LoadUnsafe(ref at, (nuint)(3 * Lanes));
        a0 = Vector.MultiplyAddEstimate(v0, wa, a0);
        a1 = Vector.MultiplyAddEstimate(v1, wa, a1);
        a2 = Vector.MultiplyAddEstimate(v2, wa, a2);
        a3 = Vector.MultiplyAddEstimate(v3, wa, a3);
        b0 = Vector.MultiplyAddEstimate(v0, wb, b0);
        b1 = Vector.MultiplyAddEstimate(v1, wb, b1);
        b2 = Vector.MultiplyAddEstimate(v2, wb, b2);
        b3 = Vector.MultiplyAddEstimate(v3, wb, b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(ref float output, Vector<float> c0, Vector<float> c1, Vector<float> c2, Vector<float> c3)
    {
        Vector.StoreUnsafe(c0, ref output);
        Vector.StoreUnsafe(c1, ref output, (nuint)Lanes);
        Vector.StoreUnsafe(c2, ref output, (nuint)(2 * Lanes));
        Vector.StoreUnsafe(c3, ref output, (nuint)(3 * Lanes));
    }
}
