using ConvKit.Autograd;
using ConvKit.Onnx.Import;
using ConvKit.Ops;

namespace ConvKit.Onnx.Ops;

// Element-wise arithmetic (NumPy broadcasting from opset 7), Min, Max, Mod, Pow, Sqrt, Erf, Gelu, Exp, Log, Reciprocal, Neg, Abs,
// Floor, Ceil, activations, Clip, Softmax, Dropout, Identity.
static partial class Operators
{
    // In inference, a sum that may overwrite an operand of the result's shape (a residual connection) adds in place.
    static OpKernel Add(NodeContext node) => Binary(node, (a, b) =>
        node.MayOverwrite(0) && BroadcastsTo(b, a) ? a.AddInPlace(b)
        : node.MayOverwrite(1) && BroadcastsTo(a, b) ? b.AddInPlace(a)
        : F.Add(a, b), (a, b) => a + b);

    /// <summary>Whether <paramref name="from"/> broadcasts to exactly <paramref name="to"/>'s shape.</summary>
    static bool BroadcastsTo(Tensor from, Tensor to) =>
        from.Rank <= to.Rank && Enumerable.Range(1, from.Rank).All(d => from.Shape[^d] == 1 || from.Shape[^d] == to.Shape[^d]);
    static OpKernel Sub(NodeContext node) => Binary(node, F.Sub, (a, b) => a - b);
    static OpKernel Mul(NodeContext node) => Binary(node, F.Mul, (a, b) => a * b);

    // Integer division truncates toward zero, as in C.
    static OpKernel Div(NodeContext node) => Binary(node, F.Div,
        (a, b) => b != 0 ? a / b : throw node.Invalid("integer division by zero."));

    static OpKernel Binary(NodeContext node, Func<Tensor, Tensor, Tensor> floats, Func<long, long, long> ints) => (inputs, _) =>
    {
        var (a, b) = (inputs[0] ?? throw node.Invalid("input 0 is required."), inputs[1] ?? throw node.Invalid("input 1 is required."));
        if (a.IsInt && b.IsInt) return [Values.IntBinary(a, b, ints, node)];
        return [OnnxValue.Of(floats(Values.AsFloat(a), Values.AsFloat(b)))];
    };

    static OpKernel Sum(NodeContext node) => (inputs, _) =>
    {
        var total = node.FloatInput(inputs, 0);
        for (int i = 1; i < inputs.Length; i++)
        {
            var term = node.FloatInput(inputs, i);
            total += term;
        }
        return [OnnxValue.Of(total)];
    };

    // Pow (7; 12 and 15 widen the exponent's types): the result has the base's type. A constant scalar exponent (as
    // PyTorch writes x ** 2) takes the scalar kernel when no gradient can reach it.
    static OpKernel Pow(NodeContext node) => (inputs, _) =>
    {
        var (a, b) = (inputs[0] ?? throw node.Invalid("input 0 is required."), inputs[1] ?? throw node.Invalid("input 1 is required."));
        if (a.IsInt) return [Values.IntBinary(a, b.IsInt ? b : OnnxValue.OfInts(node.IntInput(inputs, 1), b.Shape),
            (x, y) => y >= 0 ? (long)Math.Pow(x, y) : throw node.Invalid($"a negative integer exponent ({y})."), node)];
        var x = Values.AsFloat(a);
        // (A one-element exponent of no higher rank than the base leaves the base's shape unchanged.)
        if (Values.Numel(b.Shape) == 1 && b.Rank <= x.Rank && (b.IsInt || !GradMode.IsEnabled || !b.Float!.RequiresGrad))
            return [OnnxValue.Of(F.Pow(x, node.OptionalScalar(inputs, 1, 1f)))];
        return [OnnxValue.Of(F.Pow(x, Values.AsFloat(b)))];
    };

    // Min and Max (variadic; 8 broadcasts, 12 and 13 widen the types): floats through F, so gradients flow.
    static OpKernel Min(NodeContext node) => Variadic(node, F.Minimum, Math.Min);
    static OpKernel Max(NodeContext node) => Variadic(node, F.Maximum, Math.Max);

