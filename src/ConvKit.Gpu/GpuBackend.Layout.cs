using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Reductions along one axis, axis reordering and block copies: each thread owns output elements and reads the
// inputs they come from, so no two threads write one place.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, int, int, int, ArrayView<float>, ArrayView<float>>? reduce;
    Action<AcceleratorStream, Index1D, Work, int, int, ArrayView<float>, ArrayView<int>>? argMax;
    Action<AcceleratorStream, Index1D, Work, ArrayView<int>, ArrayView<float>, ArrayView<float>>? permute;
    Action<AcceleratorStream, Index1D, Work, BlockCopy, ArrayView<int>, ArrayView<int>>? copyBlocks;

    /// <inheritdoc/>
    public override void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y)
    {
        var (threads, work) = For((long)outer * inner);
        Load(ref reduce, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, int, ArrayView<float>, ArrayView<float>>(ReduceKernel))(
            Stream, threads, work, (int)op, extent, inner, Data(x), Data(y));
    }

    static void ReduceKernel(Index1D t, Work w, int op, int extent, int inner, ArrayView<float> x, ArrayView<float> y)
    {
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int o = j / inner, i = j - o * inner, start = o * extent * inner + i;
            // Sums in double, as the reference backend: a long axis in float would lose low bits in every addition.
            double result = x[start];
            for (int r = 1; r < extent; r++)
            {
                double v = x[start + r * inner];
                result = (ReduceOp)op switch
                {
                    ReduceOp.Sum => result + v,
                    // torch.max and torch.min propagate NaN.
                    ReduceOp.Max => double.IsNaN(result) ? result : double.IsNaN(v) || v > result ? v : result,
                    _ => double.IsNaN(result) ? result : double.IsNaN(v) || v < result ? v : result,
                };
            }
            y[j] = (float)result;
        }
    }

    /// <inheritdoc/>
    public override void ArgMax(Storage x, int outer, int extent, int inner, Storage y)
    {
        var (threads, work) = For((long)outer * inner);
        Load(ref argMax, a => a.LoadAutoGroupedKernel<Index1D, Work, int, int, ArrayView<float>, ArrayView<int>>(ArgMaxKernel))(
            Stream, threads, work, extent, inner, Data(x), Indices(y));
    }

    static void ArgMaxKernel(Index1D t, Work w, int extent, int inner, ArrayView<float> x, ArrayView<int> y)
    {
        for (int j = t; j < w.Count; j += w.Stride)
        {
            int o = j / inner, i = j - o * inner, start = o * extent * inner + i;
            // The first maximum; NaN counts as the largest value, as in torch.argmax.
            int best = 0;
            float bestValue = x[start];
            for (int r = 1; r < extent && !float.IsNaN(bestValue); r++)
            {
                float value = x[start + r * inner];
                if (value > bestValue || float.IsNaN(value)) { best = r; bestValue = value; }
            }
            y[j] = best;
        }
    }

    /// <inheritdoc/>
    public override void Permute(Storage x, int[] xShape, int[] dims, Storage y)
    {
        // [rank, the output's sizes, the input stride of each output axis]
        int rank = xShape.Length;
        var table = new int[1 + 2 * rank];
        table[0] = rank;
        for (int k = 0; k < rank; k++)
        {
            int stride = 1;
            for (int d = dims[k] + 1; d < rank; d++) stride *= xShape[d];
            table[1 + k] = xShape[dims[k]];
            table[1 + rank + k] = stride;
        }
        var (threads, work) = For(y.Length);
        Load(ref permute, a => a.LoadAutoGroupedKernel<Index1D, Work, ArrayView<int>, ArrayView<float>, ArrayView<float>>(PermuteKernel))(
            Stream, threads, work, Table(table), Data(x), Data(y));
    }

    static void PermuteKernel(Index1D t, Work w, ArrayView<int> table, ArrayView<float> x, ArrayView<float> y)
    {
        int rank = table[0];
        for (int i = t; i < w.Count; i += w.Stride)
        {
            int rest = i, source = 0;
            for (int k = rank - 1; k >= 0; k--)
            {
                int size = table[1 + k];
                source += rest % size * table[1 + rank + k];
                rest /= size;
            }
            y[i] = x[source];
        }
    }

    /// <inheritdoc/>
    public override void CopyBlocks(Storage source, Storage destination, BlockCopy copy)
    {
        // Bits are bits: float buffers are copied as int32 so one kernel serves both kinds.
        ArrayView<int> from = source.DType == DType.Int32 ? Indices(source) : Data(source).Cast<int>();
        ArrayView<int> to = source.DType == DType.Int32 ? Indices(destination) : Data(destination).Cast<int>();
        var (threads, work) = For((long)copy.Outer * copy.Count * copy.BlockLength);
        Load(ref copyBlocks, a => a.LoadAutoGroupedKernel<Index1D, Work, BlockCopy, ArrayView<int>, ArrayView<int>>(CopyBlocksKernel))(
            Stream, threads, work, copy, from, to);
    }

    static void CopyBlocksKernel(Index1D t, Work w, BlockCopy copy, ArrayView<int> src, ArrayView<int> dst)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            int j = i % copy.BlockLength, block = i / copy.BlockLength, c = block % copy.Count, o = block / copy.Count;
            dst[copy.DstOffset + o * copy.DstOuterStride + c * copy.DstStride + j] = src[copy.SrcOffset + o * copy.SrcOuterStride + c * copy.SrcStride + j];
        }
    }
}
