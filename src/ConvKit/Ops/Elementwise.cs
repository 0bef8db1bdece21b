using ConvKit.Autograd;
using ConvKit.Backends;

namespace ConvKit.Ops;

/// <summary>
/// The functional API, one file per op family; each op's forward and backward sit side by side.
/// This file: element-wise arithmetic with NumPy broadcasting, unary math, comparisons.
/// </summary>
public static partial class F
{
    // ----- binary, broadcasting -------------------------------------------------------------------------

    /// <summary>a + b, element-wise with NumPy broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary(BinaryOp.Add, "Add", a, b, (g, _, _, _) => (g, g), readsValues: false);

    /// <summary>a − b, element-wise with NumPy broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary(BinaryOp.Sub, "Sub", a, b, (g, _, _, _) => (g, -g), readsValues: false);

    /// <summary>a · b, element-wise with NumPy broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary(BinaryOp.Mul, "Mul", a, b, (g, a, b, _) => (g * b, g * a));

    // d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -y/b
    /// <summary>a / b, element-wise with NumPy broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary(BinaryOp.Div, "Div", a, b, (g, a, b, y) => (g / b, -g * y / b));

    // d(aᵇ)/da = b·aᵇ⁻¹, d(aᵇ)/db = aᵇ·ln a (NaN where a < 0, as the value itself is)
    /// <summary>aᵇ, element-wise with NumPy broadcasting; differentiable in both (the exponent's gradient is NaN where a &lt; 0, as in PyTorch).</summary>
    public static Tensor Pow(Tensor a, Tensor b) =>
        Binary(BinaryOp.Pow, "Pow", a, b, (g, a, b, y) => (g * b * Pow(a, b - 1f), g * y * Log(a)));

    // Ties split the gradient in half, as PyTorch does.
    /// <summary>The larger of a and b, element-wise with broadcasting; a tie splits the gradient in half.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) =>
        Binary(BinaryOp.Maximum, "Maximum", a, b, (g, a, b, _) => (g * Share(a, b), g * Share(b, a)));

    /// <summary>The smaller of a and b, element-wise with broadcasting; a tie splits the gradient in half.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) =>
        Binary(BinaryOp.Minimum, "Minimum", a, b, (g, a, b, _) => (g * Share(b, a), g * Share(a, b)));

    /// <summary>1 where a &gt; b, ½ where a = b, 0 elsewhere.</summary>
    static Tensor Share(Tensor a, Tensor b) => Gt(a, b) + Eq(a, b) * 0.5f;

    /// <summary>1 where a = b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Eq(Tensor a, Tensor b) => Binary(BinaryOp.Equal, "Eq", a, b, null);
    /// <summary>1 where a ≠ b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Ne(Tensor a, Tensor b) => Binary(BinaryOp.NotEqual, "Ne", a, b, null);
    /// <summary>1 where a &lt; b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Lt(Tensor a, Tensor b) => Binary(BinaryOp.Less, "Lt", a, b, null);
    /// <summary>1 where a ≤ b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Le(Tensor a, Tensor b) => Binary(BinaryOp.LessEqual, "Le", a, b, null);
    /// <summary>1 where a &gt; b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Gt(Tensor a, Tensor b) => Binary(BinaryOp.Greater, "Gt", a, b, null);
    /// <summary>1 where a ≥ b, else 0, with broadcasting; not differentiable.</summary>
    public static Tensor Ge(Tensor a, Tensor b) => Binary(BinaryOp.GreaterEqual, "Ge", a, b, null);

