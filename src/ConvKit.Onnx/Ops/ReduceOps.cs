using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Reductions: ReduceMean.
static partial class Operators
{
    // Axes are an attribute up to opset 17 and the optional input 1 from 18; with no axes every axis is reduced, unless
    // (18) noop_with_empty_axes = 1, which makes the node an identity. keepdims defaults to 1.
    static OpKernel ReduceMean(NodeContext node)
    {
        var attribute = node.Ints("axes");
        bool keepDims = node.Int("keepdims", 1) != 0, noopWhenEmpty = node.Int("noop_with_empty_axes", 0) != 0;
        if (node.Opset >= 18 && attribute != null) throw node.Invalid("from opset 18 the axes are input 1, not an attribute.");
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            var axes = node.Opset < 18 ? attribute : node.HasInput(1) ? node.IntInput(inputs, 1) : null;
            if (axes is not { Length: > 0 } && noopWhenEmpty) return [OnnxValue.Of(x)];
            int[] dims = axes is { Length: > 0 } ? axes.Select(a => Values.Axis(a, x.Rank, node)).ToArray() : [.. Enumerable.Range(0, x.Rank)];
            if (dims.Distinct().Count() != dims.Length) throw node.Invalid($"axes [{string.Join(", ", axes!)}] repeat an axis.");
            return [OnnxValue.Of(F.Mean(x, dims, keepDims))];
        };
    }
}
