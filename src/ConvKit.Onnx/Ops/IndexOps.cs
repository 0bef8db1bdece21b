using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Index and data-dependent-shape ops: Range, Expand, Tile, TopK, NonZero, GatherND, ScatterElements. Float data goes
// through differentiable ConvKit ops where one exists (Expand, Tile, TopK's values, GatherND); indices are integers.
static partial class Operators
{
    // Range (11): start, start + delta, ... while before limit; max(⌈(limit − start) / delta⌉, 0) elements.
    static OpKernel Range(NodeContext node) => (inputs, _) =>
    {
        var (start, limit, delta) = (Input(node, inputs, 0), Input(node, inputs, 1), Input(node, inputs, 2));
        double first = Values.Numbers(start)[0], step = Values.Numbers(delta)[0];
        if (step == 0) throw node.Invalid("a delta of 0.");
        int count = (int)Math.Max(Math.Ceiling((Values.Numbers(limit)[0] - first) / step), 0);
        bool ints = start.IsInt && limit.IsInt && delta.IsInt;
        return [Values.FromNumbers(ints, Enumerable.Range(0, count).Select(i => first + i * step).ToArray(), [count])];
    };

    // Expand (8): broadcasts the input and the shape input together (either may have the larger size on an axis).
    static OpKernel Expand(NodeContext node) => (inputs, _) =>
    {
        var x = Input(node, inputs, 0);
        var target = node.IntInput(inputs, 1).Select(s => s >= 0 ? (int)s : throw node.Invalid($"negative size {s}.")).ToArray();
        var shape = Values.BroadcastShape(node, x.Shape, target);
        if (x.Float is { } t) return [OnnxValue.Of(F.Expand(t.Reshape([.. Enumerable.Repeat(1, shape.Length - x.Rank), .. x.Shape]), shape))];
        var offsets = Values.BroadcastOffsets(x.Shape, shape);
        return [OnnxValue.OfInts(offsets.Select(i => x.Ints![i]).ToArray(), shape)];
    };

    // Tile (6): each axis repeated repeats[d] times.
    static OpKernel Tile(NodeContext node) => (inputs, _) =>
    {
        var x = Input(node, inputs, 0);
        var repeats = node.IntInput(inputs, 1);
        if (repeats.Length != x.Rank) throw node.Invalid($"{repeats.Length} repeats for an input of rank {x.Rank}.");
        for (int d = 0; d < x.Rank; d++)
        {
            if (repeats[d] < 0) throw node.Invalid($"a negative repeat ({repeats[d]}).");
            if (repeats[d] != 1)
                x = Values.Take(x, d, Enumerable.Range(0, (int)repeats[d] * x.Shape[d]).Select(i => i % x.Shape[d]).ToArray());
        }
        return [x];
    };

