namespace ConvKit.Backends;

/// <summary>
/// The one seam between tensors and kernels. Ops call only these methods, so another backend
/// (a GPU one, say) fits in without touching ops, layers or models. Shapes are row-major and dense.
/// Output storages are allocated by the caller; kernels never allocate them.
/// </summary>
/// <remarks>
/// Ops read values back to main memory (<see cref="CopyTo"/>, <see cref="CopyIndicesTo"/>, <see cref="GetItem"/>) in
/// a few places only, all of them small index-like inputs checked before any kernel runs, so that bad input is an
/// error naming the op, the value and its position rather than a wrong result: <c>IndexSelect</c>'s indices (its
/// kernels take the rows as an <c>int[]</c>), RoI pooling's boxes (batch index, finite and ordered coordinates), Dice
/// targets, and the one element that <c>Gather</c> and the class-index losses name after their kernel reported a bad
/// position (the error path only; those kernels check their indices themselves). Activations, weights and gradients
/// are never read back by an op.
/// </remarks>
public partial interface IBackend
{
    /// <summary>A short name for messages (<c>cpu</c>).</summary>
    string Name { get; }

    /// <summary>A zero-filled buffer of <paramref name="length"/> values.</summary>
    Storage Allocate(int length);
    /// <summary>A buffer with unspecified contents, for outputs a kernel overwrites entirely (saves a pass over memory).</summary>
    Storage AllocateUninitialized(int length);
    /// <summary>
    /// Hands back a buffer that nothing will read or write again, so a later <see cref="AllocateUninitialized"/> of
    /// the same length on this thread may reuse its memory (a graph runner releases activations after their last
    /// reader: fresh memory on every pass costs page faults and cache misses).
    /// </summary>
    void Release(Storage storage);
    /// <summary>A buffer holding a copy of <paramref name="values"/>.</summary>
    Storage FromArray(ReadOnlySpan<float> values);
    /// <summary>Copies the buffer's values into <paramref name="destination"/>.</summary>
    void CopyTo(Storage source, Span<float> destination);
    /// <summary>The value at <paramref name="index"/>.</summary>
    float GetItem(Storage storage, int index);
    /// <summary>Sets the value at <paramref name="index"/>.</summary>
    void SetItem(Storage storage, int index, float value);
    /// <summary>Sets every value to <paramref name="value"/>.</summary>
    void Fill(Storage storage, float value);
    /// <summary>Copies every value of <paramref name="source"/> into <paramref name="destination"/> (same length).</summary>
    void Copy(Storage source, Storage destination);

    /// <summary>A zero-filled buffer of <paramref name="length"/> int32 values (<see cref="DType.Int32"/>).</summary>
    Storage AllocateIndices(int length);
    /// <summary>An int32 buffer holding a copy of <paramref name="values"/>.</summary>
    Storage FromIndices(ReadOnlySpan<int> values);
    /// <summary>Copies an int32 buffer's values into <paramref name="destination"/>.</summary>
    void CopyIndicesTo(Storage source, Span<int> destination);
    /// <summary>values[i] = (float)indices[i]: an int32 buffer read as float32 (same length), for float ops on indices.</summary>
    void IndicesToFloat(Storage indices, Storage values);

    /// <summary>y = op(x), element-wise; y may be x.</summary>
    void Unary(UnaryOp op, Storage x, Storage y);
    /// <summary>y = x^exponent, element-wise.</summary>
    void PowScalar(Storage x, float exponent, Storage y);
    /// <summary>y = min(max(x, min), max), element-wise.</summary>
    void Clamp(Storage x, float min, float max, Storage y);

    /// <summary>y = op(a, b) with NumPy broadcasting of <paramref name="aShape"/> and <paramref name="bShape"/> to <paramref name="yShape"/>.</summary>
    void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape);
    /// <summary>y = x broadcast from <paramref name="xShape"/> to <paramref name="yShape"/>.</summary>
    void Expand(Storage x, int[] xShape, Storage y, int[] yShape);

    /// <summary>x viewed as (outer, extent, inner) reduced over the middle axis into y (outer, inner).</summary>
    void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y);
    /// <summary>Index of the first maximum along the middle axis of (outer, extent, inner), into the int32 buffer y (outer, inner).</summary>
    void ArgMax(Storage x, int outer, int extent, int inner, Storage y);

    /// <summary>y = x with its axes reordered: y's axis i is x's axis dims[i].</summary>
    void Permute(Storage x, int[] xShape, int[] dims, Storage y);
    /// <summary>
    /// Copies the blocks <paramref name="copy"/> describes from <paramref name="source"/> to <paramref name="destination"/>:
    /// two float32 buffers or two int32 ones (slicing an Int32 tensor keeps its indices exact).
    /// </summary>
    void CopyBlocks(Storage source, Storage destination, BlockCopy copy);

    /// <summary>C = alpha·op(A)·op(B) + beta·C on row-major matrices at the given offsets (see Gemm.Sgemm).</summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc);
}
