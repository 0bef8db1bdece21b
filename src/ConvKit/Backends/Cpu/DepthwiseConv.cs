using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Direct depthwise convolution (groups = input channels, each output channel oc filtering input channel
/// oc / multiplier). Its GEMM form would be a 1 × kH·kW times kH·kW × P product per channel, all overhead, so
/// it runs as a direct loop instead:
///   y[n, oc, oh, ow] = bias[oc] + Σ_ij w[oc, 0, i, j] · x[n, oc / multiplier, oh·s − pt + i·d, ow·s − pl + j·d]
/// </summary>
static class DepthwiseConv
{
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, in ConvGeometry geometry)
    {
        var g = geometry;
        bool unitStride = g.StrideHeight == 1 && g.StrideWidth == 1 && Vector.IsHardwareAccelerated;
        var padded = new PaddedPlane(g);
        int planes = g.Batch * g.InChannels, threads = Math.Min(Threading.NumThreads, planes);
        if (g.MultiplyAdds < 200_000) threads = 1;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
        {
            var buffer = unitStride ? ArrayPool<float>.Shared.Rent(padded.Length) : [];
            for (int plane = part * planes / threads; plane < (part + 1) * planes / threads; plane++)
            {
                int n = plane / g.InChannels, c = plane % g.InChannels, multiplier = g.OutChannels / g.InChannels;
                var input = x.AsSpan(plane * g.InPlane, g.InPlane);
                if (unitStride) padded.Fill(input, buffer);
                for (int m = 0; m < multiplier; m++)
                {
                    int oc = c * multiplier + m;
                    var output = y.AsSpan((n * g.OutChannels + oc) * g.OutPlane, g.OutPlane);
                    var taps = w.AsSpan(oc * g.KernelArea, g.KernelArea);
                    float b = bias == null ? 0f : bias[oc];
                    if (unitStride) padded.Convolve(buffer, taps, b, output);
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
    /// Stride 1: the input plane copied into a zero-bordered buffer wide enough that every vector of outputs
    /// reads whole vectors with no edge tests. Buffer element (r, c) is input (r − pt, c − pl), or zero.
    /// </summary>
    readonly struct PaddedPlane
    {
        static readonly int Lanes = Vector<float>.Count;
        readonly ConvGeometry g;
        readonly int width, height;
        readonly int[] tapOffsets;
        public int Length => width * height;

        public PaddedPlane(in ConvGeometry geometry)
        {
            g = geometry;
            int outputWidth = (g.OutWidth + Lanes - 1) / Lanes * Lanes;
            width = outputWidth + g.DilationWidth * (g.KernelWidth - 1);
            height = g.OutHeight + g.DilationHeight * (g.KernelHeight - 1);
            tapOffsets = new int[g.KernelArea];
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    tapOffsets[i * g.KernelWidth + j] = i * g.DilationHeight * width + j * g.DilationWidth;
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

        /// <summary>One output plane; four vectors at a time so four independent FMA chains hide the FMA latency.</summary>
        public void Convolve(float[] buffer, ReadOnlySpan<float> taps, float bias, Span<float> output)
        {
            ref float source = ref MemoryMarshal.GetArrayDataReference(buffer);
            Span<float> tail = stackalloc float[Lanes];
            var start = new Vector<float>(bias);
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                var target = output.Slice(oh * g.OutWidth, g.OutWidth);
                int rowStart = oh * width, ow = 0;
                for (; ow + 4 * Lanes <= g.OutWidth; ow += 4 * Lanes)
                {
                    Vector<float> a0 = start, a1 = start, a2 = start, a3 = start;
                    for (int t = 0; t < taps.Length; t++)
                    {
                        var weight = new Vector<float>(taps[t]);
                        nuint at = (nuint)(rowStart + ow + tapOffsets[t]);
                        a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, at), weight, a0);
                        a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, at + (nuint)Lanes), weight, a1);
                        a2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, at + (nuint)(2 * Lanes)), weight, a2);
                        a3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, at + (nuint)(3 * Lanes)), weight, a3);
                    }
                    a0.CopyTo(target[ow..]);
                    a1.CopyTo(target[(ow + Lanes)..]);
                    a2.CopyTo(target[(ow + 2 * Lanes)..]);
                    a3.CopyTo(target[(ow + 3 * Lanes)..]);
                }
                for (; ow < g.OutWidth; ow += Lanes)
                {
                    var a = start;
                    for (int t = 0; t < taps.Length; t++)
                        a = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref source, (nuint)(rowStart + ow + tapOffsets[t])), new Vector<float>(taps[t]), a);
                    if (ow + Lanes <= g.OutWidth) a.CopyTo(target[ow..]);
                    else
                    {
                        a.CopyTo(tail);
                        tail[..(g.OutWidth - ow)].CopyTo(target[ow..]);
                    }
                }
            }
        }
    }
}