    /// <summary>
    /// Runs a broadcasting kernel and records its backward. <paramref name="backward"/> maps
    /// (grad, a, b, output) to gradients shaped like the output; they are summed back to each input's shape.
    /// A null backward marks a non-differentiable op (comparisons). Without <paramref name="readsValues"/> the rule is
    /// given no operands (nulls) and the node keeps only their shapes, so a sum does not keep its terms or itself alive
    /// (ResNet's residual sums: each block's last batch norm output and the sum can go once the next op has run).
    /// </summary>
    static Tensor Binary(BinaryOp op, string name, Tensor a, Tensor b,
        Func<Tensor, Tensor, Tensor, Tensor, (Tensor, Tensor)>? backward, bool readsValues = true)
    {
        (a, b) = (a.WithBackendOf(b), b.WithBackendOf(a));
        var backend = SameBackend(a, b, name);
        int[] shape = a.HasShape(b.Dims) ? a.Dims : Shapes.Broadcast(a.Dims, b.Dims, name);
        var y = Tensor.Uninitialized(shape, backend);
        backend.Binary(op, a.Storage, a.Dims, b.Storage, b.Dims, y.Storage, shape);
        int[] aDims = a.Dims, bDims = b.Dims;
        bool aNeedsGrad = a.RequiresGrad, bNeedsGrad = b.RequiresGrad;
        var (readA, readB, readY) = readsValues ? (a, b, y) : (null, null, null);
        return Node.Record(y, name, [a, b], backward == null ? null : g =>
        {
            var (ga, gb) = backward(g, readA!, readB!, readY!);
            return [aNeedsGrad ? SumTo(ga, aDims) : null, bNeedsGrad ? SumTo(gb, bDims) : null];
        });
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/>.</summary>
    internal static Tensor SumTo(Tensor grad, int[] shape)
    {
        if (grad.HasShape(shape)) return grad;
        int extra = grad.Rank - shape.Length;
        var dims = new List<int>();
        for (int d = 0; d < grad.Rank; d++)
            if (d < extra || (shape[d - extra] == 1 && grad.Dims[d] != 1)) dims.Add(d);
        return Sum(grad, [.. dims], keepDim: true).Reshape(shape);
    }

    /// <summary>The backend both operands live on; an op given tensors of two backends is refused, naming both.</summary>
    internal static IBackend SameBackend(Tensor a, Tensor b, string op) => a.Backend == b.Backend ? a.Backend
        : throw new ArgumentException(
            $"{op}: tensors live on different backends ({a.Backend.Name} and {b.Backend.Name}); move one with To(backend) first.");

    // ----- unary ----------------------------------------------------------------------------------------

    /// <summary>−x, element-wise.</summary>
    public static Tensor Neg(Tensor x) => Unary(UnaryOp.Neg, "Neg", x, (g, _, _) => -g);

    /// <summary>eˣ, element-wise.</summary>
    public static Tensor Exp(Tensor x) => Unary(UnaryOp.Exp, "Exp", x, (g, _, y) => g * y);

    /// <summary>The natural logarithm, element-wise (−∞ at 0, NaN below).</summary>
    public static Tensor Log(Tensor x) => Unary(UnaryOp.Log, "Log", x, (g, x, _) => g / x);

    /// <summary>√x, element-wise (NaN below 0).</summary>
    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, "Sqrt", x, (g, _, y) => g * 0.5f / y);

    /// <summary>|x|, element-wise; the gradient at 0 is 0.</summary>
    public static Tensor Abs(Tensor x) => Unary(UnaryOp.Abs, "Abs", x, (g, x, _) => g * Sign(x));

    /// <summary>x², element-wise.</summary>
    public static Tensor Square(Tensor x) => Unary(UnaryOp.Square, "Square", x, (g, x, _) => g * x * 2f);

    // d erf(x)/dx = 2/√π·e^−x²
    /// <summary>The error function erf x = 2/√π ∫₀ˣ e^−t² dt, element-wise (GELU's exact form is x·½·(1 + erf(x/√2))).</summary>
    public static Tensor Erf(Tensor x) => Unary(UnaryOp.Erf, "Erf", x, (g, x, _) => g * Exp(-Square(x)) * TwoOverSqrtPi);

    const float TwoOverSqrtPi = 1.1283791670955126f;

    /// <summary>-1, 0 or 1 by the sign of each element (gradient zero).</summary>
    public static Tensor Sign(Tensor x) => Unary(UnaryOp.Sign, "Sign", x, null);

    static Tensor Unary(UnaryOp op, string name, Tensor x, Func<Tensor, Tensor, Tensor, Tensor>? backward)
    {
        var y = Tensor.Uninitialized(x.Dims, x.Backend);
        x.Backend.Unary(op, x.Storage, y.Storage);
        return Node.Record(y, name, x, backward == null ? null : g => backward(g, x, y));
    }

    // d(xᵖ)/dx = p·xᵖ⁻¹
    /// <summary>xᵖ for a constant exponent p, element-wise.</summary>
    public static Tensor Pow(Tensor x, float exponent)
    {
        var y = Tensor.Uninitialized(x.Dims, x.Backend);
        x.Backend.PowScalar(x.Storage, exponent, y.Storage);
        return Node.Record(y, "Pow", x, g => g * Pow(x, exponent - 1) * exponent, ("exponent", exponent));
    }

    /// <summary>Limits every element to [min, max]; the gradient passes where the input lies inside.</summary>
    public static Tensor Clamp(Tensor x, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        if (min > max) throw new ArgumentException($"Clamp: min ({min}) is greater than max ({max}).");
        var y = Tensor.Uninitialized(x.Dims, x.Backend);
        x.Backend.Clamp(x.Storage, min, max, y.Storage);
        return Node.Record(y, "Clamp", x, g => g * (Ge(x, min) * Le(x, max)), ("min", min), ("max", max));
    }
}
