using System.Buffers;
using System.Numerics.Tensors;

namespace ConvKit.Backends.Cpu;

// Convolution as matrix products. For image n and group g, with P = H_out·W_out output positions and the
// im2col matrix X_col (ColumnRows × P):
//   forward          Y[n,g]  (C_out/g × P)       = W[g] (C_out/g × ColumnRows) · X_col
//   data gradient    dX_col  (ColumnRows × P)    = W[g]ᵀ · dY[n,g], then col2im adds it into dX[n,g]
//   weight gradient  dW[g]   (C_out/g × ColumnRows) += dY[n,g] · X_colᵀ, summed over n
// P is cut into tiles so a tile's column matrix stays in the core's L2 cache between im2col and the GEMM,
// and the tiles of all images are the units of parallel work (batch-parallel for big batches, tile-parallel
// for a single image). A pointwise convolution (1×1, stride 1, no padding) skips im2col: X[n,g] is X_col.
// Depthwise convolutions run as direct loops (DepthwiseConv); their gradients use the general path.
public sealed partial class CpuBackend
{
    public void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry)
    {
        if (geometry.IsDepthwise)
        {
            DepthwiseConv.Forward(Data(input), Data(weight), bias == null ? null : Data(bias), Data(output), geometry);
            return;
        }
        float[] x = Data(input), w = Data(weight), y = Data(output);
        float[]? b = bias == null ? null : Data(bias);
        var g = geometry;
        var tiling = new Tiling(g);
        ForEachWorkItem(tiling.Items, g.MultiplyAdds, tiling.BufferLength, (item, columns) =>
        {
            var (n, group, first, count) = tiling.Item(item);
            int coutG = g.OutChannelsPerGroup, outOffset = (n * g.OutChannels + group * coutG) * g.OutPlane + first;
            float beta = 0;
            if (b != null)
            {
                for (int o = 0; o < coutG; o++)
                    y.AsSpan(outOffset + o * g.OutPlane, count).Fill(b[group * coutG + o]);
                beta = 1;
            }
            var source = tiling.Columns(x, n, group, first, count, columns, out int ld);
            Cpu.Gemm.Sgemm(false, false, coutG, count, g.ColumnRows, 1f,
                w.AsSpan(group * coutG * g.ColumnRows), g.ColumnRows, source, ld, beta, y.AsSpan(outOffset), g.OutPlane);
        });
    }

    public void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry)
    {
        float[] dy = Data(outputGrad), w = Data(weight), dx = Data(inputGrad);
        float[]? b = bias == null ? null : Data(bias);
        var g = geometry;
        int cinG = g.InChannelsPerGroup, coutG = g.OutChannelsPerGroup;
        var tiling = new Tiling(g);

        // The result starts as the bias (transposed convolution) or zero; tiles add into it.
        if (b == null) Array.Clear(dx, 0, g.Batch * g.InChannels * g.InPlane);
        else
            for (int n = 0; n < g.Batch; n++)
                for (int c = 0; c < g.InChannels; c++)
                    dx.AsSpan((n * g.InChannels + c) * g.InPlane, g.InPlane).Fill(b[c]);

        if (g.IsPointwise)
        {
            // dX[n,g] tile = W[g]ᵀ · dY[n,g] tile: tiles write disjoint columns, so every tile runs in parallel.
            ForEachWorkItem(tiling.Items, g.MultiplyAdds, 0, (item, _) =>
            {
                var (n, group, first, count) = tiling.Item(item);
                Cpu.Gemm.Sgemm(true, false, cinG, count, coutG, 1f,
                    w.AsSpan(group * coutG * cinG), cinG,
                    dy.AsSpan((n * g.OutChannels + group * coutG) * g.OutPlane + first), g.OutPlane,
                    1f, dx.AsSpan((n * g.InChannels + group * cinG) * g.InPlane + first), g.InPlane);
            });
            return;
        }

        // col2im makes neighbouring tiles of one image add into overlapping rows, so an image (and group) is
        // the unit of parallel work; a lone image is split over threads that each add into a private copy.
        int images = g.Batch * g.Groups, imageLength = cinG * g.InPlane;
        void ImageTiles(int image, int firstTile, int endTile, float[] columns, Span<float> target)
        {
            int n = image / g.Groups, group = image % g.Groups;
            for (int tile = firstTile; tile < endTile; tile++)
            {
                int first = tile * tiling.TileColumns, count = Math.Min(tiling.TileColumns, g.OutPlane - first);
                Cpu.Gemm.Sgemm(true, false, g.ColumnRows, count, coutG, 1f,
                    w.AsSpan(group * coutG * g.ColumnRows), g.ColumnRows,
                    dy.AsSpan((n * g.OutChannels + group * coutG) * g.OutPlane + first), g.OutPlane,
                    0f, columns, count);
                Im2Col.ScatterAdd(columns.AsSpan(0, g.ColumnRows * count), g, first, count, target);
            }
        }
        int threads = ThreadsFor(g.MultiplyAdds, int.MaxValue);
        if (images >= threads || tiling.TilesPerImage == 1)
        {
            ForEachWorkItem(images, g.MultiplyAdds, tiling.BufferLength, (image, columns) =>
                ImageTiles(image, 0, tiling.TilesPerImage, columns,
                    dx.AsSpan((image / g.Groups * g.InChannels + image % g.Groups * cinG) * g.InPlane, imageLength)));
            return;
        }
        for (int image = 0; image < images; image++)
        {
            var target = dx.AsSpan((image / g.Groups * g.InChannels + image % g.Groups * cinG) * g.InPlane, imageLength);
            int parts = Math.Min(threads, tiling.TilesPerImage);
            var partials = new float[parts - 1][];
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            {
                var columns = ArrayPool<float>.Shared.Rent(tiling.BufferLength);
                float[]? own = null;
                if (part > 0) partials[part - 1] = own = ArrayPool<float>.Shared.Rent(imageLength);
                var destination = own == null
                    ? dx.AsSpan((image / g.Groups * g.InChannels + image % g.Groups * cinG) * g.InPlane, imageLength)
                    : own.AsSpan(0, imageLength);
                if (own != null) destination.Clear();
                ImageTiles(image, part * tiling.TilesPerImage / parts, (part + 1) * tiling.TilesPerImage / parts, columns, destination);
                ArrayPool<float>.Shared.Return(columns);
            });
            foreach (var partial in partials)
            {
                TensorPrimitives.Add(target, partial.AsSpan(0, imageLength), target);
                ArrayPool<float>.Shared.Return(partial);
            }
        }
    }

    public void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry)
    {
        float[] x = Data(input), dy = Data(outputGrad), dw = Data(weightGrad);
        var g = geometry;
        int coutG = g.OutChannelsPerGroup, weightLength = g.OutChannels * g.ColumnRows;
        var tiling = new Tiling(g);
        // Each thread sums a fixed, contiguous share of the tiles into its own copy of dW; the copies are then
        // added in order, so the result does not depend on scheduling.
        int parts = ThreadsFor(g.MultiplyAdds, tiling.Items);
        var partials = new float[parts][];
        void Share(int part)
        {
            var columns = ArrayPool<float>.Shared.Rent(tiling.BufferLength);
            var sum = part == 0 ? dw : ArrayPool<float>.Shared.Rent(weightLength);
            partials[part] = sum;
            Array.Clear(sum, 0, weightLength);
            for (int item = part * tiling.Items / parts; item < (part + 1) * tiling.Items / parts; item++)
            {
                var (n, group, first, count) = tiling.Item(item);
                var source = tiling.Columns(x, n, group, first, count, columns, out int ld);
                Cpu.Gemm.Sgemm(false, true, coutG, g.ColumnRows, count, 1f,
                    dy.AsSpan((n * g.OutChannels + group * coutG) * g.OutPlane + first), g.OutPlane,
                    source, ld, 1f, sum.AsSpan(group * coutG * g.ColumnRows), g.ColumnRows);
            }
            ArrayPool<float>.Shared.Return(columns);
        }
        if (parts == 1) Share(0);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, Share);
        for (int part = 1; part < parts; part++)
        {
            TensorPrimitives.Add(dw.AsSpan(0, weightLength), partials[part].AsSpan(0, weightLength), dw.AsSpan(0, weightLength));
            ArrayPool<float>.Shared.Return(partials[part]);
        }
    }

    /// <summary>
    /// The work items of a convolution: (image, group, tile of output positions). A tile holds enough columns
    /// for its im2col matrix to fill about <see cref="TileFloats"/> values.
    /// </summary>
    readonly struct Tiling
    {
        const int TileFloats = 64 * 1024;
        readonly ConvGeometry g;
        public readonly int TileColumns, TilesPerImage, Items, BufferLength;

        public Tiling(in ConvGeometry geometry)
        {
            g = geometry;
            int columns = Math.Max(16, TileFloats / Math.Max(1, g.ColumnRows) / 16 * 16);
            TileColumns = Math.Max(1, Math.Min(columns, g.OutPlane));
            TilesPerImage = (g.OutPlane + TileColumns - 1) / TileColumns;
            Items = g.Batch * g.Groups * TilesPerImage;
            BufferLength = g.IsPointwise ? 0 : g.ColumnRows * TileColumns;
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

    static int ThreadsFor(long multiplyAdds, int items) =>
        multiplyAdds < SerialBelow ? 1 : Math.Max(1, Math.Min(Threading.NumThreads, items));

    /// <summary>Runs body(item, buffer) for every item, in parallel when the work is large; each thread rents one buffer.</summary>
    static void ForEachWorkItem(int items, long multiplyAdds, int bufferLength, Action<int, float[]> body)
    {
        int threads = ThreadsFor(multiplyAdds, items);
        if (threads == 1)
        {
            var buffer = ArrayPool<float>.Shared.Rent(bufferLength);
            for (int item = 0; item < items; item++) body(item, buffer);
            ArrayPool<float>.Shared.Return(buffer);
            return;
        }
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads },
            () => ArrayPool<float>.Shared.Rent(bufferLength),
            (item, _, buffer) => { body(item, buffer); return buffer; },
            buffer => ArrayPool<float>.Shared.Return(buffer));
    }
}
