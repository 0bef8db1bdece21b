using ConvKit.Ops;

namespace ConvKit;

// Operators and fluent methods: thin forwards to the functional ops in F.
public sealed partial class Tensor
{
    /// <summary>A float used where a tensor is expected becomes a rank-0 tensor (broadcasts to anything).</summary>
    public static implicit operator Tensor(float value) => Scalar(value);

    public static Tensor operator +(Tensor a, Tensor b) => F.Add(a, b);
    public static Tensor operator -(Tensor a, Tensor b) => F.Sub(a, b);
    public static Tensor operator *(Tensor a, Tensor b) => F.Mul(a, b);
    public static Tensor operator /(Tensor a, Tensor b) => F.Div(a, b);
    public static Tensor operator -(Tensor x) => F.Neg(x);

    public Tensor Add(Tensor other) => F.Add(this, other);
    public Tensor Sub(Tensor other) => F.Sub(this, other);
    public Tensor Mul(Tensor other) => F.Mul(this, other);
    public Tensor Div(Tensor other) => F.Div(this, other);
    public Tensor Pow(float exponent) => F.Pow(this, exponent);
    public Tensor Pow(Tensor exponent) => F.Pow(this, exponent);
    public Tensor Maximum(Tensor other) => F.Maximum(this, other);
    public Tensor Minimum(Tensor other) => F.Minimum(this, other);
    public Tensor Eq(Tensor other) => F.Eq(this, other);
    public Tensor Ne(Tensor other) => F.Ne(this, other);
    public Tensor Lt(Tensor other) => F.Lt(this, other);
    public Tensor Le(Tensor other) => F.Le(this, other);
    public Tensor Gt(Tensor other) => F.Gt(this, other);
    public Tensor Ge(Tensor other) => F.Ge(this, other);

    public Tensor Neg() => F.Neg(this);
    public Tensor Exp() => F.Exp(this);
    public Tensor Log() => F.Log(this);
    public Tensor Sqrt() => F.Sqrt(this);
    public Tensor Abs() => F.Abs(this);
    public Tensor Square() => F.Square(this);
    public Tensor Sign() => F.Sign(this);
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity) => F.Clamp(this, min, max);

    public Tensor Sum(int[]? dims = null, bool keepDim = false) => F.Sum(this, dims, keepDim);
    public Tensor Sum(int dim, bool keepDim = false) => F.Sum(this, [dim], keepDim);
    public Tensor Mean(int[]? dims = null, bool keepDim = false) => F.Mean(this, dims, keepDim);
    public Tensor Mean(int dim, bool keepDim = false) => F.Mean(this, [dim], keepDim);
    public Tensor Max(int[]? dims = null, bool keepDim = false) => F.Max(this, dims, keepDim);
    public Tensor Max(int dim, bool keepDim = false) => F.Max(this, [dim], keepDim);
    public Tensor Min(int[]? dims = null, bool keepDim = false) => F.Min(this, dims, keepDim);
    public Tensor Min(int dim, bool keepDim = false) => F.Min(this, [dim], keepDim);
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => F.ArgMax(this, dim, keepDim);
    public Tensor Var(int[]? dims = null, int correction = 1, bool keepDim = false) => F.Var(this, dims, correction, keepDim);
    public Tensor Var(int dim, int correction = 1, bool keepDim = false) => F.Var(this, [dim], correction, keepDim);

    public Tensor MatMul(Tensor other) => F.MatMul(this, other);

    public Tensor Reshape(params int[] shape) => F.Reshape(this, shape);
    /// <summary>Same as <see cref="Reshape"/>: tensors are always contiguous, so every reshape is a view.</summary>
    public Tensor View(params int[] shape) => F.Reshape(this, shape);
    public Tensor Flatten(int startDim = 0, int endDim = -1) => F.Flatten(this, startDim, endDim);
    public Tensor Unsqueeze(int dim) => F.Unsqueeze(this, dim);
    public Tensor Squeeze(int? dim = null) => F.Squeeze(this, dim);
    public Tensor Expand(params int[] shape) => F.Expand(this, shape);
    public Tensor Permute(params int[] dims) => F.Permute(this, dims);
    public Tensor Transpose(int dim0, int dim1) => F.Transpose(this, dim0, dim1);
    public Tensor Slice(int dim, int start, int end, int step = 1) => F.Slice(this, dim, start, end, step);
    public Tensor Narrow(int dim, int start, int length) => F.Narrow(this, dim, start, length);

    public Tensor[] Split(int splitSize, int dim = 0) => F.Split(this, splitSize, dim);
    public Tensor[] Split(int[] sections, int dim = 0) => F.Split(this, sections, dim);
    public Tensor[] Chunk(int chunks, int dim = 0) => F.Chunk(this, chunks, dim);
    public Tensor Gather(int dim, Tensor index) => F.Gather(this, dim, index);
    public Tensor IndexSelect(int dim, Tensor indices) => F.IndexSelect(this, dim, indices);
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false) => F.Sort(this, dim, descending);
    public Tensor ArgSort(int dim = -1, bool descending = false) => F.ArgSort(this, dim, descending);
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true, bool sorted = true) => F.TopK(this, k, dim, largest, sorted);

    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0) => F.Concat(tensors, dim);
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0) => F.Stack(tensors, dim);
}
