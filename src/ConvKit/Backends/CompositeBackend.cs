namespace ConvKit.Backends;

/// <summary>
/// A start for a new backend: derive from it and implement the core (storage, element-wise and broadcasting kernels,
/// reductions, block copies, GEMM, convolution, pooling, log-softmax, one-hot negative log-likelihood, ...), and the
/// composite ops come composed from those primitives on the backend's own storage: local response normalisation,
/// adaptive average pooling, label smoothing, the SGD and Adam variants (momentum, Nesterov, weight decay, AdamW,
/// AMSGrad), batch and layer normalisation, softmax and the softmax family's gradients, clamping, powers, expansion,
/// copies and max pooling without its argmax.
/// Each composite is virtual, so a backend replaces one with a fused kernel once it is worth it. Nothing here reads a
/// value back to the host, and every buffer is made by the backend itself.
/// </summary>
public abstract partial class CompositeBackend : IBackend
{
    /// <inheritdoc/>
    public abstract string Name { get; }
    /// <inheritdoc/>
    public abstract Storage Allocate(int length);
    /// <inheritdoc/>
    public abstract Storage AllocateUninitialized(int length);
    /// <inheritdoc/>
    public abstract void Release(Storage storage);
    /// <inheritdoc/>
    public abstract Storage FromArray(ReadOnlySpan<float> values);
    /// <inheritdoc/>
    public abstract void CopyTo(Storage source, Span<float> destination);
    /// <inheritdoc/>
    public abstract float GetItem(Storage storage, int index);
    /// <inheritdoc/>
    public abstract void SetItem(Storage storage, int index, float value);
    /// <inheritdoc/>
    public abstract void Fill(Storage storage, float value);
    /// <inheritdoc/>
    public abstract Storage AllocateIndices(int length);
    /// <inheritdoc/>
    public abstract Storage FromIndices(ReadOnlySpan<int> values);
    /// <inheritdoc/>
    public abstract void CopyIndicesTo(Storage source, Span<int> destination);
    /// <inheritdoc/>
    public abstract void IndicesToFloat(Storage indices, Storage values);
    /// <inheritdoc/>
    public abstract void Unary(UnaryOp op, Storage x, Storage y);
    /// <inheritdoc/>
    public abstract void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape);
    /// <inheritdoc/>
    public abstract void Reduce(ReduceOp op, Storage x, int outer, int extent, int inner, Storage y);
    /// <inheritdoc/>
    public abstract void ArgMax(Storage x, int outer, int extent, int inner, Storage y);
    /// <inheritdoc/>
    public abstract void Permute(Storage x, int[] xShape, int[] dims, Storage y);
    /// <inheritdoc/>
    public abstract void CopyBlocks(Storage source, Storage destination, BlockCopy copy);
    /// <inheritdoc/>
    public abstract void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, Storage a, int aOffset, int lda, Storage b, int bOffset, int ldb, float beta, Storage c, int cOffset, int ldc);
    /// <inheritdoc/>
    public abstract void Activation(ActivationOp op, float parameter, Storage x, Storage y);
    /// <inheritdoc/>
    public abstract void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX);
    /// <inheritdoc/>
    public abstract void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f);
    /// <inheritdoc/>
    public abstract void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry);
    /// <inheritdoc/>
    public abstract void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry);
    /// <inheritdoc/>
    public abstract int Gather(Storage x, int outer, int extent, int inner, Storage index, int count, Storage y);
    /// <inheritdoc/>
    public abstract void GatherBackward(Storage gradY, Storage index, int outer, int extent, int inner, int count, Storage gradX);
    /// <inheritdoc/>
    public abstract void IndexSelect(Storage x, int outer, int extent, int inner, int[] indices, Storage y);
    /// <inheritdoc/>
    public abstract void IndexSelectBackward(Storage gradY, int outer, int extent, int inner, int[] indices, Storage gradX);
    /// <inheritdoc/>
    public abstract void Where(Storage condition, Storage a, Storage b, Storage y);
    /// <inheritdoc/>
    public abstract void Sort(Storage x, int outer, int extent, int inner, bool descending, Storage values, Storage indices);
    /// <inheritdoc/>
    public abstract void MaxPool2d(Storage x, Pool2dGeometry geometry, Storage y, Storage argmax);
    /// <inheritdoc/>
    public abstract void MaxPool2dBackward(Storage gradY, Storage argmax, Pool2dGeometry geometry, Storage gradX);
    /// <inheritdoc/>
    public abstract void AvgPool2d(Storage x, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage y);
    /// <inheritdoc/>
    public abstract void AvgPool2dBackward(Storage gradY, Pool2dGeometry geometry, bool countIncludePad, int divisorOverride, Storage gradX);
    /// <inheritdoc/>
    public abstract void RoiPool(Storage x, Storage boxes, RoiGeometry geometry, Storage y, Storage argmax);
    /// <inheritdoc/>
    public abstract void RoiPoolBackward(Storage gradY, Storage boxes, Storage argmax, RoiGeometry geometry, Storage gradX);
    /// <inheritdoc/>
    public abstract void RoiAlign(Storage x, Storage boxes, RoiGeometry geometry, Storage y);
    /// <inheritdoc/>
    public abstract void RoiAlignBackward(Storage gradY, Storage boxes, RoiGeometry geometry, Storage gradX);
    /// <inheritdoc/>
    public abstract void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y);
    /// <inheritdoc/>
    public abstract void UpsampleNearest(Storage x, UpsampleGeometry geometry, Storage y);
    /// <inheritdoc/>
    public abstract void UpsampleNearestBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX);
    /// <inheritdoc/>
    public abstract void UpsampleBilinear(Storage x, UpsampleGeometry geometry, Storage y);
    /// <inheritdoc/>
    public abstract void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry geometry, Storage gradX);

    // ----- helpers the composites share -------------------------------------------------------------------

    /// <summary>A one-value buffer holding <paramref name="value"/>, broadcast as a rank-0 operand.</summary>
    Storage Number(float value) => FromArray([value]);

    /// <summary>y = a op b for buffers of one length <paramref name="length"/> or rank-0 numbers (<see cref="Number"/>).</summary>
    void Apply(BinaryOp op, Storage a, Storage b, Storage y, int length) =>
        Binary(op, a, a.Length == 1 && length != 1 ? Scalar : [length], b, b.Length == 1 && length != 1 ? Scalar : [length], y, [length]);

    /// <summary>A new buffer a op b, numbers broadcast as above.</summary>
    Storage Apply(BinaryOp op, Storage a, Storage b, int length)
    {
        var y = AllocateUninitialized(length);
        Apply(op, a, b, y, length);
        return y;
    }

    /// <summary>A new buffer a op number.</summary>
    Storage Apply(BinaryOp op, Storage a, float number, int length) => Apply(op, a, Number(number), length);

    static readonly int[] Scalar = [];
}
