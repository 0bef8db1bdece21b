using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Reductions: ReduceMean, ReduceSum, ReduceMin, ReduceMax, ReduceProd. Float values go through F (so gradients flow)
// except for the product; integer values are reduced value by value.
static partial class Operators
{
    static OpKernel ReduceMean(NodeContext node) => Reduce(node, 18, (x, dims, keep) => F.Mean(x, dims, keep), null);
    static OpKernel ReduceSum(NodeContext node) => Reduce(node, 13, (x, dims, keep) => F.Sum(x, dims, keep), (0, (a, b) => a + b));
    static OpKernel ReduceMin(NodeContext node) => Reduce(node, 18, (x, dims, keep) => F.Min(x, dims, keep), (double.PositiveInfinity, Math.Min));
    static OpKernel ReduceMax(NodeContext node) => Reduce(node, 18, (x, dims, keep) => F.Max(x, dims, keep), (double.NegativeInfinity, Math.Max));
    static OpKernel ReduceProd(NodeContext node) => Reduce(node, 18, null, (1, (a, b) => a * b));

    // Axes are an attribute before opset axesInput (13 for ReduceSum, 18 for the others) and the optional input 1
    // from it; with no axes every axis is reduced, unless (from then) noop_with_empty_axes = 1, which makes the node an
    // identity. keepdims defaults to 1.
    static OpKernel Reduce(NodeContext node, long axesInput, Func<Tensor, int[], bool, Tensor>? floats, (double Seed, Func<double, double, double> Op)? numbers)
    {
        var attribute = node.Ints("axes");
        bool keepDims = node.Int("keepdims", 1) != 0, noopWhenEmpty = node.Int("noop_with_empty_axes", 0) != 0;
        if (node.Opset >= axesInput && attribute != null) throw node.Invalid($"from opset {axesInput} the axes are input 1, not an attribute.");
        return (inputs, _) =>
        {
            var x = Input(node, inputs, 0);
            var axes = node.Opset < axesInput ? attribute : node.HasInput(1) ? node.IntInput(inputs, 1) : null;
            if (axes is not { Length: > 0 } && noopWhenEmpty) return [x];
            int[] dims = axes is { Length: > 0 } ? axes.Select(a => Values.Axis(a, x.Rank, node)).ToArray() : [.. Enumerable.Range(0, x.Rank)];
            if (dims.Distinct().Count() != dims.Length) throw node.Invalid($"axes [{string.Join(", ", axes!)}] repeat an axis.");
            if (floats != null && (!x.IsInt || numbers == null) && Values.Numel(x.Shape) > 0)
                return [OnnxValue.Of(floats(Values.AsFloat(x), dims, keepDims))];
            var (seed, op) = numbers ?? throw node.Invalid($"cannot reduce an empty value of shape {Values.Format(x.Shape)}.");
            return [ReduceNumbers(x, dims, keepDims, seed, op)];
        };
    }

    /// <summary>Folds the values along <paramref name="dims"/> with <paramref name="op"/>, starting from <paramref name="seed"/>.</summary>
    static OnnxValue ReduceNumbers(OnnxValue x, int[] dims, bool keepDims, double seed, Func<double, double, double> op)
    {
        var reduced = x.Shape.Select((s, d) => dims.Contains(d) ? 1 : s).ToArray();
        var outStrides = Values.Strides(reduced);
        var result = Enumerable.Repeat(seed, Values.Numel(reduced)).ToArray();
        var values = Values.Numbers(x);
        var index = new int[x.Rank];
        for (int k = 0; k < values.Length; k++)
        {
            long target = 0;
            for (int d = 0; d < x.Rank; d++) target += dims.Contains(d) ? 0 : index[d] * outStrides[d];
            result[target] = op(result[target], values[k]);
            for (int d = x.Rank - 1; d >= 0 && ++index[d] == x.Shape[d]; d--) index[d] = 0;
        }
        var shape = keepDims ? reduced : x.Shape.Where((_, d) => !dims.Contains(d)).ToArray();
        return Values.FromNumbers(x.IsInt, result, shape);
    }
}