    static OpKernel Variadic(NodeContext node, Func<Tensor, Tensor, Tensor> floats, Func<long, long, long> ints) => (inputs, _) =>
    {
        var values = inputs.Where(v => v != null).Select(v => v!).ToArray();
        if (values.Length == 0) throw node.Invalid("no inputs.");
        if (values.All(v => v.IsInt)) return [values.Skip(1).Aggregate(values[0], (a, b) => Values.IntBinary(a, b, ints, node))];
        return [OnnxValue.Of(values.Skip(1).Aggregate(Values.AsFloat(values[0]), (a, b) => floats(a, Values.AsFloat(b))))];
    };

    // Mod (10; 13 widens the types): integers take the divisor's sign unless fmod = 1 (the dividend's, as C's %);
    // floats need fmod = 1.
    static OpKernel Mod(NodeContext node)
    {
        bool fmod = node.Int("fmod", 0) != 0;
        return (inputs, _) =>
        {
            var (a, b) = (Input(node, inputs, 0), Input(node, inputs, 1));
            if (a.IsInt && b.IsInt)
                return [Values.IntBinary(a, b, (x, y) => y == 0 ? throw node.Invalid("integer modulo by zero.")
                    : fmod ? x % y : ((x % y) + y) % y, node)];
            if (!fmod) throw node.Invalid("floating-point Mod needs fmod = 1.");
            var shape = Values.BroadcastShape(node, a.Shape, b.Shape);
            var (x, y) = (Values.Numbers(a), Values.Numbers(b));
            var (ia, ib) = (Values.BroadcastOffsets(a.Shape, shape), Values.BroadcastOffsets(b.Shape, shape));
            return [Values.FromNumbers(false, ia.Select((i, k) => x[i] % y[ib[k]]).ToArray(), shape)];
        };
    }

    static OpKernel Exp(NodeContext node) => FloatUnary(node, F.Exp);
    static OpKernel Log(NodeContext node) => FloatUnary(node, F.Log);
    static OpKernel Reciprocal(NodeContext node) => FloatUnary(node, x => 1f / x);
    static OpKernel Neg(NodeContext node) => NumericUnary(node, F.Neg, v => -v);
    static OpKernel Abs(NodeContext node) => NumericUnary(node, F.Abs, Math.Abs);

    // Floor and Ceil have no gradient (it is zero almost everywhere), so they work on the values.
    static OpKernel Floor(NodeContext node) => NumericUnary(node, null, Math.Floor);
    static OpKernel Ceil(NodeContext node) => NumericUnary(node, null, Math.Ceiling);

    /// <summary>A unary op on either kind: floats through <paramref name="floats"/> when given, else value by value.</summary>
    static OpKernel NumericUnary(NodeContext node, Func<Tensor, Tensor>? floats, Func<double, double> op) => (inputs, _) =>
    {
        var x = Input(node, inputs, 0);
        if (!x.IsInt && floats != null) return [OnnxValue.Of(floats(x.Float!))];
        return [Values.FromNumbers(x.IsInt, Values.Numbers(x).Select(op).ToArray(), x.Shape)];
    };

    static OpKernel Sqrt(NodeContext node) => FloatUnary(node, F.Sqrt);
    static OpKernel Erf(NodeContext node) => FloatUnary(node, F.Erf);

    // HardSigmoid: max(0, min(1, alpha·x + beta)), defaults 0.2 and 0.5. PyTorch's hardsigmoid (alpha 1/6) has its own kernel.
    static OpKernel HardSigmoid(NodeContext node)
    {
        float alpha = node.Float("alpha", 0.2f), beta = node.Float("beta", 0.5f);
        if (alpha == 1f / 6 && beta == 0.5f) return FloatUnary(node, F.HardSigmoid);
        return FloatUnary(node, x => F.Clamp(x * alpha + beta, 0f, 1f));
    }

    // HardSwish (from opset 14): x·max(0, min(1, x/6 + ½)).
    static OpKernel HardSwish(NodeContext node) => node.Opset >= 14 ? FloatUnary(node, F.HardSwish)
        : throw node.Unsupported("HardSwish is defined from opset 14 on (older exporters write HardSigmoid and Mul)");

