using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Depthwise convolution on blocks of sixteen channels laid out channels-last, the layout ONNX Runtime runs these
/// layers in: each block of an image's planes is transposed into a zero-bordered (row, column, 16 channels) buffer,
/// so one Vector512 holds the sixteen channels' values at one position and every tap of every output is one
/// multiply-add by a vector of the tap's sixteen weights, whatever the stride, the dilation or the width of a row;
/// four outputs at once keep four independent chains of multiply-adds in flight. The result is transposed back
/// into the output planes with the bias and the activation already applied. On a plane (<see cref="DepthwiseConv"/>),
/// rows of 7, 14 or 28 values fill vectors only partly, stride 2 splits each row into phases, and every tap is a
/// broadcast weight times a row: in MobileNetV2 at batch 1 on Zen 5 the plane path took 2–4.5× ONNX Runtime's time
/// for these layers.
/// </summary>
static unsafe class ChannelsLastDepthwise
{
    const int Lanes = 16;

    /// <summary>
    /// Whether this path takes the convolution: depthwise with one filter per channel, no negative padding, and output
    /// rows of at most 28 values at column stride 2, or of at most 16 at unit stride (without AVX-512, where a
    /// Vector512 is two Vector256 halves, only 3×3 filters or rows of at most 8). On wider rows at unit stride the
    /// plane path's row vectors are full and this one's transposes cost more than they save. MobileNetV2's layers at
    /// batch 1 on two threads, Zen 5: 32 channels at 112×112 took 173 µs here against 88 on the plane path, 384 at
    /// 14×14 32 against 37, 960 at 7×7 27 against 67, 576 at 14×14 to 7×7 by stride 2 25 against 63, 144 at 56×56
    /// to 28×28 63 against 81; with AVX-512 disabled, 672 at 14×14 with 5×5 filters 204 against 137.
    /// </summary>
    public static bool Takes(in ConvGeometry g) =>
        g.IsDepthwise && g.OutChannels == g.InChannels && g.PadTop >= 0 && g.PadLeft >= 0
        && (g.StrideWidth == 2 ? g.OutWidth <= 28
            : g.OutWidth <= 16 && (Vector512.IsHardwareAccelerated || g.KernelArea <= 9 || g.OutWidth <= 8));

