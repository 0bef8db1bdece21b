using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

/// <summary>
/// Shape-level operations on <see cref="OnnxValue"/>s of either kind: float values go through ConvKit's
/// differentiable ops, integer values (shape computations) through plain loops here.
/// </summary>
static class Values
{
    public static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Maps a possibly negative axis into [0, rank).</summary>
    public static int Axis(long axis, int rank, Import.NodeContext node)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw node.Invalid($"axis {axis} is out of range for rank {rank}.");
        return (int)a;
    }

    static (int Outer, int Extent, int Inner) Split(int[] shape, int axis) =>
        (Numel(shape[..axis]), shape[axis], Numel(shape[(axis + 1)..]));

    public static OnnxValue Reshape(OnnxValue v, int[] shape) =>
        v.Ints is { } ints ? OnnxValue.OfInts(ints, shape) : OnnxValue.Of(v.Float!.Reshape(shape));

    /// <summary>Elements <paramref name="indices"/> (each in range) along <paramref name="axis"/>, in that order.</summary>
    public static OnnxValue Take(OnnxValue v, int axis, int[] indices)
    {
        var shape = (int[])v.Shape.Clone();
        shape[axis] = indices.Length;
        if (v.Float is { } x) return OnnxValue.Of(F.IndexSelect(x, axis, Tensor.FromInt32(indices)));
        var (outer, extent, inner) = Split(v.Shape, axis);
        var result = new long[outer * indices.Length * inner];
        for (int o = 0, k = 0; o < outer; o++)
            foreach (int index in indices)
            {
                Array.Copy(v.Ints!, ((long)o * extent + index) * inner, result, k, inner);
                k += inner;
            }
        return OnnxValue.OfInts(result, shape);
    }

    public static OnnxValue Concat(IReadOnlyList<OnnxValue> values, int axis)
    {
        if (values.All(v => !v.IsInt)) return OnnxValue.Of(Tensor.Concat(values.Select(v => v.Float!).ToArray(), axis));
        if (values.Any(v => !v.IsInt)) return OnnxValue.Of(Tensor.Concat(values.Select(AsFloat).ToArray(), axis));
        var shape = (int[])values[0].Shape.Clone();
        shape[axis] = values.Sum(v => v.Shape[axis]);
        var (outer, total, inner) = Split(shape, axis);
        var result = new long[outer * total * inner];
        int offset = 0;
        foreach (var v in values)
        {
            int block = v.Shape[axis] * inner;
            for (int o = 0; o < outer; o++) Array.Copy(v.Ints!, o * block, result, o * total * inner + offset, block);
            offset += block;
        }
        return OnnxValue.OfInts(result, shape);
    }

    public static Tensor AsFloat(OnnxValue v) =>
        v.Float ?? Tensor.FromArray(v.Ints!.Select(i => (float)i).ToArray(), v.Shape);

    public static OnnxValue Permute(OnnxValue v, int[] order)
    {
        if (v.Float is { } x) return OnnxValue.Of(x.Permute(order));
        var shape = order.Select(d => v.Shape[d]).ToArray();
        var strides = Strides(v.Shape);
        var result = new long[v.Ints!.Length];
        var index = new int[shape.Length];
        for (int k = 0; k < result.Length; k++)
        {
            long source = 0;
            for (int d = 0; d < shape.Length; d++) source += (long)index[d] * strides[order[d]];
            result[k] = v.Ints[source];
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return OnnxValue.OfInts(result, shape);
    }

    static long[] Strides(int[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }

    /// <summary>NumPy-broadcast element-wise operation on integers.</summary>
    public static OnnxValue IntBinary(OnnxValue a, OnnxValue b, Func<long, long, long> op, Import.NodeContext node)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var shape = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int x = i <= a.Rank ? a.Shape[^i] : 1, y = i <= b.Rank ? b.Shape[^i] : 1;
            if (x != y && x != 1 && y != 1)
                throw node.Invalid($"shapes {Format(a.Shape)} and {Format(b.Shape)} cannot be broadcast together.");
            shape[rank - i] = x == 1 ? y : x;
        }
        var aStrides = BroadcastStrides(a.Shape, shape);
        var bStrides = BroadcastStrides(b.Shape, shape);
        var result = new long[Numel(shape)];
        var index = new int[rank];
        for (int k = 0; k < result.Length; k++)
        {
            long ia = 0, ib = 0;
            for (int d = 0; d < rank; d++)
            {
                ia += index[d] * aStrides[d];
                ib += index[d] * bStrides[d];
            }
            result[k] = op(a.Ints![ia], b.Ints![ib]);
            for (int d = rank - 1; d >= 0 && ++index[d] == shape[d]; d--) index[d] = 0;
        }
        return OnnxValue.OfInts(result, shape);
    }

    /// <summary>Strides of <paramref name="shape"/> read as <paramref name="target"/>: 0 along broadcast axes.</summary>
    static long[] BroadcastStrides(int[] shape, int[] target)
    {
        var own = Strides(shape);
        var strides = new long[target.Length];
        int offset = target.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) strides[d + offset] = shape[d] == 1 ? 0 : own[d];
        return strides;
    }

    /// <summary>ONNX's (begin of every axis…, end of every axis…) as F.Pad's (before, after) pairs, last axis first.</summary>
    public static int[] TorchPads(int[] begin, int[] end) =>
        Enumerable.Range(0, begin.Length).Reverse().SelectMany(d => new[] { begin[d], end[d] }).ToArray();

    /// <summary>
    /// Runs a 2-D windowed op (convolution, pooling) that only supports symmetric padding with ONNX's per-side pads
    /// (top, left, bottom, right): the op pads (top, left) on both sides, the input is first padded with
    /// <paramref name="fill"/> where the bottom/right pad is larger, and extra output rows/columns are cut off.
    /// </summary>
    public static Tensor WithPads(Tensor x, int[] pads, float fill, Func<Tensor, Size2, Tensor> op, Size2 expectedOutput)
    {
        int extraH = Math.Max(0, pads[2] - pads[0]), extraW = Math.Max(0, pads[3] - pads[1]);
        if (extraH > 0 || extraW > 0) x = F.Pad(x, [0, extraW, 0, extraH], value: fill);
        var y = op(x, new Size2(pads[0], pads[1]));
        if (y.Size(2) > expectedOutput.Height) y = y.Narrow(2, 0, expectedOutput.Height);
        if (y.Size(3) > expectedOutput.Width) y = y.Narrow(3, 0, expectedOutput.Width);
        return y;
    }
}