    // Gelu (opset 20): x·Φ(x), exact or PyTorch's tanh form. It runs at every opset: the planner writes it for PyTorch's
    // Div, Erf, Add, Mul, Mul chain at older ones (see GeluFusion), where it means the same.
    static OpKernel Gelu(NodeContext node) => node.String("approximate", "none") switch
    {
        "none" => FloatUnary(node, x => F.Gelu(x)),
        "tanh" => FloatUnary(node, x => F.Gelu(x, tanhApproximation: true)),
        var other => throw node.Unsupported($"approximate '{other}' is not one of ONNX's 'none' and 'tanh'"),
    };

    static OpKernel Relu(NodeContext node) => FloatUnary(node, x => F.Relu(x, inPlace: node.MayOverwrite(0)));
    static OpKernel Sigmoid(NodeContext node) => FloatUnary(node, F.Sigmoid);
    static OpKernel Tanh(NodeContext node) => FloatUnary(node, F.Tanh);

    static OpKernel LeakyRelu(NodeContext node)
    {
        float alpha = node.Float("alpha", 0.01f);
        return FloatUnary(node, x => F.LeakyRelu(x, alpha));
    }

    // Opset < 11: min/max attributes; from 11: optional scalar inputs 1 and 2.
    static OpKernel Clip(NodeContext node)
    {
        if (node.Opset < 11)
        {
            float min = node.Float("min", float.MinValue), max = node.Float("max", float.MaxValue);
            return FloatUnary(node, x => F.Clamp(x, min, max));
        }
        return (inputs, _) =>
        {
            float min = node.OptionalScalar(inputs, 1, float.NegativeInfinity), max = node.OptionalScalar(inputs, 2, float.PositiveInfinity);
            if (min > max) throw node.Invalid($"min ({min}) is greater than max ({max}).");
            return [OnnxValue.Of(F.Clamp(node.FloatInput(inputs, 0), min, max))];
        };
    }

    // Before opset 13 the input is coerced to 2-D at axis (default 1) and normalised over the whole trailing block;
    // from 13 it is normalised along one axis (default -1).
    static OpKernel Softmax(NodeContext node)
    {
        long axis = node.Int("axis", node.Opset < 13 ? 1 : -1);
        return (inputs, _) =>
        {
            var x = node.FloatInput(inputs, 0);
            int a = Values.Axis(axis, Math.Max(x.Rank, 1), node);
            if (node.Opset >= 13) return [OnnxValue.Of(F.Softmax(x, a))];
            var shape = x.Shape.ToArray();
            var flat = x.Reshape(Values.Numel(shape[..a]), Values.Numel(shape[a..]));
            return [OnnxValue.Of(F.Softmax(flat, 1).Reshape(shape))];
        };
    }

    // Identity in inference. It drops elements when the module is in training mode, or (opset 12+) when the
    // training_mode input is true; the ratio is an attribute before opset 12 and input 1 after.
    static OpKernel Dropout(NodeContext node)
    {
        float ratioAttribute = node.Float("ratio", 0.5f);
        return (inputs, state) =>
        {
            var x = inputs[0] ?? throw node.Invalid("input 0 is required.");
            float ratio = node.Opset < 12 ? ratioAttribute : node.OptionalScalar(inputs, 1, 0.5f);
            bool training = state.Training || (node.Opset >= 12 && node.OptionalScalar(inputs, 2, 0f) != 0f);
            var y = training && x.Float != null ? OnnxValue.Of(F.Dropout(x.Float, ratio, true)) : x;
            if (!node.HasOutput(1)) return [y];
            // The mask output (bool) says which elements were kept.
            var mask = training ? y.Float!.Ne(0f).ToArray().Select(v => (long)v).ToArray() : Enumerable.Repeat(1L, Values.Numel(x.Shape)).ToArray();
            return [y, OnnxValue.OfInts(mask, x.Shape)];
        };
    }

    static OpKernel Identity(NodeContext node) => (inputs, _) => [inputs[0] ?? throw node.Invalid("input 0 is required.")];
}
