using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// What a window op does at one output position of a block of sixteen channels: start from a value, take in the
/// window's taps one by one with the tap's own vector (a depthwise filter's sixteen weights)
/// (<see cref="ChannelBlocks.Run"/> compiles one loop per op). The <c>256</c> members do the same for half 0 or 1 of
/// the block, eight channels, on machines without AVX-512. They must inline: a call after the loop (the activation's,
/// once) made the JIT store every sum to the stack at every tap, and a 3×3 layer of 384 channels at 14×14 took 255 µs
/// instead of 138 on one thread (Zen 3).
/// </summary>
interface IWindowOp
{
    Vector512<float> Start { get; }
    Vector512<float> Tap(int tap);
    Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap);
    Vector256<float> Start256(int half);
    Vector256<float> Tap256(int tap, int half);
    Vector256<float> Take256(Vector256<float> sum, Vector256<float> value, Vector256<float> tap);
}

/// <summary>
/// Window ops that treat each channel on its own (depthwise convolution, max and average pooling) on blocks of sixteen channels laid
/// out channels-last, the layout ONNX Runtime runs these layers in: the block's planes are transposed into a bordered
/// (row, column, 16 channels) buffer, so one Vector512 holds the sixteen channels' values at one position and every tap
/// of every output is one vector operation, whatever the stride, the dilation or the width of a row; four outputs at
/// once keep four independent chains in flight. The results are transposed back into the output planes. On a plane,
/// rows of 7, 14 or 28 values fill vectors only partly, stride 2 splits each row into phases, and each row is a loop
/// of its own: in MobileNetV2 and GoogLeNet at batch 1 on Zen 5 the plane paths took 2–5× ONNX Runtime's time for
/// these layers.
/// </summary>
readonly unsafe struct ChannelBlocks
{
    public const int Lanes = 16;
    readonly int inHeight, inWidth, outHeight, outWidth, kernelHeight, kernelWidth, strideHeight, strideWidth, padTop, padLeft, dilationHeight, dilationWidth;
    // The bordered buffer's rows and columns: padded position (r, c) holds input (r − padTop, c − padLeft), or the border value.
    readonly int height, width;

    public ChannelBlocks(int inHeight, int inWidth, int outHeight, int outWidth, int kernelHeight, int kernelWidth,
        int strideHeight, int strideWidth, int padTop, int padLeft, int dilationHeight, int dilationWidth)
    {
        (this.inHeight, this.inWidth, this.outHeight, this.outWidth) = (inHeight, inWidth, outHeight, outWidth);
        (this.kernelHeight, this.kernelWidth, this.strideHeight, this.strideWidth) = (kernelHeight, kernelWidth, strideHeight, strideWidth);
        (this.padTop, this.padLeft, this.dilationHeight, this.dilationWidth) = (padTop, padLeft, dilationHeight, dilationWidth);
        height = Math.Max(padTop + inHeight, (outHeight - 1) * strideHeight + (kernelHeight - 1) * dilationHeight + 1);
        width = Math.Max(padLeft + inWidth, (outWidth - 1) * strideWidth + (kernelWidth - 1) * dilationWidth + 1);
    }

    public ChannelBlocks(in ConvGeometry g) : this(g.InHeight, g.InWidth, g.OutHeight, g.OutWidth, g.KernelHeight, g.KernelWidth,
        g.StrideHeight, g.StrideWidth, g.PadTop, g.PadLeft, g.DilationHeight, g.DilationWidth) { }

    public ChannelBlocks(in Pool2dGeometry g) : this(g.InputHeight, g.InputWidth, g.OutputHeight, g.OutputWidth, g.Kernel.Height, g.Kernel.Width,
        g.Stride.Height, g.Stride.Width, g.Padding.Height, g.Padding.Width, g.Dilation.Height, g.Dilation.Width) { }

    int InPlane => inHeight * inWidth;
    int OutPlane => outHeight * outWidth;
    int KernelArea => kernelHeight * kernelWidth;

    /// <summary>
    /// Runs the op over <paramref name="images"/> × <paramref name="channels"/> input planes, each image's channels in
    /// blocks of sixteen, borders holding <paramref name="border"/>. <paramref name="opFor"/> makes the op of the block
    /// whose first channel it is given. Each result gets <paramref name="activation"/> in registers: none, ReLU or
    /// ReLU6 as a clamp (<see cref="GemmEpilogue.Clamp(Vector256{float}, Vector256{float}, Vector256{float})"/>: the
    /// op's results must never be −0 there), HardSwish or SiLU with the arithmetic of CpuBackend's passes, so to the
    /// bit what they give; <paramref name="finishPlane"/>, if any, then finishes the outputs each block wrote of each of
    /// its planes, given with the plane position of the first. A lone block is split into bands of output rows, so
    /// every core works.
    /// </summary>
    public void Run<TOp>(float[] x, float[] y, int images, int channels, float border, long work, Func<int, TOp> opFor,
        Action<Span<float>, int>? finishPlane = null, ActivationOp? activation = null)
        where TOp : struct, IWindowOp
    {
        if (!InRegisters(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "ChannelBlocks: not an activation it applies in registers.");
        var (low, high) = GemmEpilogue.Bounds(activation is ActivationOp.HardSwish or ActivationOp.Silu ? null : activation);
        var finish = activation switch { ActivationOp.HardSwish => Finish.HardSwish, ActivationOp.Silu => Finish.Silu, _ => Finish.Clamp };
        var layout = this;
        int perImage = (channels + Lanes - 1) / Lanes, blocks = images * perImage;
        int bands = Math.Clamp(Threading.NumThreads / blocks, 1, outHeight), items = blocks * bands;
        int parts = CpuBackend.ThreadsFor(work, items);
        void Part(int part)
        {
            var input = ArrayPool<float>.Shared.Rent(layout.height * layout.width * Lanes);
            var output = ArrayPool<float>.Shared.Rent(layout.OutPlane * Lanes);
            var scratch = ArrayPool<float>.Shared.Rent(layout.InPlane * Lanes);
            // The borders keep their value: every block writes the same interior positions.
            input.AsSpan(0, layout.height * layout.width * Lanes).Fill(border);
            for (int item = part * items / parts; item < (part + 1) * items / parts; item++)
            {
                int block = item / bands, band = item % bands, image = block / perImage;
                int first = block % perImage * Lanes, count = Math.Min(Lanes, channels - first), plane = image * channels + first;
                int firstRow = band * layout.outHeight / bands, endRow = (band + 1) * layout.outHeight / bands;
                layout.Gather(x.AsSpan(plane * layout.InPlane), count, firstRow, endRow, input, scratch);
                var op = opFor(first);
                fixed (float* pi = input, po = output)
                    if (Vector512.IsHardwareAccelerated) layout.Apply(pi, po, firstRow, endRow, op, low, high, finish);
                    else layout.ApplyHalves(pi, po, firstRow, endRow, op, low, high, finish);
                int start = firstRow * layout.outWidth, positions = (endRow - firstRow) * layout.outWidth;
                var outputs = y.AsSpan(plane * layout.OutPlane);
                BlockTranspose.Run(output.AsSpan(start * Lanes), Lanes, positions, count, outputs[start..], layout.OutPlane);
                if (finishPlane != null)
                    for (int c = 0; c < count; c++) finishPlane(outputs.Slice(c * layout.OutPlane + start, positions), start);
            }
            ArrayPool<float>.Shared.Return(input);
            ArrayPool<float>.Shared.Return(output);
            ArrayPool<float>.Shared.Return(scratch);
        }
        if (parts == 1) Part(0);
        else Threading.For(parts, parts, Part);
    }

    /// <summary>
    /// Transposes the input rows that output rows [firstRow, endRow) read, of <paramref name="count"/> planes, into
    /// the buffer: straight into place a row at a time where rows are whole 8×8 blocks of the transpose or long enough
    /// for their ragged end not to matter, else all at once into <paramref name="scratch"/> and then copied into place
    /// (rows of 7, 14 or 28 values transposed one by one spent most of their time in the transpose's scalar edges;
    /// a 111×111 plane's rows through the scratch took 15% longer, on Zen 3, as it outgrew the L2 on the way).
    /// </summary>
    void Gather(ReadOnlySpan<float> planes, int count, int firstRow, int endRow, float[] buffer, float[] scratch)
    {
        int top = Math.Max(0, firstRow * strideHeight - padTop);
        int bottom = Math.Min(inHeight, (endRow - 1) * strideHeight + (kernelHeight - 1) * dilationHeight + 1 - padTop);
        if (bottom <= top) return;
        if (inWidth % 8 == 0 || inWidth >= 32)
        {
            for (int ih = top; ih < bottom; ih++)
                BlockTranspose.Run(planes[(ih * inWidth)..], InPlane, count, inWidth, buffer.AsSpan(((ih + padTop) * width + padLeft) * Lanes), Lanes);
            return;
        }
        BlockTranspose.Run(planes[(top * inWidth)..], InPlane, count, (bottom - top) * inWidth, scratch, Lanes);
        for (int ih = top; ih < bottom; ih++)
            scratch.AsSpan((ih - top) * inWidth * Lanes, inWidth * Lanes).CopyTo(buffer.AsSpan(((ih + padTop) * width + padLeft) * Lanes));
    }

    /// <summary>The op's results for output rows [firstRow, endRow), finished, at (position · 16) in <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Apply<TOp>(float* input, float* output, int firstRow, int endRow, TOp op, float low, float high, Finish finish) where TOp : struct, IWindowOp
    {
        int area = KernelArea, p = firstRow * outWidth, end = endRow * outWidth;
        int* offsets = stackalloc int[area];
        TapOffsets(offsets);
        var positions = new Positions(this, input, firstRow);
        Vector512<float> start = op.Start, floor = Vector512.Create(low), ceiling = Vector512.Create(high);
        for (; p + 4 <= end; p += 4)
        {
            float* q0 = positions.Next(), q1 = positions.Next(), q2 = positions.Next(), q3 = positions.Next();
            Vector512<float> s0 = start, s1 = s0, s2 = s0, s3 = s0;
            for (int t = 0; t < area; t++)
            {
                int o = offsets[t];
                var tap = op.Tap(t);
                s0 = op.Take(s0, Vector512.Load(q0 + o), tap);
                s1 = op.Take(s1, Vector512.Load(q1 + o), tap);
                s2 = op.Take(s2, Vector512.Load(q2 + o), tap);
                s3 = op.Take(s3, Vector512.Load(q3 + o), tap);
            }
            float* target = output + (nint)p * Lanes;
            Vector512.Store(Finished(s0, floor, ceiling, finish), target);
            Vector512.Store(Finished(s1, floor, ceiling, finish), target + Lanes);
            Vector512.Store(Finished(s2, floor, ceiling, finish), target + 2 * Lanes);
            Vector512.Store(Finished(s3, floor, ceiling, finish), target + 3 * Lanes);
        }
        for (; p < end; p++)
        {
            float* q = positions.Next();
            var s = start;
            for (int t = 0; t < area; t++) s = op.Take(s, Vector512.Load(q + offsets[t]), op.Tap(t));
            Vector512.Store(Finished(s, floor, ceiling, finish), output + (nint)p * Lanes);
        }
    }

    /// <summary>The output positions from a row on, in reading order: each one's window's first tap in the buffer.</summary>
    struct Positions(in ChannelBlocks layout, float* input, int row)
    {
        readonly int rowStep = layout.strideHeight * layout.width * Lanes, columnStep = layout.strideWidth * Lanes, columns = layout.outWidth;
        int oh = row, ow;

        public float* Next()
        {
            float* at = input + oh * rowStep + ow * columnStep;
            if (++ow == columns) (ow, oh) = (0, oh + 1);
            return at;
        }
    }

    /// <summary>Each tap's place in the buffer from its window's first.</summary>
    void TapOffsets(int* offsets)
    {
        for (int i = 0; i < kernelHeight; i++)
            for (int j = 0; j < kernelWidth; j++)
                offsets[i * kernelWidth + j] = (i * dilationHeight * width + j * dilationWidth) * Lanes;
    }

    /// <summary>
    /// <see cref="Apply"/> without AVX-512, where .NET carries a Vector512 as two Vector256 halves: the block's halves
    /// as separate Vector256 chains, eight in flight, each multiply-add reading its value straight from memory (on Zen 3
    /// 0–12% faster than the Vector512 loop with 3×3 filters, up to 25% with 5×5 and 7×7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ApplyHalves<TOp>(float* input, float* output, int firstRow, int endRow, TOp op, float low, float high, Finish finish) where TOp : struct, IWindowOp
    {
        const int Half = Lanes / 2;
        int area = KernelArea, p = firstRow * outWidth, end = endRow * outWidth;
        int* offsets = stackalloc int[area];
        TapOffsets(offsets);
        var positions = new Positions(this, input, firstRow);
        Vector256<float> startLow = op.Start256(0), startHigh = op.Start256(1), floor = Vector256.Create(low), ceiling = Vector256.Create(high);
        for (; p + 4 <= end; p += 4)
        {
            float* q0 = positions.Next(), q1 = positions.Next(), q2 = positions.Next(), q3 = positions.Next();
            Vector256<float> a0 = startLow, a1 = a0, a2 = a0, a3 = a0, b0 = startHigh, b1 = b0, b2 = b0, b3 = b0;
            for (int t = 0; t < area; t++)
            {
                int o = offsets[t];
                Vector256<float> tapLow = op.Tap256(t, 0), tapHigh = op.Tap256(t, 1);
                a0 = op.Take256(a0, Vector256.Load(q0 + o), tapLow);
                b0 = op.Take256(b0, Vector256.Load(q0 + o + Half), tapHigh);
                a1 = op.Take256(a1, Vector256.Load(q1 + o), tapLow);
                b1 = op.Take256(b1, Vector256.Load(q1 + o + Half), tapHigh);
                a2 = op.Take256(a2, Vector256.Load(q2 + o), tapLow);
                b2 = op.Take256(b2, Vector256.Load(q2 + o + Half), tapHigh);
                a3 = op.Take256(a3, Vector256.Load(q3 + o), tapLow);
                b3 = op.Take256(b3, Vector256.Load(q3 + o + Half), tapHigh);
            }
            float* target = output + (nint)p * Lanes;
            Vector256.Store(Finished(a0, floor, ceiling, finish), target);
            Vector256.Store(Finished(b0, floor, ceiling, finish), target + Half);
            Vector256.Store(Finished(a1, floor, ceiling, finish), target + Lanes);
            Vector256.Store(Finished(b1, floor, ceiling, finish), target + Lanes + Half);
            Vector256.Store(Finished(a2, floor, ceiling, finish), target + 2 * Lanes);
            Vector256.Store(Finished(b2, floor, ceiling, finish), target + 2 * Lanes + Half);
            Vector256.Store(Finished(a3, floor, ceiling, finish), target + 3 * Lanes);
            Vector256.Store(Finished(b3, floor, ceiling, finish), target + 3 * Lanes + Half);
        }
        for (; p < end; p++)
        {
            float* q = positions.Next();
            Vector256<float> a = startLow, b = startHigh;
            for (int t = 0; t < area; t++)
            {
                a = op.Take256(a, Vector256.Load(q + offsets[t]), op.Tap256(t, 0));
                b = op.Take256(b, Vector256.Load(q + offsets[t] + Half), op.Tap256(t, 1));
            }
            Vector256.Store(Finished(a, floor, ceiling, finish), output + (nint)p * Lanes);
            Vector256.Store(Finished(b, floor, ceiling, finish), output + (nint)p * Lanes + Half);
        }
    }

    /// <summary>Whether <see cref="Run"/> applies this activation in registers.</summary>
    public static bool InRegisters(ActivationOp? activation) =>
        activation is null or ActivationOp.Relu or ActivationOp.Relu6 or ActivationOp.HardSwish or ActivationOp.Silu;

    enum Finish { Clamp, HardSwish, Silu }

    // A result's activation: inlined into each store, so no call after the loop makes the JIT keep the sums on the stack.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Finished(Vector256<float> v, Vector256<float> floor, Vector256<float> ceiling, Finish finish)
    {
        if (finish == Finish.Clamp) return GemmEpilogue.Clamp(v, floor, ceiling);
        return finish == Finish.Silu ? CpuBackend.Silu(v) : v * CpuBackend.HardSigmoid(v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Finished(Vector512<float> v, Vector512<float> floor, Vector512<float> ceiling, Finish finish)
    {
        if (finish == Finish.Clamp) return GemmEpilogue.Clamp(v, floor, ceiling);
        return finish == Finish.Silu ? CpuBackend.Silu(v) : v * CpuBackend.HardSigmoid(v);
    }
}
