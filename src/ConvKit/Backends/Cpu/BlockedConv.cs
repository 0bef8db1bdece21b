using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvKit.Backends.Cpu;

/// <summary>
/// Direct convolution in a blocked channel layout (NCHW8c: eight channels of one position side by side), as ONNX
/// Runtime's CPU convolutions run, for AVX2 machines. im2col copies each input value once per tap (nine times for a
/// 3×3 kernel) and the GEMM then streams that copy from the L2 for every six output channels; here a register tile of
/// six output positions × sixteen output channels reads the input where it lies, one broadcast value a position and
/// input channel, against sixteen weights, summing over a chunk of input channels at a time, so the tile's inputs and
/// the chunk's weights (<see cref="ChunkBlocks"/>) stay in the L1. The input is laid out blocked and zero-bordered
/// once per image (<see cref="Layout.Lay"/>) and the output laid back, with the residual and the clamp, as it is read
/// (<see cref="Unlay"/>): two passes over the data against a ninefold copy.
/// </summary>
/// <remarks>
/// Positions are taken six at a time in row-major order across row ends (each position has its own input pointer), so
/// a 7×7 or 14×14 map loses nothing to ragged rows; only the map's last tile may be short. The weights are kept in
/// the blocked order beside their storage (<see cref="TransposedWeights.InConvBlocks"/>). Sums start from the bias and
/// add the products in order of input channel block, tap and channel: the same for every image of a batch, and
/// different in the last bits from the matrix product's order. A grouped convolution's units read their own group's
/// input blocks; groups of an odd number of output blocks (RegNet's eight channels) take tiles of one block. A 1×1
/// convolution stays a matrix product: it reads each input value once anyway, and laying the input out and back cost
/// more than the direct loop saved (ResNet-50, MobileNetV2, DenseNet-121 and EfficientNet-B0 8–11% slower).
/// </remarks>
static unsafe class BlockedConv
{
    // Channels a block: one Vector256.
    const int Block = 8;
    // Output positions of a register tile (× two blocks of output channels: twelve accumulators of the sixteen registers).
    const int Positions = 6;
    // Input channel blocks summed in registers before the partial sums go back to the output: the chunk's weights for
    // sixteen output channels, 4 × 9 × 8 × 16 floats for a 3×3 kernel, are 18 KB.
    const int ChunkBlocks = 4;
    // Tiles of one work item, whose partial sums (384 positions × 16 channels, 24 KB) stay in the cache from chunk to
    // chunk. Chunks of 2, 4 and 8 blocks and items of 16 to 128 tiles measured within 5% of each other over eleven
    // layers on Zen 3 (one thread); 4 and 64 were as fast as any.
    const int TilesPerItem = 64;

    /// <summary>
    /// Whether a convolution runs here: AVX2 (where the GEMM's tile is 16 wide), a kernel larger than 1×1, whole blocks
    /// of 8 input and output channels in each group, no negative padding, at least one full tile.
    /// </summary>
    public static bool Takes(in ConvGeometry g) =>
        Gemm.BestIsa == GemmIsa.Vector256 && g.KernelArea > 1 && g.InChannelsPerGroup % Block == 0 && g.OutChannelsPerGroup % Block == 0
        && g.PadTop >= 0 && g.PadLeft >= 0 && g.OutPlane >= Positions;

    /// <summary>
    /// Output blocks a register tile computes: two (sixteen channels, twelve accumulators), or one where a group's output
    /// channels are an odd number of blocks (RegNet's groups of eight channels).
    /// </summary>
    public static int UnitWidth(in ConvGeometry g) => g.OutChannelsPerGroup % (2 * Block) == 0 ? 2 : 1;

