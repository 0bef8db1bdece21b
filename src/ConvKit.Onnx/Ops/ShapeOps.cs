using ConvKit.Onnx.Import;
using ConvKit.Onnx.Proto;
using ConvKit.Ops;
using DataType = ConvKit.Onnx.Proto.TensorProto.Types.DataType;

namespace ConvKit.Onnx.Ops;

// Shape ops, for float and integer values alike: Concat, Flatten, Reshape, Transpose, Shape, Gather, Unsqueeze,
// Squeeze, Slice, Split, Pad, Constant, ConstantOfShape, Cast.
static partial class Operators
{
    static OnnxValue Input(NodeContext node, OnnxValue?[] inputs, int index) =>
        index < inputs.Length && inputs[index] is { } value ? value : throw node.Invalid($"input {index} is required.");

    static OpKernel Concat(NodeContext node)
    {
        long axis = node.Has("axis") ? node.Int("axis", 0)
            : throw new InvalidDataException($"ONNX Concat node '{node.Name}': the axis attribute is required.");
        return (inputs, _) =>
        {
            var values = inputs.Where(v => v != null).Select(v => v!).ToArray();
            if (values.Length == 0) throw node.Invalid("no inputs.");
            int a = Values.Axis(axis, values[0].Rank, node);
            foreach (var v in values)
                if (v.Rank != values[0].Rank || Enumerable.Range(0, v.Rank).Any(d => d != a && v.Shape[d] != values[0].Shape[d]))
                    throw node.Invalid($"shapes {Values.Format(values[0].Shape)} and {Values.Format(v.Shape)} differ outside axis {a}.");
            return [Values.Concat(values, a)];
        };
    }

