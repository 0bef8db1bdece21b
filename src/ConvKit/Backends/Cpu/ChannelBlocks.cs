using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// What a window op does at one output position of a block of sixteen channels: start from a value, take in the
/// window's taps one by one with the tap's own vector (a depthwise filter's sixteen weights), finish
/// (<see cref="ChannelBlocks.Run"/> compiles one loop per op).
/// </summary>
interface IWindowOp
{
    Vector512<float> Start { get; }
    Vector512<float> Tap(int tap);
    Vector512<float> Take(Vector512<float> sum, Vector512<float> value, Vector512<float> tap);
    Vector512<float> Finish(Vector512<float> sum);
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
    /// whose first channel it is given; <paramref name="finishPlane"/>, if any, finishes the outputs each block wrote
    /// of each of its planes, given with the plane position of the first. A lone block is split into bands of output
    /// rows, so every core works.
    /// </summary>
    public void Run<TOp>(float[] x, float[] y, int images, int channels, float border, long work, Func<int, TOp> opFor,
        Action<Span<float>, int>? finishPlane = null) where TOp : struct, IWindowOp
    {
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
                fixed (float* pi = input, po = output) layout.Apply(pi, po, firstRow, endRow, op);
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
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Part);
    }

    /// <summary>
    /// Transposes the input rows that output rows [firstRow, endRow) read, of <paramref name="count"/> planes, into
    /// the buffer: straight into place a row at a time where rows are whole 8×8 blocks of the transpose, else all
    /// at once into <paramref name="scratch"/> and then copied into place (rows of 7, 14 or 28 values transposed one
    /// by one spent most of their time in the transpose's scalar edges).
    /// </summary>
    void Gather(ReadOnlySpan<float> planes, int count, int firstRow, int endRow, float[] buffer, float[] scratch)
    {
        int top = Math.Max(0, firstRow * strideHeight - padTop);
        int bottom = Math.Min(inHeight, (endRow - 1) * strideHeight + (kernelHeight - 1) * dilationHeight + 1 - padTop);
        if (bottom <= top) return;
        if (inWidth % 8 == 0)
        {
            for (int ih = top; ih < bottom; ih++)
                BlockTranspose.Run(planes[(ih * inWidth)..], InPlane, count, inWidth, buffer.AsSpan(((ih + padTop) * width + padLeft) * Lanes), Lanes);
            return;
        }
        BlockTranspose.Run(planes[(top * inWidth)..], InPlane, count, (bottom - top) * inWidth, scratch, Lanes);
        for (int ih = top; ih < bottom; ih++)
            scratch.AsSpan((ih - top) * inWidth * Lanes, inWidth * Lanes).CopyTo(buffer.AsSpan(((ih + padTop) * width + padLeft) * Lanes));
    }

    /// <summary>The op's results for output rows [firstRow, endRow), at (position · 16) in <paramref name="output"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Apply<TOp>(float* input, float* output, int firstRow, int endRow, TOp op) where TOp : struct, IWindowOp
    {
        int area = KernelArea;
        int* offsets = stackalloc int[area];
        for (int i = 0; i < kernelHeight; i++)
            for (int j = 0; j < kernelWidth; j++)
                offsets[i * kernelWidth + j] = (i * dilationHeight * width + j * dilationWidth) * Lanes;
        int rowStep = strideHeight * width * Lanes, columnStep = strideWidth * Lanes, columns = outWidth;
        // Positions in reading order; each one's first tap in the buffer.
        int p = firstRow * columns, end = endRow * columns, oh = firstRow, ow = 0;
        float* Next()
        {
            float* at = input + oh * rowStep + ow * columnStep;
            if (++ow == columns) (ow, oh) = (0, oh + 1);
            return at;
        }
        for (; p + 4 <= end; p += 4)
        {
            float* q0 = Next(), q1 = Next(), q2 = Next(), q3 = Next();
            Vector512<float> s0 = op.Start, s1 = s0, s2 = s0, s3 = s0;
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
            Vector512.Store(op.Finish(s0), target);
            Vector512.Store(op.Finish(s1), target + Lanes);
            Vector512.Store(op.Finish(s2), target + 2 * Lanes);
            Vector512.Store(op.Finish(s3), target + 3 * Lanes);
        }
        for (; p < end; p++)
        {
            float* q = Next();
            var s = op.Start;
            for (int t = 0; t < area; t++) s = op.Take(s, Vector512.Load(q + offsets[t]), op.Tap(t));
            Vector512.Store(op.Finish(s), output + (nint)p * Lanes);
        }
    }
}