    /// <summary>
    /// y = activation(conv(x) + bias (+ residual)), the residual laid out as y: the clamps (none, ReLU, ReLU6) are applied
    /// as the output is laid back, other activations as a pass over each image's output afterwards.
    /// </summary>
    public static void Forward(float[] x, float[] blockedWeights, float[]? bias, float[]? residual, float[] y, in ConvGeometry g,
        ActivationOp? activation, float activationParameter)
    {
        var geometry = g;
        var layout = new Layout(g);
        int inBlocks = g.InChannels / Block, outBlocks = g.OutChannels / Block, plane = g.OutPlane, taps = g.KernelArea;
        int width = UnitWidth(g), units = outBlocks / width, unitsPerGroup = g.OutChannelsPerGroup / (width * Block), groupBlocks = g.InChannelsPerGroup / Block;
        int tiles = (plane + Positions - 1) / Positions, runs = (tiles + TilesPerItem - 1) / TilesPerItem;
        int threads = CpuBackend.ThreadsFor(g.MultiplyAdds / g.Batch, units * runs);
        var input = ArrayPool<float>.Shared.Rent(inBlocks * layout.BlockLength + 8);
        var output = ArrayPool<float>.Shared.Rent(outBlocks * plane * Block + 8);
        var tapOffsets = layout.TapOffsets();
        bool clamps = activation is null or ActivationOp.Relu or ActivationOp.Relu6;
        var (low, high) = GemmEpilogue.Bounds(clamps ? activation : null);
        for (int n = 0; n < g.Batch; n++)
        {
            int image = n;
            Threading.For(inBlocks, Math.Min(threads, inBlocks), block => layout.Lay(x.AsSpan((image * geometry.InChannels + block * Block) * geometry.InPlane, Block * geometry.InPlane),
                input.AsSpan(block * layout.BlockLength, layout.BlockLength)));
            Threading.For(units * runs, threads, item =>
            {
                int unit = item / runs, first = item % runs * TilesPerItem, end = Math.Min(tiles, first + TilesPerItem);
                fixed (float* pin = input, pout = output, pw = blockedWeights, pb = bias)
                fixed (int* poff = tapOffsets)
                {
                    // The unit's group's input blocks, its weights, bias and output blocks.
                    float* from = pin + (nint)(unit / unitsPerGroup) * groupBlocks * layout.BlockLength;
                    float* weights = pw + (nint)unit * groupBlocks * taps * Block * width * Block, unitBias = pb == null ? null : pb + unit * width * Block;
                    float* to = pout + (nint)unit * width * plane * Block;
                    if (width == 2) Item<Two>(from, layout, poff, taps, weights, unitBias, to, plane, groupBlocks, first, end);
                    else Item<One>(from, layout, poff, taps, weights, unitBias, to, plane, groupBlocks, first, end);
                }
            });
            int outOffset = image * geometry.OutChannels * plane;
            Threading.For(outBlocks, Math.Min(threads, outBlocks), block =>
                Unlay(output.AsSpan(block * plane * Block, plane * Block), y.AsSpan(outOffset + block * Block * plane, Block * plane),
                    residual == null ? default : residual.AsSpan(outOffset + block * Block * plane, Block * plane), plane, low, high));
            if (!clamps && activation is { } op)
                CpuBackend.Activate(op, activationParameter, y.AsSpan(outOffset, geometry.OutChannels * plane), y.AsSpan(outOffset, geometry.OutChannels * plane));
        }
        ArrayPool<float>.Shared.Return(input);
        ArrayPool<float>.Shared.Return(output);
    }

    /// <summary>
    /// The weights (C_out, C_in/groups, kH, kW) in the order the tiles read them: for each unit of output blocks
    /// (<see cref="UnitWidth"/>), input block of its group, tap and input channel of the block, the unit's output
    /// channels' weights side by side.
    /// </summary>
    public static void LayWeights(ReadOnlySpan<float> w, in ConvGeometry g, Span<float> blocked)
    {
        int inChannels = g.InChannelsPerGroup, groupBlocks = inChannels / Block, taps = g.KernelArea, unit = UnitWidth(g) * Block;
        for (int oc = 0; oc < g.OutChannels; oc++)
            for (int ic = 0; ic < inChannels; ic++)
                for (int t = 0; t < taps; t++)
                    blocked[(((oc / unit * groupBlocks + ic / Block) * taps + t) * Block + ic % Block) * unit + oc % unit] = w[(oc * inChannels + ic) * taps + t];
    }

    /// <summary>One work item: a unit of <typeparamref name="W"/> output blocks over a run of tiles, summed chunk by chunk of input blocks.</summary>
    static void Item<W>(float* input, in Layout layout, int* tapOffsets, int taps, float* weights, float* bias, float* output, int plane,
        int inBlocks, int firstTile, int endTile) where W : struct, ICount
    {
        int* bases = stackalloc int[Positions];
        int* offsets = stackalloc int[ChunkBlocks * taps];
        for (int c0 = 0; c0 < inBlocks; c0 += ChunkBlocks)
        {
            int blocks = Math.Min(ChunkBlocks, inBlocks - c0), depth = blocks * taps;
            for (int b = 0; b < blocks; b++)
                for (int t = 0; t < taps; t++) offsets[b * taps + t] = (c0 + b) * layout.BlockLength + tapOffsets[t];
            float* w = weights + (nint)c0 * taps * Block * W.Count * Block;
            for (int tile = firstTile; tile < endTile; tile++)
            {
                int p0 = tile * Positions, count = Math.Min(Positions, plane - p0);
                for (int p = 0; p < count; p++) bases[p] = layout.InputOffset(p0 + p);
                float* o = output + (nint)p0 * Block;
                switch (count)
                {
                    case 6: Tile<Six, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                    case 5: Tile<Five, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                    case 4: Tile<Four, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                    case 3: Tile<Three, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                    case 2: Tile<Two, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                    default: Tile<One, W>(input, bases, offsets, depth, w, bias, o, plane, c0 == 0); break;
                }
            }
        }
    }

