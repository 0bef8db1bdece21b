namespace ConvKit.Backends;

// Kernels that are one or two broadcasting passes: copies, clamping, powers, expansion, the softmax family's
// companions, and max pooling without its argmax.
public abstract partial class CompositeBackend
{
    /// <inheritdoc/>
    public virtual void Copy(Storage source, Storage destination) =>
        CopyBlocks(source, destination, new BlockCopy(1, 1, source.Length, 0, 0, 0, 0, 0, 0));

    /// <inheritdoc/>
    public virtual void Clamp(Storage x, float min, float max, Storage y)
    {
        // Maximum and Minimum propagate NaN, as clamp does.
        Apply(BinaryOp.Maximum, x, Number(min), y, x.Length);
        Apply(BinaryOp.Minimum, y, Number(max), y, x.Length);
    }

    /// <inheritdoc/>
    public virtual void PowScalar(Storage x, float exponent, Storage y) => Apply(BinaryOp.Pow, x, Number(exponent), y, x.Length);

    /// <inheritdoc/>
    public virtual void Expand(Storage x, int[] xShape, Storage y, int[] yShape) =>
        Binary(BinaryOp.Mul, x, xShape, Number(1), Scalar, y, yShape); // ·1 keeps −0, NaN and infinities as they are

    /// <inheritdoc/>
    public virtual void Softmax(Storage x, int outer, int extent, int inner, Storage y)
    {
        LogSoftmax(x, outer, extent, inner, y);
        Unary(UnaryOp.Exp, y, y);
    }

    /// <inheritdoc/>
    public virtual void SoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx)
    {
        // dx = y ⊙ (dy − Σ dy ⊙ y)
        int[] full = [outer, extent, inner], line = [outer, 1, inner];
        var product = Apply(BinaryOp.Mul, dy, y, y.Length);
        var sum = AllocateUninitialized(outer * inner);
        Reduce(ReduceOp.Sum, product, outer, extent, inner, sum);
        Binary(BinaryOp.Sub, dy, full, sum, line, dx, full);
        Apply(BinaryOp.Mul, dx, y, dx, y.Length);
    }

    /// <inheritdoc/>
    public virtual void LogSoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx)
    {
        // dx = dy − exp(y) · Σ dy
        int[] full = [outer, extent, inner], line = [outer, 1, inner];
        var sum = AllocateUninitialized(outer * inner);
        Reduce(ReduceOp.Sum, dy, outer, extent, inner, sum);
        var softmax = AllocateUninitialized(y.Length);
        Unary(UnaryOp.Exp, y, softmax);
        Binary(BinaryOp.Mul, softmax, full, sum, line, softmax, full);
        Apply(BinaryOp.Sub, dy, softmax, dx, y.Length);
    }

    /// <inheritdoc/>
    public virtual void MaxPool2dValues(Storage x, Pool2dGeometry geometry, Storage y) =>
        MaxPool2d(x, geometry, y, AllocateIndices(geometry.Planes * geometry.OutputPlaneSize));
}
