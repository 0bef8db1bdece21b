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
        v.Float ?? FloatTensor(v.Ints!.Select(i => (float)i).ToArray(), v.Shape);

    /// <summary>A float tensor of any shape, rank 0 included (<see cref="Tensor.FromArray(float[], int[])"/> makes an empty shape 1-D).</summary>
    public static Tensor FloatTensor(float[] values, int[] shape) =>
        shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);

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

    public static long[] Strides(int[] shape)
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
        var shape = BroadcastShape(node, a.Shape, b.Shape);
        var (ia, ib) = (BroadcastOffsets(a.Shape, shape), BroadcastOffsets(b.Shape, shape));
        var result = new long[ia.Length];
        for (int k = 0; k < result.Length; k++) result[k] = op(a.Ints![ia[k]], b.Ints![ib[k]]);
        return OnnxValue.OfInts(result, shape);
    }

    /// <summary>The NumPy broadcast of <paramref name="shapes"/>, or an error naming them.</summary>
    public static int[] BroadcastShape(Import.NodeContext node, params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var shape = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int x = i <= s.Length ? s[^i] : 1;
                if (x != size && x != 1 && size != 1)
                    throw node.Invalid($"shapes {string.Join(" and ", shapes.Select(Format))} cannot be broadcast together.");
                if (x != 1) size = x;
            }
            shape[rank - i] = size;
        }
        return shape;
    }

    /// <summary>For each element of <paramref name="target"/> (row-major), its position in a value of <paramref name="shape"/> broadcast to it.</summary>
    public static int[] BroadcastOffsets(int[] shape, int[] target)
    {
        var strides = BroadcastStrides(shape, target);
        var offsets = new int[Numel(target)];
        var index = new int[target.Length];
        for (int k = 0; k < offsets.Length; k++)
        {
            long offset = 0;
            for (int d = 0; d < target.Length; d++) offset += index[d] * strides[d];
            offsets[k] = (int)offset;
            for (int d = target.Length - 1; d >= 0 && ++index[d] == target[d]; d--) index[d] = 0;
        }
        return offsets;
    }

    /// <summary>The values of either kind as doubles (exact for floats, and for integers up to 2⁵³).</summary>
    public static double[] Numbers(OnnxValue v) =>
        v.Ints is { } ints ? ints.Select(i => (double)i).ToArray() : v.Float!.ToArray().Select(f => (double)f).ToArray();

    /// <summary>A value of the given kind (integers or floats) holding <paramref name="values"/>.</summary>
    public static OnnxValue FromNumbers(bool ints, double[] values, int[] shape) => ints
        ? OnnxValue.OfInts(values.Select(v => (long)v).ToArray(), shape)
        : OnnxValue.Of(FloatTensor(values.Select(v => (float)v).ToArray(), shape));

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