    /// <summary>
    /// <typeparamref name="P"/>.Count positions (their input at input + bases[p]) × <typeparamref name="W"/>.Count output
    /// blocks, summed over <paramref name="depth"/> (input block, tap) pairs of eight channels each, the pair's inputs at
    /// offsets[d] from a position's, its weights 8·W floats an input channel, in order. The first chunk starts from the
    /// bias, later ones from the partial sums in the output; the sums go back to the output, block by block
    /// (<paramref name="plane"/>·8 apart).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile<P, W>(float* input, int* bases, int* offsets, int depth, float* w, float* bias, float* output, int plane, bool first)
        where P : struct, ICount where W : struct, ICount
    {
        float* x0 = input + bases[0];
        float* x1 = P.Count > 1 ? input + bases[1] : x0, x2 = P.Count > 2 ? input + bases[2] : x0;
        float* x3 = P.Count > 3 ? input + bases[3] : x0, x4 = P.Count > 4 ? input + bases[4] : x0, x5 = P.Count > 5 ? input + bases[5] : x0;
        float* second = output + (nint)plane * Block;
        bool two = W.Count > 1;
        Vector256<float> a0, a1, a2, a3, a4, a5, b0, b1, b2, b3, b4, b5;
        if (first)
        {
            // A −0 bias counts as +0, so no sum is −0 and the clamp's native max and min give the IEEE result.
            a0 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias) + Vector256<float>.Zero;
            b0 = bias == null || !two ? Vector256<float>.Zero : Vector256.Load(bias + Block) + Vector256<float>.Zero;
            a1 = a2 = a3 = a4 = a5 = a0;
            b1 = b2 = b3 = b4 = b5 = b0;
        }
        else
        {
            Load<P>(output, out a0, out a1, out a2, out a3, out a4, out a5);
            b0 = b1 = b2 = b3 = b4 = b5 = default;
            if (two) Load<P>(second, out b0, out b1, out b2, out b3, out b4, out b5);
        }
        for (int d = 0; d < depth; d++)
        {
            nint o = offsets[d];
            for (int c = 0; c < Block; c++, o++, w += W.Count * Block)
            {
                // With one block (W) the second is zero and never stored: the JIT drops its load and FMAs.
                var wa = Vector256.Load(w);
                var wb = two ? Vector256.Load(w + 8) : default;
                var v = Vector256.Create(x0[o]);
                a0 = Vector256.FusedMultiplyAdd(v, wa, a0); if (two) b0 = Vector256.FusedMultiplyAdd(v, wb, b0);
                if (P.Count < 2) continue;
                v = Vector256.Create(x1[o]);
                a1 = Vector256.FusedMultiplyAdd(v, wa, a1); if (two) b1 = Vector256.FusedMultiplyAdd(v, wb, b1);
                if (P.Count < 3) continue;
                v = Vector256.Create(x2[o]);
                a2 = Vector256.FusedMultiplyAdd(v, wa, a2); if (two) b2 = Vector256.FusedMultiplyAdd(v, wb, b2);
                if (P.Count < 4) continue;
                v = Vector256.Create(x3[o]);
                a3 = Vector256.FusedMultiplyAdd(v, wa, a3); if (two) b3 = Vector256.FusedMultiplyAdd(v, wb, b3);
                if (P.Count < 5) continue;
                v = Vector256.Create(x4[o]);
                a4 = Vector256.FusedMultiplyAdd(v, wa, a4); if (two) b4 = Vector256.FusedMultiplyAdd(v, wb, b4);
                if (P.Count < 6) continue;
                v = Vector256.Create(x5[o]);
                a5 = Vector256.FusedMultiplyAdd(v, wa, a5); if (two) b5 = Vector256.FusedMultiplyAdd(v, wb, b5);
            }
        }
        Store<P>(output, a0, a1, a2, a3, a4, a5);
        if (two) Store<P>(second, b0, b1, b2, b3, b4, b5);
    }

    /// <summary>The partial sums of a tile's <typeparamref name="P"/>.Count positions in one output block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Load<P>(float* at, out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3,
        out Vector256<float> v4, out Vector256<float> v5) where P : struct, ICount
    {
        v0 = Vector256.Load(at);
        v1 = P.Count > 1 ? Vector256.Load(at + 8) : default;
        v2 = P.Count > 2 ? Vector256.Load(at + 16) : default;
        v3 = P.Count > 3 ? Vector256.Load(at + 24) : default;
        v4 = P.Count > 4 ? Vector256.Load(at + 32) : default;
        v5 = P.Count > 5 ? Vector256.Load(at + 40) : default;
    }

    /// <inheritdoc cref="Load{P}"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store<P>(float* at, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3,
        Vector256<float> v4, Vector256<float> v5) where P : struct, ICount
    {
        v0.Store(at);
        if (P.Count > 1) v1.Store(at + 8);
        if (P.Count > 2) v2.Store(at + 16);
        if (P.Count > 3) v3.Store(at + 24);
        if (P.Count > 4) v4.Store(at + 32);
        if (P.Count > 5) v5.Store(at + 40);
    }

    /// <summary>
    /// One output block laid back: y[c, p] = clamp(blocked[p, c] (+ residual[c, p])) for the block's eight channels,
    /// eight positions at a time through an 8 × 8 transpose (with AVX; the rest value by value).
    /// </summary>
    static void Unlay(ReadOnlySpan<float> blocked, Span<float> y, ReadOnlySpan<float> residual, int plane, float low, float high)
    {
        Span<float> square = stackalloc float[Block * Block];
        var (lo, hi) = (Vector256.Create(low), Vector256.Create(high));
        bool adds = !residual.IsEmpty;
        int p = 0;
        for (; Avx.IsSupported && p + Block <= plane; p += Block)
        {
            BlockTranspose.Block8x8(ref Unsafe.AsRef(in blocked[p * Block]), Block, ref square[0], Block);
            for (int c = 0; c < Block; c++)
            {
                var v = Vector256.Create((ReadOnlySpan<float>)square.Slice(c * Block, Block));
                if (adds) v += Vector256.Create(residual.Slice(c * plane + p, Block));
                GemmEpilogue.Clamp(v, lo, hi).CopyTo(y.Slice(c * plane + p, Block));
            }
        }
        for (; p < plane; p++)
            for (int c = 0; c < Block; c++)
            {
                float v = blocked[p * Block + c] + (adds ? residual[c * plane + p] : 0f);
                y[c * plane + p] = Math.Min(high, Math.Max(low, v));
            }
    }

    /// <summary>
    /// Where the blocked, zero-bordered input of one image lies: each block of eight channels is a padded plane of
    /// Height × Width positions (the rows and columns the kernel reaches, input position (r, c) at (r + pad top, c + pad
    /// left)), eight values a position.
    /// </summary>
    readonly struct Layout
    {
        readonly ConvGeometry g;
        readonly int height, width;
        public readonly int BlockLength;

        public Layout(in ConvGeometry geometry)
        {
            g = geometry;
            height = (g.OutHeight - 1) * g.StrideHeight + (g.KernelHeight - 1) * g.DilationHeight + 1;
            width = (g.OutWidth - 1) * g.StrideWidth + (g.KernelWidth - 1) * g.DilationWidth + 1;
            BlockLength = height * width * Block;
        }

        /// <summary>Where output position p's window starts in a block, in floats.</summary>
        public int InputOffset(int p) => (p / g.OutWidth * g.StrideHeight * width + p % g.OutWidth * g.StrideWidth) * Block;

        /// <summary>Each tap's offset from its window's start, in floats.</summary>
        public int[] TapOffsets()
        {
            var offsets = new int[g.KernelArea];
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    offsets[i * g.KernelWidth + j] = (i * g.DilationHeight * width + j * g.DilationWidth) * Block;
            return offsets;
        }

        /// <summary>Lays eight channel planes of the input (8 × H × W) out as one block, zeros where the kernel reads padding.</summary>
        public void Lay(ReadOnlySpan<float> channels, Span<float> block)
        {
            int rows = Math.Min(g.InHeight, height - g.PadTop), columns = Math.Min(g.InWidth, width - g.PadLeft), plane = g.InPlane;
            if (rows <= 0 || columns <= 0)
            {
                block.Clear();
                return;
            }
            block[..(g.PadTop * width * Block)].Clear();
            block[((g.PadTop + rows) * width * Block)..].Clear();
            for (int r = 0; r < rows; r++)
            {
                var row = block.Slice((r + g.PadTop) * width * Block, width * Block);
                row[..(g.PadLeft * Block)].Clear();
                row[((g.PadLeft + columns) * Block)..].Clear();
                // The eight channels' runs of this row (8 × columns, a channel plane apart) become columns × 8.
                BlockTranspose.Run(channels[(r * g.InWidth)..], plane, Block, columns, row[(g.PadLeft * Block)..], Block);
            }
        }
    }
}
