using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Comparisons and logic, whose results are booleans (integer values 0 and 1), and Where, which selects by them.
// NumPy broadcasting throughout; comparisons read either kind of value as numbers.
static partial class Operators
{
    static OpKernel Equal(NodeContext node) => Compare(node, (a, b) => a == b);
    static OpKernel Greater(NodeContext node) => Compare(node, (a, b) => a > b);
    static OpKernel GreaterOrEqual(NodeContext node) => Compare(node, (a, b) => a >= b);
    static OpKernel Less(NodeContext node) => Compare(node, (a, b) => a < b);
    static OpKernel LessOrEqual(NodeContext node) => Compare(node, (a, b) => a <= b);
    static OpKernel And(NodeContext node) => Compare(node, (a, b) => a != 0 && b != 0);
    static OpKernel Or(NodeContext node) => Compare(node, (a, b) => a != 0 || b != 0);
    static OpKernel Xor(NodeContext node) => Compare(node, (a, b) => (a != 0) != (b != 0));

    static OpKernel Compare(NodeContext node, Func<double, double, bool> test) => (inputs, _) =>
    {
        var (a, b) = (Input(node, inputs, 0), Input(node, inputs, 1));
        var shape = Values.BroadcastShape(node, a.Shape, b.Shape);
        var (x, y) = (Values.Numbers(a), Values.Numbers(b));
        var (ia, ib) = (Values.BroadcastOffsets(a.Shape, shape), Values.BroadcastOffsets(b.Shape, shape));
        var result = new long[ia.Length];
        for (int k = 0; k < result.Length; k++) result[k] = test(x[ia[k]], y[ib[k]]) ? 1 : 0;
        return [OnnxValue.OfInts(result, shape)];
    };

    static OpKernel Not(NodeContext node) => (inputs, _) =>
    {
        var x = Input(node, inputs, 0);
        return [OnnxValue.OfInts(Values.Numbers(x).Select(v => v == 0 ? 1L : 0L).ToArray(), x.Shape)];
    };

    // Where (9; 16 widens the types): condition ? x : y. Float x and y go through F.Where, so gradients reach both.
    static OpKernel Where(NodeContext node) => (inputs, _) =>
    {
        var (condition, x, y) = (Input(node, inputs, 0), Input(node, inputs, 1), Input(node, inputs, 2));
        var shape = Values.BroadcastShape(node, condition.Shape, x.Shape, y.Shape);
        if (!x.IsInt || !y.IsInt)
            return [OnnxValue.Of(F.Where(Values.AsFloat(condition), Values.AsFloat(x), Values.AsFloat(y)))];
        var (ic, ix, iy) = (Values.BroadcastOffsets(condition.Shape, shape), Values.BroadcastOffsets(x.Shape, shape), Values.BroadcastOffsets(y.Shape, shape));
        var test = Values.Numbers(condition);
        var result = new long[ic.Length];
        for (int k = 0; k < result.Length; k++) result[k] = test[ic[k]] != 0 ? x.Ints![ix[k]] : y.Ints![iy[k]];
        return [OnnxValue.OfInts(result, shape)];
    };
}