    static OpKernel Flatten(NodeContext node)
    {
        long axis = node.Int("axis", 1);
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            int a = axis == x.Rank ? x.Rank : Values.Axis(axis, x.Rank, node);
            return [Values.Reshape(x, [Values.Numel(x.Shape[..a]), Values.Numel(x.Shape[a..])])];
        };
    }

    // The target shape is an attribute before opset 5 and input 1 after. 0 copies the input's size (unless
    // allowzero = 1, opset 14), -1 is inferred.
    static OpKernel Reshape(NodeContext node)
    {
        bool allowZero = node.Int("allowzero", 0) != 0;
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            var target = node.IntInput(inputs, 1);
            var shape = new int[target.Length];
            int inferred = -1;
            for (int d = 0; d < shape.Length; d++)
            {
                if (target[d] == -1)
                {
                    if (inferred >= 0) throw node.Invalid($"shape {Values.Format(target.Select(t => (int)t).ToArray())} has more than one -1.");
                    inferred = d;
                    shape[d] = 1;
                }
                else if (target[d] == 0 && !allowZero)
                    shape[d] = d < x.Rank ? x.Shape[d] : throw node.Invalid($"shape entry {d} is 0 (copy) but the input has rank {x.Rank}.");
                else if (target[d] < 0) throw node.Invalid($"shape entry {target[d]} is invalid.");
                else shape[d] = (int)target[d];
            }
            int known = Values.Numel(shape), count = Values.Numel(x.Shape);
            if (inferred >= 0 && known > 0 && count % known == 0) shape[inferred] = count / known;
            if (Values.Numel(shape) != count)
                throw node.Invalid($"cannot reshape {Values.Format(x.Shape)} ({count} elements) to [{string.Join(", ", target)}].");
            return [Values.Reshape(x, shape)];
        };
    }

    static OpKernel Transpose(NodeContext node)
    {
        var perm = node.Ints("perm");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            int[] order = perm is { Length: > 0 } ? perm.Select(p => Values.Axis(p, x.Rank, node)).ToArray()
                : Enumerable.Range(0, x.Rank).Reverse().ToArray();
            if (order.Length != x.Rank || order.Distinct().Count() != x.Rank)
                throw node.Invalid($"perm [{string.Join(", ", order)}] is not a permutation of the {x.Rank} axes.");
            return [Values.Permute(x, order)];
        };
    }

    // From opset 15, start and end pick a range of axes.
    static OpKernel Shape(NodeContext node)
    {
        long start = node.Int("start", 0), end = node.Int("end", long.MaxValue);
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            int from = Clamp(start, x.Rank), to = Clamp(end, x.Rank);
            var dims = x.Shape[from..Math.Max(from, to)].Select(s => (long)s).ToArray();
            return [OnnxValue.OfInts(dims, dims.Length)];
        };
    }

    static int Clamp(long index, int size) => (int)Math.Clamp(index < 0 ? index + size : index, 0, size);

    static OpKernel Gather(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        return (inputs, _) =>
        {
            var data = Input(node, inputs, 0);
            var indicesValue = Input(node, inputs, 1);
            var indices = node.IntInput(inputs, 1);
            int a = Values.Axis(axis, data.Rank, node), size = data.Shape[a];
            var positions = indices.Select(i => i >= -size && i < size ? (int)(i < 0 ? i + size : i)
                : throw node.Invalid($"index {i} is out of range for axis {a} of size {size}.")).ToArray();
            var taken = Values.Take(data, a, positions);
            // The indices' shape replaces the gathered axis.
            return [Values.Reshape(taken, [.. data.Shape[..a], .. indicesValue.Shape, .. data.Shape[(a + 1)..]])];
        };
    }

    // Axes are an attribute before opset 13 and input 1 after.
    static OpKernel Unsqueeze(NodeContext node)
    {
        var attribute = node.Ints("axes");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            var axes = node.Opset < 13 ? attribute ?? throw node.Invalid("the axes attribute is required.") : node.IntInput(inputs, 1);
            int rank = x.Rank + axes.Length;
            var inserted = axes.Select(a => Values.Axis(a, rank, node)).ToHashSet();
            if (inserted.Count != axes.Length) throw node.Invalid($"axes [{string.Join(", ", axes)}] repeat an axis.");
            var shape = new int[rank];
            for (int d = 0, source = 0; d < rank; d++) shape[d] = inserted.Contains(d) ? 1 : x.Shape[source++];
            return [Values.Reshape(x, shape)];
        };
    }

    static OpKernel Squeeze(NodeContext node)
    {
        var attribute = node.Ints("axes");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            var axes = node.Opset < 13 ? attribute : node.HasInput(1) ? node.IntInput(inputs, 1) : null;
            var removed = axes is { Length: > 0 } ? axes.Select(a => Values.Axis(a, x.Rank, node)).ToHashSet()
                : Enumerable.Range(0, x.Rank).Where(d => x.Shape[d] == 1).ToHashSet();
            foreach (int d in removed)
                if (x.Shape[d] != 1) throw node.Invalid($"axis {d} of shape {Values.Format(x.Shape)} has size {x.Shape[d]}, not 1.");
            return [Values.Reshape(x, x.Shape.Where((_, d) => !removed.Contains(d)).ToArray())];
        };
    }

    // starts/ends/axes are attributes before opset 10; from 10 they are inputs 1-3 with steps as input 4.
    // Bounds clamp as in NumPy; negative steps walk backwards.
    static OpKernel Slice(NodeContext node)
    {
        var (startsAttribute, endsAttribute, axesAttribute) = (node.Ints("starts"), node.Ints("ends"), node.Ints("axes"));
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            long[] starts, ends;
            long[]? axes, steps = null;
            if (node.Opset < 10)
            {
                starts = startsAttribute ?? throw node.Invalid("the starts attribute is required.");
                ends = endsAttribute ?? throw node.Invalid("the ends attribute is required.");
                axes = axesAttribute;
            }
            else
            {
                starts = node.IntInput(inputs, 1);
                ends = node.IntInput(inputs, 2);
                axes = node.HasInput(3) ? node.IntInput(inputs, 3) : null;
                steps = node.HasInput(4) ? node.IntInput(inputs, 4) : null;
            }
            if (ends.Length != starts.Length || (axes != null && axes.Length != starts.Length) || (steps != null && steps.Length != starts.Length))
                throw node.Invalid("starts, ends, axes and steps must have the same length.");
            var result = x;
            for (int i = 0; i < starts.Length; i++)
            {
                int axis = Values.Axis(axes?[i] ?? i, x.Rank, node), size = x.Shape[axis];
                long step = steps?[i] ?? 1;
                if (step == 0) throw node.Invalid("a step of 0.");
                result = SliceAxis(result, axis, SliceIndices(starts[i], ends[i], step, size));
            }
            return [result];
        };
    }

    /// <summary>The positions a NumPy slice start:end:step selects on an axis of <paramref name="size"/>.</summary>
    static int[] SliceIndices(long start, long end, long step, int size)
    {
        long Bound(long value, long low, long high) => Math.Clamp(value < 0 ? value + size : value, low, high);
        var indices = new List<int>();
        if (step > 0)
            for (long i = Bound(start, 0, size), stop = Bound(end, 0, size); i < stop; i += step) indices.Add((int)i);
        else
            for (long i = Bound(start, -1, size - 1), stop = Bound(end, -1, size - 1); i > stop; i += step) indices.Add((int)i);
        return [.. indices];
    }

    static OnnxValue SliceAxis(OnnxValue x, int axis, int[] indices)
    {
        if (indices.Length == x.Shape[axis] && indices.Select((index, i) => index == i).All(b => b)) return x;
        // A forward stride is one ConvKit slice; other orders go through Take.
        if (x.Float is { } t && indices.Length > 1 && indices[1] > indices[0])
            return OnnxValue.Of(t.Slice(axis, indices[0], indices[^1] + 1, indices[1] - indices[0]));
        return Values.Take(x, axis, indices);
    }

    // Sizes are the split attribute (input 1 from opset 13), else num_outputs (opset 18) or the output count, equal parts.
    static OpKernel Split(NodeContext node)
    {
        long axis = node.Int("axis", 0);
        var attribute = node.Ints("split");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            int a = Values.Axis(axis, x.Rank, node), size = x.Shape[a], parts = node.OutputCount;
            var sizes = node.Opset < 13 ? attribute : node.HasInput(1) ? node.IntInput(inputs, 1) : null;
            if (sizes is not { Length: > 0 })
            {
                int chunk = (size + parts - 1) / parts;
                sizes = Enumerable.Range(0, parts).Select(p => (long)Math.Clamp(size - p * chunk, 0, chunk)).ToArray();
            }
            if (sizes.Length != parts || sizes.Sum() != size)
                throw node.Invalid($"split sizes [{string.Join(", ", sizes)}] do not divide axis {a} of size {size} into {parts} outputs.");
            if (x.Float is { } t) return F.Split(t, sizes.Select(s => (int)s).ToArray(), a).Select(OnnxValue.Of).ToArray();
            var outputs = new OnnxValue?[parts];
            for (int p = 0, start = 0; p < parts; start += (int)sizes[p], p++)
                outputs[p] = SliceAxis(x, a, Enumerable.Range(start, (int)sizes[p]).ToArray());
            return outputs;
        };
    }

    // Opset < 11: pads and value are attributes; from 11: inputs 1 (pads) and 2 (constant value); from 18: input 3 (axes).
    static OpKernel Pad(NodeContext node)
    {
        string mode = node.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge"))
            throw node.Unsupported($"mode '{mode}' is not supported (constant, reflect, edge are)");
        var padsAttribute = node.Ints(node.Opset < 11 ? "pads" : "__none__");
        float valueAttribute = node.Float("value", 0f);
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            var pads = node.Opset < 11 ? padsAttribute ?? throw node.Invalid("the pads attribute is required.") : node.IntInput(inputs, 1);
            float value = node.Opset < 11 ? valueAttribute : node.OptionalScalar(inputs, 2, 0f);
            var axes = node.Opset >= 18 && node.HasInput(3) ? node.IntInput(inputs, 3).Select(a => Values.Axis(a, x.Rank, node)).ToArray()
                : Enumerable.Range(0, x.Rank).ToArray();
            if (pads.Length != 2 * axes.Length) throw node.Invalid($"{pads.Length} pads given for {axes.Length} axes.");
            int[] begin = new int[x.Rank], end = new int[x.Rank];
            for (int i = 0; i < axes.Length; i++)
            {
                begin[axes[i]] = (int)pads[i];
                end[axes[i]] = (int)pads[i + axes.Length];
            }
            for (int d = 0; d < x.Rank && mode != "constant"; d++)
            {
                int size = x.Size(d);
                if (begin[d] < 0 || end[d] < 0) throw node.Unsupported($"negative pads in mode '{mode}' are not supported");
                if (mode == "reflect" && (begin[d] >= size || end[d] >= size))
                    throw node.Invalid($"reflect pads ({begin[d]}, {end[d]}) must be smaller than axis {d}'s size {size}.");
            }
            var padMode = mode switch { "reflect" => PadMode.Reflect, "edge" => PadMode.Replicate, _ => PadMode.Constant };
            return [OnnxValue.Of(F.Pad(x, Values.TorchPads(begin, end), padMode, value))];
        };
    }

    static OpKernel Constant(NodeContext node)
    {
        OnnxValue value;
        if (node.Tensor("value") is { } tensor) value = TensorProtos.Decode(tensor, node.Unsupported);
        else if (node.Has("value_float")) value = OnnxValue.Of(ConvKit.Tensor.Scalar(node.Float("value_float", 0f)));
        else if (node.Floats("value_floats") is { } floats) value = OnnxValue.Of(ConvKit.Tensor.FromArray(floats, floats.Length));
        else if (node.Has("value_int")) value = OnnxValue.Scalar(node.Int("value_int", 0));
        else if (node.Ints("value_ints") is { } ints) value = OnnxValue.OfInts(ints, ints.Length);
        else throw node.Unsupported("only value, value_float(s) and value_int(s) constants are supported");
        return (_, _) => [value];
    }

    static OpKernel ConstantOfShape(NodeContext node)
    {
        var fill = node.Tensor("value") is { } tensor ? TensorProtos.Decode(tensor, node.Unsupported) : OnnxValue.Of(ConvKit.Tensor.Scalar(0f));
        return (inputs, _) =>
        {
            var shape = node.IntInput(inputs, 0).Select(s => s >= 0 ? (int)s : throw node.Invalid($"negative size {s}.")).ToArray();
            return fill.Ints is { } ints
                ? [OnnxValue.OfInts(Enumerable.Repeat(ints[0], Values.Numel(shape)).ToArray(), shape)]
                : [OnnxValue.Of(ConvKit.Tensor.Full(shape, fill.Float!.ToArray()[0]))];
        };
    }

    static OpKernel Cast(NodeContext node)
    {
        var to = (DataType)node.Int("to", 0);
        bool toFloat = to is DataType.Float or DataType.Double;
        if (!toFloat && to is not (DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or DataType.Uint8 or DataType.Bool))
            throw node.Unsupported($"casting to {to} is not supported");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            if (toFloat) return [OnnxValue.Of(Values.AsFloat(x))];
            var ints = x.Ints ?? x.Float!.ToArray().Select(f => to == DataType.Bool ? (f != 0 ? 1L : 0L) : (long)f).ToArray();
            return [OnnxValue.OfInts(to == DataType.Bool ? ints.Select(i => i != 0 ? 1L : 0L).ToArray() : ints, x.Shape)];
        };
    }
}