    // TopK: k is an attribute before opset 10 and input 1 from it; largest and sorted arrive in 11 (ConvKit always
    // sorts). Ties keep the lower index first, as ONNX Runtime does.
    static OpKernel TopK(NodeContext node)
    {
        long axis = node.Int("axis", -1), kAttribute = node.Int("k", -1);
        bool largest = node.Int("largest", 1) != 0;
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            int a = Values.Axis(axis, x.Rank, node);
            long k = node.Opset < 10 ? kAttribute : node.IntInput(inputs, 1) is [var given] ? given : throw node.Invalid("k should hold one value.");
            if (k < 0 || k > x.Shape[a]) throw node.Invalid($"k = {k} is outside [0, {x.Shape[a]}] for axis {a} of shape {Values.Format(x.Shape)}.");
            if (x.Float is { } t && t.Numel > 0)
            {
                var (values, positions) = F.TopK(t, (int)k, a, largest);
                return [OnnxValue.Of(values), OnnxValue.OfInts(positions.ToArray().Select(p => (long)p).ToArray(), [.. positions.Shape])];
            }
            return TopKNumbers(x, a, (int)k, largest);
        };
    }

    static OnnxValue[] TopKNumbers(OnnxValue x, int axis, int k, bool largest)
    {
        var values = Values.Numbers(x);
        int outer = Values.Numel(x.Shape[..axis]), extent = x.Shape[axis], inner = Values.Numel(x.Shape[(axis + 1)..]);
        var shape = (int[])x.Shape.Clone();
        shape[axis] = k;
        var (picked, positions) = (new double[outer * k * inner], new long[outer * k * inner]);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                var order = Enumerable.Range(0, extent).Select(e => (Value: values[(o * extent + e) * inner + i], Index: e));
                order = largest ? order.OrderByDescending(p => p.Value).ThenBy(p => p.Index) : order.OrderBy(p => p.Value).ThenBy(p => p.Index);
                int j = 0;
                foreach (var (value, index) in order.Take(k))
                {
                    picked[(o * k + j) * inner + i] = value;
                    positions[(o * k + j++) * inner + i] = index;
                }
            }
        return [Values.FromNumbers(x.IsInt, picked, shape), OnnxValue.OfInts(positions, shape)];
    }

    // NonZero (9): the indices of the nonzero elements, one column per element in row-major order: (rank, count).
    static OpKernel NonZero(NodeContext node) => (inputs, _) =>
    {
        var x = Input(node, inputs, 0);
        var values = Values.Numbers(x);
        var strides = Values.Strides(x.Shape);
        var found = Enumerable.Range(0, values.Length).Where(k => values[k] != 0).ToArray();
        var result = new long[x.Rank * found.Length];
        for (int d = 0; d < x.Rank; d++)
            for (int j = 0; j < found.Length; j++) result[d * found.Length + j] = found[j] / strides[d] % x.Shape[d];
        return [OnnxValue.OfInts(result, x.Rank, found.Length)];
    };

    // GatherND (11; batch_dims from 12): each index tuple along the last axis of the indices picks a slice of the
    // data after the first batch_dims axes, which the data and the indices share.
    static OpKernel GatherND(NodeContext node)
    {
        int batchDims = (int)node.Int("batch_dims", 0);
        return (inputs, _) =>
        {
            var data = Input(node, inputs, 0);
            var indexValue = Input(node, inputs, 1);
            var indices = node.IntInput(inputs, 1);
            int depth = indexValue.Rank > 0 ? indexValue.Shape[^1] : throw node.Invalid("the indices need rank ≥ 1.");
            if (batchDims + depth > data.Rank || batchDims >= indexValue.Rank
                || !data.Shape[..batchDims].SequenceEqual(indexValue.Shape[..batchDims]))
                throw node.Invalid($"indices of shape {Values.Format(indexValue.Shape)} do not fit data of shape {Values.Format(data.Shape)} with batch_dims {batchDims}.");
            int batches = Values.Numel(data.Shape[..batchDims]), cells = Values.Numel(data.Shape[batchDims..(batchDims + depth)]);
            int tuples = Values.Numel(indexValue.Shape[batchDims..^1]);
            var positions = new int[batches * tuples];
            for (int b = 0; b < batches; b++)
                for (int t = 0; t < tuples; t++)
                {
                    long flat = 0;
                    for (int j = 0; j < depth; j++)
                    {
                        int size = data.Shape[batchDims + j];
                        long i = indices[(b * tuples + t) * depth + j];
                        if (i < -size || i >= size) throw node.Invalid($"index {i} is out of range for axis {batchDims + j} of size {size}.");
                        flat = flat * size + (i < 0 ? i + size : i);
                    }
                    positions[b * tuples + t] = (int)(b * (long)cells + flat);
                }
            var rows = Values.Reshape(data, [batches * cells, .. data.Shape[(batchDims + depth)..]]);
            return [Values.Reshape(Values.Take(rows, 0, positions), [.. indexValue.Shape[..^1], .. data.Shape[(batchDims + depth)..]])];
        };
    }

    // ScatterElements (11; reduction add/mul from 16, max/min from 18): a copy of the data with updates[i][j]… written
    // at the position whose axis coordinate is indices[i][j]… . It works on the values (no gradient).
    static OpKernel ScatterElements(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        string reduction = node.String("reduction", "none");
        Func<double, double, double> combine = reduction switch
        {
            "none" => (_, u) => u,
            "add" => (a, u) => a + u,
            "mul" => (a, u) => a * u,
            "max" => Math.Max,
            "min" => Math.Min,
            _ => throw node.Unsupported($"reduction '{reduction}' is not supported (none, add, mul, max, min are)"),
        };
        return (inputs, _) =>
        {
            var (data, updates) = (Input(node, inputs, 0), Input(node, inputs, 2));
            var indexValue = Input(node, inputs, 1);
            var indices = node.IntInput(inputs, 1);
            int a = Values.Axis(axis, data.Rank, node);
            if (!indexValue.Shape.SequenceEqual(updates.Shape) || indexValue.Rank != data.Rank)
                throw node.Invalid($"indices {Values.Format(indexValue.Shape)} and updates {Values.Format(updates.Shape)} must have one shape, of the data's rank {data.Rank}.");
            var result = Values.Numbers(data);
            var source = Values.Numbers(updates);
            var strides = Values.Strides(data.Shape);
            var index = new int[data.Rank];
            for (int k = 0; k < indices.Length; k++)
            {
                long i = indices[k], size = data.Shape[a];
                if (i < -size || i >= size) throw node.Invalid($"index {i} is out of range for axis {a} of size {size}.");
                long target = 0;
                for (int d = 0; d < data.Rank; d++) target += (d == a ? (i < 0 ? i + size : i) : index[d]) * strides[d];
                result[target] = combine(result[target], source[k]);
                for (int d = data.Rank - 1; d >= 0 && ++index[d] == indexValue.Shape[d]; d--) index[d] = 0;
            }
            return [Values.FromNumbers(data.IsInt, result, data.Shape)];
        };
    }
}
