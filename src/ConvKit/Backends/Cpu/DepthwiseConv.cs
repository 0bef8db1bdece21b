using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Direct depthwise convolution (groups = input channels, each output channel oc filtering input channel
/// oc / multiplier). Its GEMM form would be a 1 × kH·kW times kH·kW × P product per channel, all overhead, so
/// it runs as a direct loop instead, and so do its two gradients, all three on one zero-bordered layout of each
/// plane (<see cref="PaddedPlane"/>):
///   y[n, oc, oh, ow] = bias[oc] + Σ_ij w[oc, 0, i, j] · x[n, oc / multiplier, oh·s − pt + i·d, ow·s − pl + j·d]
/// </summary>
static class DepthwiseConv
{
    static readonly int Lanes = Vector<float>.Count;

    /// <summary>
    /// y = depthwise convolution of x; <paramref name="baseline"/> runs the paths that came before the multi-row and
    /// stride-2 ones (scalar loops for any stride but 1, one vector at a time on narrow planes), kept for the
    /// <c>depthwise</c> benchmark to time against. Column strides above 2 always run the scalar loop. The
    /// <paramref name="activation"/>, if any, is applied to each output plane as soon as it is computed, while it is
    /// still in the cache.
    /// </summary>
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, in ConvGeometry geometry, bool baseline = false,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        var g = geometry;
        bool vectorised = HasBufferPath(g) && (!baseline || (g.StrideHeight == 1 && g.StrideWidth == 1));
        var padded = new PaddedPlane(g);
        int planes = g.Batch * g.InChannels, multiplier = g.OutChannels / g.InChannels, threads = Threads(g, planes);
        Threading.For(threads, threads, part =>
        {
            var buffer = vectorised ? ArrayPool<float>.Shared.Rent(padded.Length) : [];
            if (vectorised) padded.Clear(buffer);
            for (int plane = part * planes / threads; plane < (part + 1) * planes / threads; plane++)
            {
                int n = plane / g.InChannels, c = plane % g.InChannels;
                var input = x.AsSpan(plane * g.InPlane, g.InPlane);
                if (vectorised) padded.Fill(input, buffer);
                // While this plane is convolved from the cache, the next one is fetched from memory.
                var next = plane + 1 < (part + 1) * planes / threads ? x.AsSpan((plane + 1) * g.InPlane, g.InPlane) : default;
                for (int oc = c * multiplier; oc < (c + 1) * multiplier; oc++)
                {
                    var output = y.AsSpan((n * g.OutChannels + oc) * g.OutPlane, g.OutPlane);
                    var taps = w.AsSpan(oc * g.KernelArea, g.KernelArea);
                    float b = bias == null ? 0f : bias[oc];
                    if (vectorised) padded.Convolve(buffer, taps, b, output, oc == c * multiplier ? next : default, baseline);
                    else Strided(input, taps, b, output, g);
                    if (activation is { } op) CpuBackend.Activate(op, activationParameter, output, output);
                }
            }
            if (vectorised) ArrayPool<float>.Shared.Return(buffer);
        });
    }

    /// <summary>
    /// The weight gradient, dw[oc, 0, i, j] = Σ over n, oh, ow of dy[n, oc, oh, ow] · x[n, c, oh·s − pt + i·d, ow·s − pl + j·d]
    /// with c = oc / multiplier: each input plane laid out as for the forward pass, then per tap one dot product of
    /// the output gradient with the tap's window. Threads split the channels, so each weight is summed by one
    /// thread in a fixed order. Returns false, doing nothing, where the forward pass would run its scalar loop.
    /// </summary>
    public static bool BackwardWeight(float[] x, float[] dy, float[] dw, in ConvGeometry geometry)
    {
        var g = geometry;
        if (!HasBufferPath(g)) return false;
        var padded = new PaddedPlane(g);
        int multiplier = g.OutChannels / g.InChannels, area = g.KernelArea, threads = Threads(g, g.InChannels);
        Threading.For(threads, threads, part =>
        {
            var buffer = ArrayPool<float>.Shared.Rent(padded.Length);
            padded.Clear(buffer);
            for (int c = part * g.InChannels / threads; c < (part + 1) * g.InChannels / threads; c++)
            {
                dw.AsSpan(c * multiplier * area, multiplier * area).Clear();
                for (int n = 0; n < g.Batch; n++)
                {
                    padded.Fill(x.AsSpan((n * g.InChannels + c) * g.InPlane, g.InPlane), buffer);
                    for (int oc = c * multiplier; oc < (c + 1) * multiplier; oc++)
                        padded.Correlate(buffer, dy.AsSpan((n * g.OutChannels + oc) * g.OutPlane, g.OutPlane), dw.AsSpan(oc * area, area));
                }
            }
            ArrayPool<float>.Shared.Return(buffer);
        });
        return true;
    }

    /// <summary>
    /// The data gradient, dx[n, c] = bias[c] + the adjoint of the forward pass: each output-gradient plane of c's
    /// filters is added, tap by tap and scaled by the tap's weight, into a zeroed buffer of the forward pass's layout
    /// where the forward pass read, and dx is the buffer's interior. Threads split the planes, each writing its own.
    /// Returns false, doing nothing, where the forward pass would run its scalar loop.
    /// </summary>
    public static bool BackwardData(float[] dy, float[] w, float[]? bias, float[] dx, in ConvGeometry geometry)
    {
        var g = geometry;
        if (!HasBufferPath(g)) return false;
        var padded = new PaddedPlane(g);
        int planes = g.Batch * g.InChannels, multiplier = g.OutChannels / g.InChannels, threads = Threads(g, planes);
        Threading.For(threads, threads, part =>
        {
            var buffer = ArrayPool<float>.Shared.Rent(padded.Length);
            for (int plane = part * planes / threads; plane < (part + 1) * planes / threads; plane++)
            {
                int n = plane / g.InChannels, c = plane % g.InChannels;
                Array.Clear(buffer, 0, padded.Length);
                for (int oc = c * multiplier; oc < (c + 1) * multiplier; oc++)
                    padded.Scatter(buffer, w.AsSpan(oc * g.KernelArea, g.KernelArea), dy.AsSpan((n * g.OutChannels + oc) * g.OutPlane, g.OutPlane));
                padded.Extract(buffer, bias == null ? 0f : bias[c], dx.AsSpan(plane * g.InPlane, g.InPlane));
            }
            ArrayPool<float>.Shared.Return(buffer);
        });
        return true;
    }

    /// <summary>
    /// Whether the vector loops on a <see cref="PaddedPlane"/> take this geometry (column stride 1 or 2, no negative
    /// padding); the forward pass runs <see cref="Strided"/> otherwise, and the gradients the general im2col + GEMM path.
    /// </summary>
    static bool HasBufferPath(in ConvGeometry g) => Vector.IsHardwareAccelerated && g.PadTop >= 0 && g.PadLeft >= 0 && g.StrideWidth <= 2;

    /// <summary>One thread for a small convolution, else one a core, at most one a part.</summary>
    internal static int Threads(in ConvGeometry g, int parts) => CpuBackend.ThreadsFor(g.MultiplyAdds, parts);

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
    /// The input plane copied into a zero-bordered buffer, wide enough that every vector of outputs reads whole
    /// vectors, so no output needs edge tests. At stride 1 buffer element (r, c) is input (r − pt, c − pl), or zero.
    /// At column stride 2 each buffer row holds the padded row's even columns, then its odd ones (each half
    /// <c>phase</c> long): output column ow of tap column j then reads phase (j·d) mod 2 at ow + ⌊j·d / 2⌋, so
    /// stride 2 runs the same unit-stride vector loops as stride 1. Output rows are <c>rowStep</c> = stride·width apart.
    /// im2col lays small planes out the same way (see <see cref="Im2Col"/>).
    /// </summary>
    internal readonly struct PaddedPlane
    {
        readonly ConvGeometry g;
        readonly int width, height, phase;
        /// <summary>Floats the buffer needs.</summary>
        public int Length => width * height;
        /// <summary>Values per buffer row.</summary>
        public int Width => width;

        public PaddedPlane(in ConvGeometry geometry)
        {
            g = geometry;
            int outWidth = (g.OutWidth + Lanes - 1) / Lanes * Lanes, span = g.DilationWidth * (g.KernelWidth - 1);
            // A stride-2 phase holds a row's outputs and the kernel's reach, in whole 16-value blocks.
            phase = g.StrideWidth == 1 ? outWidth + span : (outWidth + span / 2 + 15) / 16 * 16;
            width = g.StrideWidth == 1 ? phase : 2 * phase;
            height = (g.OutHeight - 1) * g.StrideHeight + g.DilationHeight * (g.KernelHeight - 1) + 1;
        }

        /// <summary>
        /// Zeroes a buffer for <see cref="Fill"/>, once: every fill writes the same positions (those the input covers),
        /// so the zero borders stay zero from one plane to the next.
        /// </summary>
        public void Clear(Span<float> buffer) => buffer[..Length].Clear();

        /// <summary>Lays one input plane out in a buffer that <see cref="Clear"/> has zeroed.</summary>
        public void Fill(ReadOnlySpan<float> input, Span<float> buffer)
        {
            // Rows are copied with inline vector moves: a call to the general memmove per row of 56 values cost as much
            // as the convolution. At stride 2 each input row is split straight into the buffer row's phases: padded
            // column from + iw is phase (from + iw) mod 2 at (from + iw) / 2, so the input's even values go to the phase
            // of from's parity and its odd ones to the other. (Laying padded rows out first and splitting them, as
            // before, cost more than the convolution itself with 112×112 inputs on Zen 3.)
            int from = Math.Min(g.PadLeft, width), to = Math.Min(width, g.PadLeft + g.InWidth);
            int first = Math.Max(g.PadTop, 0), end = Math.Min(height, g.PadTop + g.InHeight);
            ref float source = ref MemoryMarshal.GetReference(input);
            ref float target = ref MemoryMarshal.GetReference(buffer);
            if (g.StrideWidth == 1)
            {
                for (int r = first; r < end; r++)
                    Im2Col.Copy(ref Unsafe.Add(ref source, (r - g.PadTop) * g.InWidth), ref Unsafe.Add(ref target, r * width + from), to - from);
                return;
            }
            int evens = from % 2 * phase + from / 2, odds = (from + 1) % 2 * phase + (from + 1) / 2;
            for (int r = first; r < end; r++)
            {
                ref float row = ref Unsafe.Add(ref target, r * width);
                Im2Col.SplitInTwo(input.Slice((r - g.PadTop) * g.InWidth, to - from), ref Unsafe.Add(ref row, evens), ref Unsafe.Add(ref row, odds));
            }
        }

        /// <summary>Buffer offset of each tap from the buffer position of its output (oh, ow).</summary>
        void TapOffsets(Span<int> offsets)
        {
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    int column = j * g.DilationWidth;
                    offsets[i * g.KernelWidth + j] = i * g.DilationHeight * width
                        + (g.StrideWidth == 1 ? column : column % 2 * phase + column / 2);
                }
        }

        /// <summary>
        /// One output plane. Rows of at least four vectors go in blocks of two rows × four vectors; narrower rows in
        /// pairs of four-row × one-vector units: eight independent FMA chains either way, enough to hide the FMA
        /// latency that a single chain of k·k taps per vector is bound by. A row's last block starts early enough to
        /// end at the row's end, and a plane's last narrow unit at the plane's last row, recomputing a few outputs
        /// rather than leaving a tail. Rows left over go one vector at a time.
        /// </summary>
        public void Convolve(float[] buffer, ReadOnlySpan<float> taps, float bias, Span<float> output, ReadOnlySpan<float> prefetch, bool baseline = false)
        {
            int prefetchPerRow = (prefetch.Length + g.OutHeight - 1) / g.OutHeight;
            ref float source = ref MemoryMarshal.GetArrayDataReference(buffer);
            ref float target = ref MemoryMarshal.GetReference(output);
            int block = 4 * Lanes, oh = 0, rowStep = g.StrideHeight * width, outWidth = g.OutWidth;
            bool kernel3x3 = g.KernelHeight == 3 && g.KernelWidth == 3 && g.DilationHeight == 1 && g.DilationWidth == 1
                && g.StrideHeight == 1 && g.StrideWidth == 1;
            Span<Vector<float>> weights = stackalloc Vector<float>[g.KernelArea];
            Span<int> offsets = stackalloc int[g.KernelArea];
            for (int t = 0; t < weights.Length; t++) weights[t] = new Vector<float>(taps[t]);
            TapOffsets(offsets);
            var start = new Vector<float>(bias);
            if (outWidth >= block)
                for (; oh + 2 <= g.OutHeight; oh += 2)
                {
                    for (int next = 0; next < outWidth; next += block)
                    {
                        int ow = Math.Min(next, outWidth - block);
                        ref float input = ref Unsafe.Add(ref source, oh * rowStep + ow);
                        ref float result = ref Unsafe.Add(ref target, oh * outWidth + ow);
                        if (kernel3x3) TwoRowBlock3x3(ref input, width, weights, start, ref result, outWidth);
                        else TwoRowBlock(ref input, rowStep, offsets, weights, start, ref result, outWidth);
                    }
                    Prefetch(prefetch, oh * prefetchPerRow, 2 * prefetchPerRow);
                }
            else if (!baseline && g.OutHeight >= 4)
            {
                // Narrow rows: the plane cut into units of four rows × one vector, two units at a time (a 7×7 plane is
                // two units, rows 0–3 and 3–6). The last row block and vector column are moved back to end at the
                // plane's edges; an odd last unit is paired with itself.
                int columns = (outWidth + Lanes - 1) / Lanes, outHeight = g.OutHeight, units = (outHeight + 3) / 4 * columns;
                int prefetchPerUnit = (prefetch.Length + units - 1) / units;
                int Origin(int unit, int step) =>
                    Math.Min(unit / columns * 4, outHeight - 4) * step + Math.Min(unit % columns * Lanes, Math.Max(outWidth - Lanes, 0));
                for (int unit = 0; unit < units; unit += 2)
                {
                    int other = Math.Min(unit + 1, units - 1);
                    TwoUnits(ref source, Origin(unit, rowStep), Origin(other, rowStep), rowStep, offsets, weights, start,
                        ref target, Origin(unit, outWidth), Origin(other, outWidth), outWidth);
                    Prefetch(prefetch, unit * prefetchPerUnit, 2 * prefetchPerUnit);
                }
                return;
            }
            for (; oh < g.OutHeight; oh++)
            {
                for (int ow = 0; ow < outWidth; ow += Lanes)
                    OneVector(ref Unsafe.Add(ref source, oh * rowStep + ow), offsets, weights, start, output.Slice(oh * outWidth + ow, Math.Min(Lanes, outWidth - ow)));
                Prefetch(prefetch, oh * prefetchPerRow, prefetchPerRow);
            }
        }

        /// <summary>
        /// Adds to each tap's weight gradient the dot product of one output-gradient plane with the tap's window of the
        /// buffer (the forward pass's reads, in the same layout): two vector sums per tap, a scalar one for row ends.
        /// </summary>
        public void Correlate(float[] buffer, ReadOnlySpan<float> outputGrad, Span<float> weightGrad)
        {
            Span<int> offsets = stackalloc int[g.KernelArea];
            TapOffsets(offsets);
            ref float source = ref MemoryMarshal.GetArrayDataReference(buffer);
            ref float gradient = ref MemoryMarshal.GetReference(outputGrad);
            int rowStep = g.StrideHeight * width, outWidth = g.OutWidth, vectorEnd = outWidth / Lanes * Lanes;
            for (int t = 0; t < offsets.Length; t++)
            {
                Vector<float> a0 = Vector<float>.Zero, a1 = Vector<float>.Zero;
                float rest = 0f;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    ref float input = ref Unsafe.Add(ref source, offsets[t] + oh * rowStep);
                    ref float upstream = ref Unsafe.Add(ref gradient, oh * outWidth);
                    int ow = 0;
                    for (; ow + 2 * Lanes <= vectorEnd; ow += 2 * Lanes)
                    {
                        a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref input, (nuint)ow), Vector.LoadUnsafe(ref upstream, (nuint)ow), a0);
                        a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref input, (nuint)(ow + Lanes)), Vector.LoadUnsafe(ref upstream, (nuint)(ow + Lanes)), a1);
                    }
                    if (ow < vectorEnd)
                    {
                        a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref input, (nuint)ow), Vector.LoadUnsafe(ref upstream, (nuint)ow), a0);
                        ow += Lanes;
                    }
                    for (; ow < outWidth; ow++) rest += Unsafe.Add(ref input, ow) * Unsafe.Add(ref upstream, ow);
                }
                weightGrad[t] += Vector.Sum(a0 + a1) + rest;
            }
        }

        /// <summary>
        /// The adjoint of <see cref="Convolve"/> without bias: adds each tap's weight times one output-gradient plane into
        /// the buffer where the tap read, whole vectors along each row and single values for the row's end.
        /// </summary>
        public void Scatter(float[] buffer, ReadOnlySpan<float> taps, ReadOnlySpan<float> outputGrad)
        {
            Span<int> offsets = stackalloc int[g.KernelArea];
            TapOffsets(offsets);
            ref float target = ref MemoryMarshal.GetArrayDataReference(buffer);
            ref float gradient = ref MemoryMarshal.GetReference(outputGrad);
            int rowStep = g.StrideHeight * width, outWidth = g.OutWidth, vectorEnd = outWidth / Lanes * Lanes;
            for (int t = 0; t < offsets.Length; t++)
            {
                var weight = new Vector<float>(taps[t]);
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    ref float input = ref Unsafe.Add(ref target, offsets[t] + oh * rowStep);
                    ref float upstream = ref Unsafe.Add(ref gradient, oh * outWidth);
                    int ow = 0;
                    for (; ow < vectorEnd; ow += Lanes)
                        Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref upstream, (nuint)ow), weight, Vector.LoadUnsafe(ref input, (nuint)ow))
                            .StoreUnsafe(ref input, (nuint)ow);
                    for (; ow < outWidth; ow++) Unsafe.Add(ref input, ow) += taps[t] * Unsafe.Add(ref upstream, ow);
                }
            }
        }

        /// <summary>
        /// inputGrad = bias + the buffer's values at the input's positions (the inverse of <see cref="Fill"/>'s layout;
        /// rows and columns past the buffer were read by no output).
        /// </summary>
        public void Extract(float[] buffer, float bias, Span<float> inputGrad)
        {
            for (int ih = 0; ih < g.InHeight; ih++)
            {
                var target = inputGrad.Slice(ih * g.InWidth, g.InWidth);
                int r = ih + g.PadTop, read = r < height ? Math.Clamp(width - g.PadLeft, 0, g.InWidth) : 0;
                target[read..].Fill(bias);
                if (read == 0) continue;
                var row = buffer.AsSpan(r * width, width);
                if (g.StrideWidth == 1)
                {
                    TensorPrimitives.Add(row.Slice(g.PadLeft, read), bias, target[..read]);
                    continue;
                }
                // Padded column iw + pl is in phase (iw + pl) mod 2 at (iw + pl) / 2: the even iw read one phase from
                // an index on, the odd iw the other, so the row is the two runs interleaved.
                int pl = g.PadLeft, evens = pl % 2 * phase + pl / 2, odds = (pl + 1) % 2 * phase + (pl + 1) / 2, done = 0;
                if (Avx512F.IsSupported)
                {
                    ref float even = ref Unsafe.Add(ref MemoryMarshal.GetReference(row), evens);
                    ref float odd = ref Unsafe.Add(ref MemoryMarshal.GetReference(row), odds);
                    ref float output = ref MemoryMarshal.GetReference(target);
                    var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
                    var high = low + Vector512.Create(8);
                    var start = Vector512.Create(bias);
                    for (; done + 32 <= read; done += 32)
                    {
                        var e = Vector512.LoadUnsafe(ref even, (nuint)done / 2);
                        var o = Vector512.LoadUnsafe(ref odd, (nuint)done / 2);
                        (Avx512F.PermuteVar16x32x2(e, low, o) + start).StoreUnsafe(ref output, (nuint)done);
                        (Avx512F.PermuteVar16x32x2(e, high, o) + start).StoreUnsafe(ref output, (nuint)done + 16);
                    }
                }
                for (int iw = done; iw < read; iw++) target[iw] = bias + row[(iw % 2 == 0 ? evens : odds) + iw / 2];
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
    }

    /// <summary>Outputs (oh..oh+1, ow..ow+4·Lanes), given the buffer at (oh, ow) and the output at (oh, ow).</summary>
    static void TwoRowBlock(ref float input, int rowStep, ReadOnlySpan<int> offsets, ReadOnlySpan<Vector<float>> w, Vector<float> start,
        ref float output, int outWidth)
    {
        Vector<float> a0 = start, a1 = start, a2 = start, a3 = start, b0 = start, b1 = start, b2 = start, b3 = start;
        for (int t = 0; t < offsets.Length; t++)
        {
            ref float at = ref Unsafe.Add(ref input, offsets[t]);
            Taps(ref at, w[t], ref a0, ref a1, ref a2, ref a3);
            Taps(ref Unsafe.Add(ref at, rowStep), w[t], ref b0, ref b1, ref b2, ref b3);
        }
        Store(ref output, a0, a1, a2, a3);
        Store(ref Unsafe.Add(ref output, outWidth), b0, b1, b2, b3);
    }

    /// <summary>
    /// Two units of four output rows × one vector, eight independent FMA chains, for planes narrower than the
    /// two-row blocks (the 28×28, 14×14 and 7×7 stages): unit a's outputs start at output[a] and read the buffer from
    /// input[a], likewise b. Rows under a vector store only their <paramref name="outWidth"/> values.
    /// </summary>
    static void TwoUnits(ref float input, int a, int b, int rowStep, ReadOnlySpan<int> offsets, ReadOnlySpan<Vector<float>> w,
        Vector<float> start, ref float output, int outputA, int outputB, int outWidth)
    {
        Vector<float> a0 = start, a1 = start, a2 = start, a3 = start, b0 = start, b1 = start, b2 = start, b3 = start;
        for (int t = 0; t < offsets.Length; t++)
        {
            ref float atA = ref Unsafe.Add(ref input, a + offsets[t]);
            ref float atB = ref Unsafe.Add(ref input, b + offsets[t]);
            var tap = w[t];
            a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atA), tap, a0);
            b0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atB), tap, b0);
            a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atA, (nuint)rowStep), tap, a1);
            b1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atB, (nuint)rowStep), tap, b1);
            a2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atA, (nuint)(2 * rowStep)), tap, a2);
            b2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atB, (nuint)(2 * rowStep)), tap, b2);
            a3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atA, (nuint)(3 * rowStep)), tap, a3);
            b3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref atB, (nuint)(3 * rowStep)), tap, b3);
        }
        int count = Math.Min(Lanes, outWidth);
        ref float resultA = ref Unsafe.Add(ref output, outputA);
        ref float resultB = ref Unsafe.Add(ref output, outputB);
        StoreFirst(a0, ref resultA, count);
        StoreFirst(a1, ref Unsafe.Add(ref resultA, outWidth), count);
        StoreFirst(a2, ref Unsafe.Add(ref resultA, 2 * outWidth), count);
        StoreFirst(a3, ref Unsafe.Add(ref resultA, 3 * outWidth), count);
        StoreFirst(b0, ref resultB, count);
        StoreFirst(b1, ref Unsafe.Add(ref resultB, outWidth), count);
        StoreFirst(b2, ref Unsafe.Add(ref resultB, 2 * outWidth), count);
        StoreFirst(b3, ref Unsafe.Add(ref resultB, 3 * outWidth), count);
    }

    /// <summary>The first <paramref name="count"/> lanes of <paramref name="v"/> to <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreFirst(Vector<float> v, ref float output, int count)
    {
        if (count == Lanes) Vector.StoreUnsafe(v, ref output);
        else
            for (int k = 0; k < count; k++) Unsafe.Add(ref output, k) = v[k];
    }

    /// <summary>Up to one vector of outputs, given the buffer at (oh, ow).</summary>
    static void OneVector(ref float input, ReadOnlySpan<int> offsets, ReadOnlySpan<Vector<float>> w, Vector<float> start, Span<float> output)
    {
        var a = start;
        for (int t = 0; t < offsets.Length; t++)
            a = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref input, (nuint)offsets[t]), w[t], a);
        if (output.Length == Lanes) a.CopyTo(output);
        else
            for (int k = 0; k < output.Length; k++) output[k] = a[k];
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
