using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ConvKit.Backends.Cpu;

// Convolution as matrix products (Gemm.Sgemm). For image n and group g, with P = H_out·W_out output positions
// and the im2col matrix X_col (ColumnRows × P):
//   forward          Y[n,g]  (C_out/g × P)          = W[g] (C_out/g × ColumnRows) · X_col
//   data gradient    dX_col  (ColumnRows × P)       = W[g]ᵀ · dY[n,g], then col2im adds it into dX[n,g]
//   weight gradient  dW[g]   (C_out/g × ColumnRows) += dY[n,g] · X_colᵀ, summed over n
// P is cut into tiles (see Tiling), and the tiles of all images are the units of parallel work, each with a
// single-threaded GEMM: batch-parallel for a batch, tile-parallel for a lone image. On two cores this beat
// one multi-threaded GEMM per tile, whose fork/join per call and split packing cost more than it shared.
// A pointwise convolution (1×1, stride 1, no padding) skips im2col: X[n,g] is X_col. On AVX2 machines larger kernels
// with whole blocks of channels run as direct convolutions in a blocked channel layout instead (BlockedConv).
// Depthwise convolutions and their gradients run as direct loops (DepthwiseConv; small planes channels-last,
// ChannelsLastDepthwise).
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        if (geometry.IsDepthwise)
        {
            if (ChannelsLastDepthwise.Takes(geometry))
                ChannelsLastDepthwise.Forward(Data(input), ChannelsLastDepthwise.Taps(weight, Data(weight), geometry), bias == null ? null : Data(bias), Data(output), geometry,
                    activation, activationParameter);
            else DepthwiseConv.Forward(Data(input), Data(weight), bias == null ? null : Data(bias), Data(output), geometry,
                activation: activation, activationParameter: activationParameter);
            return;
        }
        float[] x = Data(input), w = Data(weight), y = Data(output);
        float[]? b = bias == null ? null : Data(bias);
        var g = geometry;
        if (BlockedConv.Takes(g))
        {
            BlockedConv.Forward(x, TransposedWeights.InConvBlocks(weight, w, g), b, null, y, g, activation, activationParameter);
            return;
        }
        if (Turns(g))
        {
            ConvForwardTurned(x, TransposedWeights.Of(weight, w, g.OutChannels, g.ColumnRows), b, y, g, activation, activationParameter);
            return;
        }
        ConvForwardGemm(x, w, b, null, y, g, activation, activationParameter);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The matrix-product path adds the residual as the GEMM stores each register tile, after the bias and before the
    /// activation (<see cref="GemmEpilogue"/>), and the blocked direct convolution as it lays its output back
    /// (<see cref="BlockedConv"/>), so a ResNet block's Add and ReLU cost no passes of their own; depthwise and turned
    /// convolutions run the three ops.
    /// </remarks>
    public void ConvForwardAdd(Storage input, Storage weight, Storage? bias, Storage residual, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        if (geometry.IsDepthwise || Turns(geometry))
        {
            IBackend.ConvThenAdd(this, input, weight, bias, residual, output, geometry, activation, activationParameter);
            return;
        }
        if (BlockedConv.Takes(geometry))
        {
            BlockedConv.Forward(Data(input), TransposedWeights.InConvBlocks(weight, Data(weight), geometry),
                bias == null ? null : Data(bias), Data(residual), Data(output), geometry, activation, activationParameter);
            return;
        }
        ConvForwardGemm(Data(input), Data(weight), bias == null ? null : Data(bias), Data(residual), Data(output), geometry, activation, activationParameter);
    }

    /// <summary>The convolution as GEMMs over tiles of output positions, each finished by the GEMM's epilogue.</summary>
    void ConvForwardGemm(float[] x, float[] w, float[]? b, float[]? r, float[] y, ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        var tiling = new Tiling(g);
        ForEachWorkItem(tiling.Items, g.MultiplyAdds, tiling.BufferLength, (item, columns, gemmThreads) =>
        {
            var (n, group, first, count) = tiling.Item(item);
            int coutG = g.OutChannelsPerGroup, outOffset = (n * g.OutChannels + group * coutG) * g.OutPlane + first;
            var source = tiling.Columns(x, n, group, first, count, columns, out int ld);
            // The GEMM adds the bias (and the residual) and applies the activation as it stores each register tile.
            Cpu.Gemm.Sgemm(false, false, coutG, count, g.ColumnRows, 1f,
                w.AsSpan(group * coutG * g.ColumnRows), g.ColumnRows, source, ld, 0f, y.AsSpan(outOffset), g.OutPlane, gemmThreads,
                b == null ? default : b.AsSpan(group * coutG, coutG), activation, activationParameter, r == null ? default : r.AsSpan(outOffset));
        });
    }

    /// <summary>
    /// One image with a small output plane (the 7×7 stage of an ImageNet network at batch 1, and the 1×1 convolutions
    /// of the 14×14 stage), with the product turned around: Yᵀ (positions × C_out) = X_colᵀ · Wᵀ. The GEMM's 64-wide
    /// register tiles then run along the output channels instead of 49 positions, which fill them only 77% of the
    /// way, and the two cores split the channels rather than a handful of position tiles; Yᵀ is transposed back at
    /// the end. Measured in ResNet-50 at batch 1 on Zen 5, once the GEMM had narrow kernels for ragged panels: 5–15%
    /// faster at 7×7 and for 1×1 at 14×14, 15–25% slower for 3×3 at 14×14, slower from 28×28 up. The weights come
    /// transposed (<paramref name="weightT"/>, ColumnRows × C_out; see <see cref="TransposedWeights"/>), so the GEMM
    /// reads them in place. Only for the 64-wide tiles (<see cref="TurnsSmallPlanes"/>).
    /// </summary>
    /// <remarks>
    /// The 16-wide AVX2 tile is filled as well by positions as by channels, and there the turned product lost: on Zen 3
    /// its 49 or 196 rows of transposed columns against in-place weights ran at 33–57 GFLOP/s where the plain product
    /// ran at 50–87 (ResNet-50's 7×7 and 14×14 stages, two threads: 56 → 38 ms; the model 9% faster).
    /// </remarks>
    internal static void ConvForwardTurned(float[] x, float[] weightT, float[]? b, float[] y, in ConvGeometry g, ActivationOp? activation, float activationParameter)
    {
        int positions = g.OutPlane, rows = g.ColumnRows, threads = Threading.NumThreads;
        var columns = g.IsPointwise ? x : ArrayPool<float>.Shared.Rent(rows * positions);
        if (!g.IsPointwise)
        {
            // Each thread gathers the column rows of a share of the input channels.
            var geometry = g;
            Threading.For(threads, threads, t =>
            {
                int c0 = t * geometry.InChannels / threads, c1 = (t + 1) * geometry.InChannels / threads, area = geometry.KernelArea;
                Im2Col.Gather(x.AsSpan(c0 * geometry.InPlane, (c1 - c0) * geometry.InPlane), geometry with { InChannels = c1 - c0 },
                    0, positions, columns.AsSpan(c0 * area * positions, (c1 - c0) * area * positions));
            });
        }
        var turned = ArrayPool<float>.Shared.Rent(positions * g.OutChannels);
        Cpu.Gemm.Sgemm(true, false, positions, g.OutChannels, rows, 1f, columns, positions, weightT, g.OutChannels, 0f, turned, g.OutChannels, threads);
        BlockTranspose.Run(turned, g.OutChannels, positions, g.OutChannels, y, positions);
        Epilogue(y, positions, g.OutChannels, positions, b, activation, activationParameter);
        ArrayPool<float>.Shared.Return(turned);
        if (!g.IsPointwise) ArrayPool<float>.Shared.Return(columns);
    }

    /// <summary>Whether lone images' small planes take <see cref="ConvForwardTurned"/>: with the Vector512 GEMM only.</summary>
    static readonly bool TurnsSmallPlanes = Cpu.Gemm.BestIsa == GemmIsa.Vector512;

    /// <summary>Whether the convolution runs turned (<see cref="ConvForwardTurned"/>).</summary>
    static bool Turns(in ConvGeometry g) =>
        TurnsSmallPlanes && g.Batch == 1 && g.Groups == 1 && (g.OutPlane < 64 || g.IsPointwise && g.OutPlane < 256) && g.OutChannels >= 64 && g.MultiplyAdds >= SerialBelow;

    /// <summary>
    /// Adds the bias (one value per row) and applies the activation to a rows × count block of output with row stride ld;
    /// with a residual (laid out as the output), adds it after the bias, before the activation.
    /// </summary>
    /// <remarks>
    /// The bias with ReLU, ReLU6 or no activation is one clamped pass over each row: as two passes (add, then
    /// activate) it cost a quarter of the time of a 1×1 convolution with 16 input channels, whose GEMM does only 16
    /// multiply-adds per output.
    /// </remarks>
    internal static void Epilogue(Span<float> output, int ld, int rows, int count, ReadOnlySpan<float> bias, ActivationOp? activation, float activationParameter,
        ReadOnlySpan<float> residual = default)
    {
        if (!residual.IsEmpty)
        {
            // (sum + bias) + residual, then the activation: the separate Conv, Add and activation's values.
            for (int o = 0; o < rows; o++)
            {
                var row = output.Slice(o * ld, count);
                if (!bias.IsEmpty) TensorPrimitives.Add(row, bias[o] + 0f, row);
                TensorPrimitives.Add(row, residual.Slice(o * ld, count), row);
                if (activation is { } op) Activate(op, activationParameter, row, row);
            }
            return;
        }
        if (bias.IsEmpty && activation == null) return;
        bool clamps = activation is null or ActivationOp.Relu or ActivationOp.Relu6;
        bool hard = activation is ActivationOp.HardSigmoid or ActivationOp.HardSwish;
        var (low, high) = GemmEpilogue.Bounds(activation);
        for (int o = 0; o < rows; o++)
        {
            var row = output.Slice(o * ld, count);
            float shift = (bias.IsEmpty ? 0f : bias[o]) + 0f; // a −0 bias counts as +0, as in the kernels (GemmEpilogue.Clamp(int))
            if (clamps) AddAndClamp(row, shift, low, high);
            else if (hard) AddAndHardSigmoid(row, shift, activation == ActivationOp.HardSwish);
            else
            {
                if (!bias.IsEmpty) TensorPrimitives.Add(row, shift, row);
                if (activation is { } op) Activate(op, activationParameter, row, row);
            }
        }
    }

    /// <summary>
    /// row = min(max(row + shift, low), high), NaN kept (as TensorPrimitives' Max and Min), as the GEMM's kernels store
    /// it (<see cref="GemmEpilogue.Clamp(int)"/>: the shift is never −0, so the native max and min are the IEEE ones).
    /// </summary>
    static void AddAndClamp(Span<float> row, float shift, float low, float high)
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        var (s, lo, hi) = (Vector256.Create(shift), Vector256.Create(low), Vector256.Create(high));
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            GemmEpilogue.Clamp(Vector256.LoadUnsafe(ref r, (nuint)i) + s, lo, hi).StoreUnsafe(ref r, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref r, i) = MathF.Min(MathF.Max(Unsafe.Add(ref r, i) + shift, low), high);
    }

    /// <summary>
    /// row = the HardSigmoid (or, <paramref name="timesInput"/>, the HardSwish) of row + shift in one pass, with
    /// <see cref="HardSigmoid(Vector256{float})"/>'s arithmetic: as two passes, a call each per row of 49 or 196 values, the epilogue of a
    /// MobileNetV3 convolution cost a seventh of its GEMM.
    /// </summary>
    static void AddAndHardSigmoid(Span<float> row, float shift, bool timesInput)
    {
        ref float r = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        var s = Vector256.Create(shift);
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i) + s;
            var gate = HardSigmoid(v);
            (timesInput ? v * gate : gate).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref r, i) + shift, gate = MathF.Min(MathF.Max(v + 3f, 0f), 6f) / 6f;
            Unsafe.Add(ref r, i) = timesInput ? v * gate : gate;
        }
    }

    /// <inheritdoc/>
    public void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry)
    {
        float[] dy = Data(outputGrad), w = Data(weight), dx = Data(inputGrad);
        float[]? b = bias == null ? null : Data(bias);
        if (geometry.IsDepthwise && DepthwiseConv.BackwardData(dy, w, b, dx, geometry)) return;
        ConvBackwardDataGemm(dy, w, b, dx, geometry);
    }

    /// <summary>The data gradient as GEMMs and col2im, for any convolution.</summary>
    internal static void ConvBackwardDataGemm(float[] dy, float[] w, float[]? b, float[] dx, in ConvGeometry geometry)
    {
        var g = geometry;
        int cinG = g.InChannelsPerGroup, coutG = g.OutChannelsPerGroup, rows = g.ColumnRows;
        var tiling = new Tiling(g);

        // The result starts as the bias (transposed convolution) or zero; tiles add into it.
        if (b == null) Array.Clear(dx, 0, g.Batch * g.InChannels * g.InPlane);
        else
            for (int n = 0; n < g.Batch; n++)
                for (int c = 0; c < g.InChannels; c++)
                    dx.AsSpan((n * g.InChannels + c) * g.InPlane, g.InPlane).Fill(b[c]);

        // W[g]ᵀ (ColumnRows × C_out/g), transposed once here: every tile's GEMM then packs it by sequential reads.
        var weightT = ArrayPool<float>.Shared.Rent(g.OutChannels * rows);
        for (int group = 0; group < g.Groups; group++)
            BlockTranspose.Run(w.AsSpan(group * coutG * rows), rows, coutG, rows, weightT.AsSpan(group * rows * coutG), coutG);
        Span<float> OutputGradTile(int n, int group, int first) => dy.AsSpan((n * g.OutChannels + group * coutG) * g.OutPlane + first);
        Span<float> InputGradImage(int image) => dx.AsSpan((image / g.Groups * g.InChannels + image % g.Groups * cinG) * g.InPlane, cinG * g.InPlane);

        if (g.IsPointwise)
            // dX[n,g] tile = W[g]ᵀ · dY[n,g] tile: tiles write disjoint columns, so every tile runs in parallel.
            ForEachWorkItem(tiling.Items, g.MultiplyAdds, 0, (item, _, gemmThreads) =>
            {
                var (n, group, first, count) = tiling.Item(item);
                Cpu.Gemm.Sgemm(false, false, cinG, count, coutG, 1f, weightT.AsSpan(group * rows * coutG), coutG,
                    OutputGradTile(n, group, first), g.OutPlane, 1f, InputGradImage(n * g.Groups + group)[first..], g.InPlane, gemmThreads);
            });
        else
        {
            // dX_col tile = W[g]ᵀ · dY[n,g] tile, then col2im adds it into the image. Neighbouring tiles of one image
            // add into overlapping rows, so an image (and group) is the unit of parallel work; a lone image is
            // split over threads that each add into a private copy.
            void ImageTiles(int image, int firstTile, int endTile, float[] columns, Span<float> target, int gemmThreads)
            {
                int n = image / g.Groups, group = image % g.Groups;
                for (int tile = firstTile; tile < endTile; tile++)
                {
                    int first = tile * tiling.TileColumns, count = Math.Min(tiling.TileColumns, g.OutPlane - first);
                    Cpu.Gemm.Sgemm(false, false, rows, count, coutG, 1f, weightT.AsSpan(group * rows * coutG), coutG,
                        OutputGradTile(n, group, first), g.OutPlane, 0f, columns, count, gemmThreads);
                    Im2Col.ScatterAdd(columns.AsSpan(0, rows * count), g, first, count, target);
                }
            }
            int images = g.Batch * g.Groups, imageLength = cinG * g.InPlane, threads = ThreadsFor(g.MultiplyAdds, int.MaxValue);
            if (images >= threads || tiling.TilesPerImage == 1)
                ForEachWorkItem(images, g.MultiplyAdds, tiling.BufferLength, (image, columns, gemmThreads) =>
                    ImageTiles(image, 0, tiling.TilesPerImage, columns, InputGradImage(image), gemmThreads));
            else
                for (int image = 0; image < images; image++)
                {
                    int parts = Math.Min(threads, tiling.TilesPerImage);
                    var partials = new float[parts][];
                    Threading.For(parts, parts, part =>
                    {
                        var columns = ArrayPool<float>.Shared.Rent(tiling.BufferLength);
                        if (part > 0) Array.Clear(partials[part] = ArrayPool<float>.Shared.Rent(imageLength), 0, imageLength);
                        var target = part == 0 ? InputGradImage(image) : partials[part].AsSpan(0, imageLength);
                        ImageTiles(image, part * tiling.TilesPerImage / parts, (part + 1) * tiling.TilesPerImage / parts, columns, target, 1);
                        ArrayPool<float>.Shared.Return(columns);
                    });
                    for (int part = 1; part < parts; part++)
                    {
                        TensorPrimitives.Add(InputGradImage(image), partials[part].AsSpan(0, imageLength), InputGradImage(image));
                        ArrayPool<float>.Shared.Return(partials[part]);
                    }
                }
        }
        ArrayPool<float>.Shared.Return(weightT);
    }

    /// <inheritdoc/>
    public void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry)
    {
        float[] x = Data(input), dy = Data(outputGrad), dw = Data(weightGrad);
        if (geometry.IsDepthwise && DepthwiseConv.BackwardWeight(x, dy, dw, geometry)) return;
        ConvBackwardWeightGemm(x, dy, dw, geometry);
    }

    /// <summary>The weight gradient as GEMMs of im2col tiles, for any convolution.</summary>
    internal static void ConvBackwardWeightGemm(float[] x, float[] dy, float[] dw, in ConvGeometry geometry)
    {
        var g = geometry;
        int coutG = g.OutChannelsPerGroup, rows = g.ColumnRows, weightLength = g.OutChannels * rows;
        var tiling = new Tiling(g);
        // Summed transposed, dW[g]ᵀ (ColumnRows × C_out/g) += X_col · dY[n,g]ᵀ: the GEMM reads the big column
        // matrix in place as an untransposed A and packs only the narrow gradient tile (measured faster than
        // dY · X_colᵀ, which makes the GEMM gather X_col transposed, even with X_col transposed beforehand).
        // Each thread sums a fixed, contiguous share of the tiles into its own dWᵀ; the shares are then added in
        // order, so the result does not depend on scheduling.
        int parts = ThreadsFor(g.MultiplyAdds, tiling.Items);
        var sums = new float[parts][];
        void Share(int part)
        {
            var columns = ArrayPool<float>.Shared.Rent(tiling.BufferLength);
            var sum = sums[part] = ArrayPool<float>.Shared.Rent(weightLength);
            Array.Clear(sum, 0, weightLength);
            for (int item = part * tiling.Items / parts; item < (part + 1) * tiling.Items / parts; item++)
            {
                var (n, group, first, count) = tiling.Item(item);
                var source = tiling.Columns(x, n, group, first, count, columns, out int ld);
                Cpu.Gemm.Sgemm(false, true, rows, coutG, count, 1f, source, ld,
                    dy.AsSpan((n * g.OutChannels + group * coutG) * g.OutPlane + first), g.OutPlane,
                    1f, sum.AsSpan(group * rows * coutG), coutG, parts == 1 ? Threading.NumThreads : 1);
            }
            ArrayPool<float>.Shared.Return(columns);
        }
        if (parts == 1) Share(0);
        else Threading.For(parts, parts, Share);
        for (int part = 1; part < parts; part++)
            TensorPrimitives.Add(sums[0].AsSpan(0, weightLength), sums[part].AsSpan(0, weightLength), sums[0].AsSpan(0, weightLength));
        for (int group = 0; group < g.Groups; group++)
            BlockTranspose.Run(sums[0].AsSpan(group * rows * coutG), coutG, rows, coutG, dw.AsSpan(group * coutG * rows), rows);
        foreach (var sum in sums) ArrayPool<float>.Shared.Return(sum);
    }

    /// <summary>
    /// The work items of a convolution: (image, group, tile of output positions). A tile's im2col matrix holds
    /// up to <see cref="TileFloats"/> values (256 KB), so it stays in the core's L2 between im2col and the GEMM,
    /// which reads it in place; of 32K, 64K, 128K and 256K values, 64K measured fastest for all three passes.
    /// Tiles of one image are equal in size, and a lone image gets at least one tile per thread.
    /// </summary>
    readonly struct Tiling
    {
        const int TileFloats = 64 * 1024;
        // Tile widths are whole multiples of the widest GEMM micro-panel (64 columns, AVX-512), so no tile leaves the
        // GEMM a ragged panel to pack, unless that splits a lone image's few tiles unevenly among the threads: then
        // widths are multiples of the narrow kernel's 16 columns (784 positions in two tiles: 400 + 384, not 448 + 336).
        const int Panel = 64, NarrowPanel = 16;
        readonly ConvGeometry g;
        public readonly int TileColumns, TilesPerImage, Items, BufferLength;

        public Tiling(in ConvGeometry geometry)
        {
            g = geometry;
            int plane = geometry.OutPlane;
            int maxColumns = Math.Max(Panel, TileFloats / Math.Max(1, g.ColumnRows));
            int tiles = (g.OutPlane + maxColumns - 1) / maxColumns;
            int images = g.Batch * g.Groups, threads = Threading.NumThreads;
            if (images < threads) tiles = Math.Max(tiles, (threads + images - 1) / images);
            TileColumns = Width(Panel);
            if (images < threads)
            {
                // The longest a thread works, in columns, a ragged panel counting 16 more for its packing.
                int Span(int width) => ((plane + width - 1) / width + threads - 1) / threads * (width + (width % Panel == 0 ? 0 : NarrowPanel));
                int narrow = Width(NarrowPanel);
                if (Span(narrow) < Span(TileColumns)) TileColumns = narrow;
            }
            TilesPerImage = (g.OutPlane + TileColumns - 1) / TileColumns;
            Items = images * TilesPerImage;
            BufferLength = g.IsPointwise ? 0 : g.ColumnRows * TileColumns;

            int Width(int align) => Math.Max(1, Math.Min(plane, ((plane + tiles - 1) / tiles + align - 1) / align * align));
        }

        public (int Image, int Group, int First, int Count) Item(int item)
        {
            int tile = item % TilesPerImage, image = item / TilesPerImage;
            int first = tile * TileColumns;
            return (image / g.Groups, image % g.Groups, first, Math.Min(TileColumns, g.OutPlane - first));
        }

        /// <summary>The tile's column matrix, with its row stride in <paramref name="ld"/>: the input itself for a pointwise convolution, else im2col into <paramref name="buffer"/>.</summary>
        public ReadOnlySpan<float> Columns(float[] x, int n, int group, int first, int count, float[] buffer, out int ld)
        {
            int imageOffset = (n * g.InChannels + group * g.InChannelsPerGroup) * g.InPlane;
            if (g.IsPointwise)
            {
                ld = g.InPlane;
                return x.AsSpan(imageOffset + first);
            }
            Im2Col.Gather(x.AsSpan(imageOffset, g.InChannelsPerGroup * g.InPlane), g, first, count, buffer);
            ld = count;
            return buffer.AsSpan(0, g.ColumnRows * count);
        }
    }

    // Below this many multiply-adds a convolution runs on the calling thread: forking would cost more than it saves.
    const long SerialBelow = 200_000;

    internal static int ThreadsFor(long multiplyAdds, int items) =>
        multiplyAdds < SerialBelow ? 1 : Math.Max(1, Math.Min(Threading.NumThreads, items));

    /// <summary>
    /// Runs body(item, buffer, gemmThreads) for every item, each with a buffer rented for it (from the array pool's cache
    /// for the thread that runs it, so a rent costs little). Large work runs the items in parallel, each with a
    /// single-threaded GEMM; a lone item gets the threads inside its GEMM instead.
    /// </summary>
    static void ForEachWorkItem(int items, long multiplyAdds, int bufferLength, Action<int, float[], int> body)
    {
        int threads = ThreadsFor(multiplyAdds, items);
        if (threads == 1)
        {
            var buffer = ArrayPool<float>.Shared.Rent(bufferLength);
            for (int item = 0; item < items; item++) body(item, buffer, Threading.NumThreads);
            ArrayPool<float>.Shared.Return(buffer);
            return;
        }
        Threading.For(items, threads, item =>
        {
            var buffer = ArrayPool<float>.Shared.Rent(bufferLength);
            body(item, buffer, 1);
            ArrayPool<float>.Shared.Return(buffer);
        });
    }
}
