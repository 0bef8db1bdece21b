using ConvKit.Ops;

namespace ConvKit;

// Operators and fluent methods: thin forwards to the functional ops in F.
public sealed partial class Tensor
{
    /// <summary>
    /// A float used where a tensor is expected becomes a rank-0 tensor (broadcasts to anything) on the default backend;
    /// combined with a tensor of another backend, it is made there instead, as PyTorch treats a Python number.
    /// </summary>
    public static implicit operator Tensor(float value) => WrappedNumber(value, Backends.Backend.Default);

    /// <summary>Element-wise sum with broadcasting (<c>F.Add</c>).</summary>
    public static Tensor operator +(Tensor a, Tensor b) => F.Add(a, b);
    /// <summary>Element-wise difference with broadcasting (<c>F.Sub</c>).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => F.Sub(a, b);
    /// <summary>Element-wise product with broadcasting (<c>F.Mul</c>).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => F.Mul(a, b);
    /// <summary>Element-wise quotient with broadcasting (<c>F.Div</c>).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => F.Div(a, b);
    /// <summary>Element-wise negation (<c>F.Neg</c>).</summary>
    public static Tensor operator -(Tensor x) => F.Neg(x);

    // A number beside a tensor is made on that tensor's backend, so arithmetic inside ops and backward rules never
    // touches the default backend (these overloads win over the implicit conversion above).

    /// <summary>Each element plus <paramref name="b"/> (<c>F.Add</c>).</summary>
    public static Tensor operator +(Tensor a, float b) => F.Add(a, Scalar(b, a.Backend));
    /// <summary><paramref name="a"/> plus each element (<c>F.Add</c>).</summary>
    public static Tensor operator +(float a, Tensor b) => F.Add(Scalar(a, b.Backend), b);
    /// <summary>Each element minus <paramref name="b"/> (<c>F.Sub</c>).</summary>
    public static Tensor operator -(Tensor a, float b) => F.Sub(a, Scalar(b, a.Backend));
    /// <summary><paramref name="a"/> minus each element (<c>F.Sub</c>).</summary>
    public static Tensor operator -(float a, Tensor b) => F.Sub(Scalar(a, b.Backend), b);
    /// <summary>Each element times <paramref name="b"/> (<c>F.Mul</c>).</summary>
    public static Tensor operator *(Tensor a, float b) => F.Mul(a, Scalar(b, a.Backend));
    /// <summary><paramref name="a"/> times each element (<c>F.Mul</c>).</summary>
    public static Tensor operator *(float a, Tensor b) => F.Mul(Scalar(a, b.Backend), b);
    /// <summary>Each element divided by <paramref name="b"/> (<c>F.Div</c>).</summary>
    public static Tensor operator /(Tensor a, float b) => F.Div(a, Scalar(b, a.Backend));
    /// <summary><paramref name="a"/> divided by each element (<c>F.Div</c>).</summary>
    public static Tensor operator /(float a, Tensor b) => F.Div(Scalar(a, b.Backend), b);

    /// <summary>Element-wise sum with broadcasting (<c>F.Add</c>).</summary>
    public Tensor Add(Tensor other) => F.Add(this, other);
    /// <summary>Element-wise difference with broadcasting (<c>F.Sub</c>).</summary>
    public Tensor Sub(Tensor other) => F.Sub(this, other);
    /// <summary>Element-wise product with broadcasting (<c>F.Mul</c>).</summary>
    public Tensor Mul(Tensor other) => F.Mul(this, other);
    /// <summary>Element-wise quotient with broadcasting (<c>F.Div</c>).</summary>
    public Tensor Div(Tensor other) => F.Div(this, other);
    /// <summary>Each element raised to <paramref name="exponent"/> (<c>F.Pow</c>).</summary>
    public Tensor Pow(float exponent) => F.Pow(this, exponent);
    /// <summary>Each element raised to the matching element of <paramref name="exponent"/>, with broadcasting (<c>F.Pow</c>).</summary>
    public Tensor Pow(Tensor exponent) => F.Pow(this, exponent);
    /// <summary>The element-wise larger of this tensor and <paramref name="other"/>, with broadcasting (<c>F.Maximum</c>).</summary>
    public Tensor Maximum(Tensor other) => F.Maximum(this, other);
    /// <summary>The element-wise smaller of this tensor and <paramref name="other"/>, with broadcasting (<c>F.Minimum</c>).</summary>
    public Tensor Minimum(Tensor other) => F.Minimum(this, other);
    /// <summary>1 where the elements are equal, else 0 (<c>F.Eq</c>); not differentiable.</summary>
    public Tensor Eq(Tensor other) => F.Eq(this, other);
    /// <summary>1 where the elements differ, else 0 (<c>F.Ne</c>); not differentiable.</summary>
    public Tensor Ne(Tensor other) => F.Ne(this, other);
    /// <summary>1 where this tensor's element is less than <paramref name="other"/>'s, else 0 (<c>F.Lt</c>).</summary>
    public Tensor Lt(Tensor other) => F.Lt(this, other);
    /// <summary>1 where this tensor's element is less than or equal to <paramref name="other"/>'s, else 0 (<c>F.Le</c>).</summary>
    public Tensor Le(Tensor other) => F.Le(this, other);
    /// <summary>1 where this tensor's element is greater than <paramref name="other"/>'s, else 0 (<c>F.Gt</c>).</summary>
    public Tensor Gt(Tensor other) => F.Gt(this, other);
    /// <summary>1 where this tensor's element is greater than or equal to <paramref name="other"/>'s, else 0 (<c>F.Ge</c>).</summary>
    public Tensor Ge(Tensor other) => F.Ge(this, other);