    /// <summary>y = activation(the depthwise convolution of x with the bias), for a geometry <see cref="Takes"/> accepts.</summary>
    public static void Forward(float[] x, float[] w, float[]? bias, float[] y, ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        var layout = new Layout(g);
        int blocks = (g.InChannels + Lanes - 1) / Lanes, images = g.Batch * blocks;
        // A lone block (16 channels at 112×112) is split into bands of output rows, so both cores work on it.
        int bands = Math.Clamp(Threading.NumThreads / images, 1, g.OutHeight), items = images * bands;
        int parts = DepthwiseConv.Threads(g, items);
        void Part(int part)
        {
            var input = ArrayPool<float>.Shared.Rent(layout.InputLength + Lanes);
            var output = ArrayPool<float>.Shared.Rent(g.OutPlane * Lanes + Lanes);
            var taps = ArrayPool<float>.Shared.Rent(g.KernelArea * Lanes + Lanes);
            var scratch = ArrayPool<float>.Shared.Rent(g.InPlane * Lanes);
            // The borders stay zero: every block writes the same interior positions.
            Array.Clear(input, 0, layout.InputLength);
            for (int item = part * items / parts; item < (part + 1) * items / parts; item++)
            {
                int image = item / bands, band = item % bands, n = image / blocks, first = image % blocks * Lanes;
                int count = Math.Min(Lanes, g.InChannels - first);
                int firstRow = band * g.OutHeight / bands, endRow = (band + 1) * g.OutHeight / bands;
                layout.Gather(x.AsSpan((n * g.InChannels + first) * g.InPlane), count, firstRow, endRow, input, scratch);
                for (int t = 0; t < g.KernelArea; t++)
                    for (int lane = 0; lane < Lanes; lane++)
                        taps[t * Lanes + lane] = lane < count ? w[(first + lane) * g.KernelArea + t] : 0f;
                var shift = Vector512<float>.Zero;
                if (bias != null)
                    for (int lane = 0; lane < count; lane++) shift = shift.WithElement(lane, bias[first + lane]);
                fixed (float* pi = input, po = output, pt = taps)
                    layout.Convolve(pi, pt, shift, po, firstRow, endRow, activation);
                int start = firstRow * g.OutWidth, positions = (endRow - firstRow) * g.OutWidth;
                var planes = y.AsSpan((n * g.OutChannels + first) * g.OutPlane);
                BlockTranspose.Run(output.AsSpan(start * Lanes), Lanes, positions, count, planes[start..], g.OutPlane);
                if (activation is { } op && !Fused(op))
                    for (int c = 0; c < count; c++)
                    {
                        var values = planes.Slice(c * g.OutPlane + start, positions);
                        CpuBackend.Activate(op, activationParameter, values, values);
                    }
            }
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(output);
            ArrayPool<float>.Shared.Return(taps);
            ArrayPool<float>.Shared.Return(scratch);
        }
        if (parts == 1) Part(0);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part);
    }

    /// <summary>The activations applied to the sums in registers; the others run over the output planes afterwards.</summary>
    static bool Fused(ActivationOp? op) => op is null or ActivationOp.Relu or ActivationOp.Relu6 or ActivationOp.HardSigmoid or ActivationOp.HardSwish;

    /// <summary>
    /// The zero-bordered channels-last buffer of one block: padded position (r, c) holds the sixteen channels of input
    /// (r − pt, c − pl), or zeros, at ((r·width) + c)·16; output (oh, ow) reads its tap (i, j) at padded
    /// (oh·sh + i·dh, ow·sw + j·dw).
    /// </summary>
    readonly struct Layout
    {
        readonly ConvGeometry g;
        readonly int height, width;

        public Layout(in ConvGeometry geometry)
        {
            g = geometry;
            height = Math.Max(g.PadTop + g.InHeight, (g.OutHeight - 1) * g.StrideHeight + (g.KernelHeight - 1) * g.DilationHeight + 1);
            width = Math.Max(g.PadLeft + g.InWidth, (g.OutWidth - 1) * g.StrideWidth + (g.KernelWidth - 1) * g.DilationWidth + 1);
        }

        public int InputLength => height * width * Lanes;

        /// <summary>
        /// Transposes the input rows that output rows [firstRow, endRow) read, of <paramref name="count"/> planes, into
        /// the buffer: straight into place a row at a time where rows are whole 8×8 blocks of the transpose, else all
        /// at once into <paramref name="scratch"/> and then copied into place (rows of 7, 14 or 28 values transposed one
        /// by one spent most of their time in the transpose's scalar edges).
        /// </summary>
        public void Gather(ReadOnlySpan<float> planes, int count, int firstRow, int endRow, float[] buffer, float[] scratch)
        {
            int top = Math.Max(0, firstRow * g.StrideHeight - g.PadTop);
            int bottom = Math.Min(g.InHeight, (endRow - 1) * g.StrideHeight + (g.KernelHeight - 1) * g.DilationHeight + 1 - g.PadTop);
            if (bottom <= top) return;
            if (g.InWidth % 8 == 0)
            {
                for (int ih = top; ih < bottom; ih++)
                    BlockTranspose.Run(planes[(ih * g.InWidth)..], g.InPlane, count, g.InWidth, buffer.AsSpan(((ih + g.PadTop) * width + g.PadLeft) * Lanes), Lanes);
                return;
            }
            BlockTranspose.Run(planes[(top * g.InWidth)..], g.InPlane, count, (bottom - top) * g.InWidth, scratch, Lanes);
            for (int ih = top; ih < bottom; ih++)
                scratch.AsSpan((ih - top) * g.InWidth * Lanes, g.InWidth * Lanes).CopyTo(buffer.AsSpan(((ih + g.PadTop) * width + g.PadLeft) * Lanes));
        }

        /// <summary>The sums of output rows [firstRow, endRow), bias and fused activation applied, at (position · 16) in <paramref name="output"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Convolve(float* input, float* taps, Vector512<float> bias, float* output, int firstRow, int endRow, ActivationOp? activation)
        {
            int area = g.KernelArea;
            int* offsets = stackalloc int[area];
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    offsets[i * g.KernelWidth + j] = (i * g.DilationHeight * width + j * g.DilationWidth) * Lanes;
            int rowStep = g.StrideHeight * width * Lanes, columnStep = g.StrideWidth * Lanes;
            // Positions in reading order; each one's top-left tap in the buffer.
            int outWidth = g.OutWidth, p = firstRow * outWidth, end = endRow * outWidth, oh = firstRow, ow = 0;
            float* Next()
            {
                float* at = input + oh * rowStep + ow * columnStep;
                if (++ow == outWidth) (ow, oh) = (0, oh + 1);
                return at;
            }
            for (; p + 4 <= end; p += 4)
            {
                float* q0 = Next(), q1 = Next(), q2 = Next(), q3 = Next();
                Vector512<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias;
                for (int t = 0; t < area; t++)
                {
                    var tap = Vector512.Load(taps + t * Lanes);
                    int o = offsets[t];
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(q0 + o), tap, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.Load(q1 + o), tap, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.Load(q2 + o), tap, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.Load(q3 + o), tap, s3);
                }
                float* target = output + (nint)p * Lanes;
                Vector512.Store(Activate(s0, activation), target);
                Vector512.Store(Activate(s1, activation), target + Lanes);
                Vector512.Store(Activate(s2, activation), target + 2 * Lanes);
                Vector512.Store(Activate(s3, activation), target + 3 * Lanes);
            }
            for (; p < end; p++)
            {
                float* q = Next();
                var s = bias;
                for (int t = 0; t < area; t++) s = Vector512.FusedMultiplyAdd(Vector512.Load(q + offsets[t]), Vector512.Load(taps + t * Lanes), s);
                Vector512.Store(Activate(s, activation), output + (nint)p * Lanes);
            }
        }
    }

    /// <summary>A fused activation of sixteen sums, with the arithmetic of the convolution's epilogue (<see cref="CpuBackend"/>); the others pass through.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Activate(Vector512<float> v, ActivationOp? activation)
    {
        switch (activation)
        {
            case ActivationOp.Relu: return Vector512.Max(v, Vector512<float>.Zero);
            case ActivationOp.Relu6: return Vector512.Min(Vector512.Max(v, Vector512<float>.Zero), Vector512.Create(6f));
            case ActivationOp.HardSigmoid or ActivationOp.HardSwish:
                var six = Vector512.Create(6f);
                var gate = Vector512.Min(Vector512.Max(v + Vector512.Create(3f), Vector512<float>.Zero), six) / six;
                return activation == ActivationOp.HardSwish ? v * gate : gate;
            default: return v;
        }
    }
}