    /// <summary>Element-wise negation (<c>F.Neg</c>).</summary>
    public Tensor Neg() => F.Neg(this);
    /// <summary>Element-wise eˣ (<c>F.Exp</c>).</summary>
    public Tensor Exp() => F.Exp(this);
    /// <summary>Element-wise natural logarithm (<c>F.Log</c>).</summary>
    public Tensor Log() => F.Log(this);
    /// <summary>Element-wise square root (<c>F.Sqrt</c>).</summary>
    public Tensor Sqrt() => F.Sqrt(this);
    /// <summary>Element-wise absolute value (<c>F.Abs</c>).</summary>
    public Tensor Abs() => F.Abs(this);
    /// <summary>Element-wise square (<c>F.Square</c>).</summary>
    public Tensor Square() => F.Square(this);
    /// <summary>Element-wise sign: −1, 0 or 1 (<c>F.Sign</c>).</summary>
    public Tensor Sign() => F.Sign(this);
    /// <summary>Each element limited to [<paramref name="min"/>, <paramref name="max"/>] (<c>F.Clamp</c>).</summary>
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity) => F.Clamp(this, min, max);

    /// <summary>The sum over <paramref name="dims"/> (all dimensions when null), keeping them as size 1 when <paramref name="keepDim"/> (<c>F.Sum</c>).</summary>
    public Tensor Sum(int[]? dims = null, bool keepDim = false) => F.Sum(this, dims, keepDim);
    /// <summary>The sum over dimension <paramref name="dim"/>, kept as size 1 when <paramref name="keepDim"/> (<c>F.Sum</c>).</summary>
    public Tensor Sum(int dim, bool keepDim = false) => F.Sum(this, [dim], keepDim);
    /// <summary>The mean over <paramref name="dims"/> (all dimensions when null), keeping them as size 1 when <paramref name="keepDim"/> (<c>F.Mean</c>).</summary>
    public Tensor Mean(int[]? dims = null, bool keepDim = false) => F.Mean(this, dims, keepDim);
    /// <summary>The mean over dimension <paramref name="dim"/>, kept as size 1 when <paramref name="keepDim"/> (<c>F.Mean</c>).</summary>
    public Tensor Mean(int dim, bool keepDim = false) => F.Mean(this, [dim], keepDim);
    /// <summary>The maximum over <paramref name="dims"/> (all dimensions when null), keeping them as size 1 when <paramref name="keepDim"/> (<c>F.Max</c>).</summary>
    public Tensor Max(int[]? dims = null, bool keepDim = false) => F.Max(this, dims, keepDim);
    /// <summary>The maximum over dimension <paramref name="dim"/>, kept as size 1 when <paramref name="keepDim"/> (<c>F.Max</c>).</summary>
    public Tensor Max(int dim, bool keepDim = false) => F.Max(this, [dim], keepDim);
    /// <summary>The minimum over <paramref name="dims"/> (all dimensions when null), keeping them as size 1 when <paramref name="keepDim"/> (<c>F.Min</c>).</summary>
    public Tensor Min(int[]? dims = null, bool keepDim = false) => F.Min(this, dims, keepDim);
    /// <summary>The minimum over dimension <paramref name="dim"/>, kept as size 1 when <paramref name="keepDim"/> (<c>F.Min</c>).</summary>
    public Tensor Min(int dim, bool keepDim = false) => F.Min(this, [dim], keepDim);
    /// <summary>The index of the largest element along <paramref name="dim"/> (of the flattened tensor when null), an Int32 tensor (<c>F.ArgMax</c>).</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => F.ArgMax(this, dim, keepDim);
    /// <summary>The variance over <paramref name="dims"/> (all when null), dividing by n − <paramref name="correction"/> (<c>F.Var</c>).</summary>
    public Tensor Var(int[]? dims = null, int correction = 1, bool keepDim = false) => F.Var(this, dims, correction, keepDim);
    /// <summary>The variance over dimension <paramref name="dim"/>, dividing by n − <paramref name="correction"/> (<c>F.Var</c>).</summary>
    public Tensor Var(int dim, int correction = 1, bool keepDim = false) => F.Var(this, [dim], correction, keepDim);

    /// <summary>The matrix product, batched and broadcast over leading dimensions as <c>torch.matmul</c> (<c>F.MatMul</c>).</summary>
    public Tensor MatMul(Tensor other) => F.MatMul(this, other);

    /// <summary>The same elements in a new shape (one dimension may be −1, inferred); shares storage (<c>F.Reshape</c>).</summary>
    public Tensor Reshape(params int[] shape) => F.Reshape(this, shape);
    /// <summary>Same as <see cref="Reshape"/>: tensors are always contiguous, so every reshape is a view.</summary>
    public Tensor View(params int[] shape) => F.Reshape(this, shape);
    /// <summary>Dimensions <paramref name="startDim"/> to <paramref name="endDim"/> merged into one (<c>F.Flatten</c>).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1) => F.Flatten(this, startDim, endDim);
    /// <summary>A new dimension of size 1 inserted at <paramref name="dim"/> (<c>F.Unsqueeze</c>).</summary>
    public Tensor Unsqueeze(int dim) => F.Unsqueeze(this, dim);
    /// <summary>Dimension <paramref name="dim"/> removed if its size is 1, or every size-1 dimension when null (<c>F.Squeeze</c>).</summary>
    public Tensor Squeeze(int? dim = null) => F.Squeeze(this, dim);
    /// <summary>Size-1 dimensions repeated to <paramref name="shape"/> (−1 keeps a size), as broadcasting does (<c>F.Expand</c>).</summary>
    public Tensor Expand(params int[] shape) => F.Expand(this, shape);
    /// <summary>The dimensions reordered: output dimension i is input dimension <paramref name="dims"/>[i] (<c>F.Permute</c>).</summary>
    public Tensor Permute(params int[] dims) => F.Permute(this, dims);
    /// <summary>Dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped (<c>F.Transpose</c>).</summary>
    public Tensor Transpose(int dim0, int dim1) => F.Transpose(this, dim0, dim1);
    /// <summary>Indices <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive) of <paramref name="dim"/>, every <paramref name="step"/>th (<c>F.Slice</c>).</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1) => F.Slice(this, dim, start, end, step);
    /// <paramref name="length"/> indices of <paramref name="dim"/> from <paramref name="start"/> (<c>F.Narrow</c>).
    public Tensor Narrow(int dim, int start, int length) => F.Narrow(this, dim, start, length);

    /// <summary>Pieces of <paramref name="splitSize"/> along <paramref name="dim"/> (the last may be smaller) (<c>F.Split</c>).</summary>
    public Tensor[] Split(int splitSize, int dim = 0) => F.Split(this, splitSize, dim);
    /// <summary>Pieces of the given <paramref name="sections"/> sizes along <paramref name="dim"/> (<c>F.Split</c>).</summary>
    public Tensor[] Split(int[] sections, int dim = 0) => F.Split(this, sections, dim);
    /// <paramref name="chunks"/> pieces of near-equal size along <paramref name="dim"/> (<c>F.Chunk</c>).
    public Tensor[] Chunk(int chunks, int dim = 0) => F.Chunk(this, chunks, dim);
    /// <summary>The elements at <paramref name="index"/> along <paramref name="dim"/>, as <c>torch.gather</c> (<c>F.Gather</c>).</summary>
    public Tensor Gather(int dim, Tensor index) => F.Gather(this, dim, index);
    /// <summary>The slices of <paramref name="dim"/> at <paramref name="indices"/>, in their order (<c>F.IndexSelect</c>).</summary>
    public Tensor IndexSelect(int dim, Tensor indices) => F.IndexSelect(this, dim, indices);
    /// <summary>The values sorted along <paramref name="dim"/> and their original indices (<c>F.Sort</c>).</summary>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false) => F.Sort(this, dim, descending);
    /// <summary>The indices that sort the values along <paramref name="dim"/> (<c>F.ArgSort</c>).</summary>
    public Tensor ArgSort(int dim = -1, bool descending = false) => F.ArgSort(this, dim, descending);
    /// <summary>The <paramref name="k"/> largest (or smallest) values along <paramref name="dim"/> and their indices (<c>F.TopK</c>).</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true, bool sorted = true) => F.TopK(this, k, dim, largest, sorted);

    /// <summary>The tensors joined along an existing dimension <paramref name="dim"/> (<c>F.Concat</c>).</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0) => F.Concat(tensors, dim);
    /// <summary>The tensors, of one shape, stacked along a new dimension <paramref name="dim"/> (<c>F.Stack</c>).</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0) => F.Stack(tensors, dim);
}
