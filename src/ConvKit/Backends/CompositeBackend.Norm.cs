namespace ConvKit.Backends;

// Local response normalisation from squares, shifted copies along the channel axis and element-wise arithmetic.
public abstract partial class CompositeBackend
{
    /// <inheritdoc/>
    public virtual void LocalResponseNorm(Storage x, int batch, int channels, int spatial, int size, float alpha, float beta, float k,
        Storage y, Storage scale)
    {
        int length = batch * channels * spatial;
        var squares = AllocateUninitialized(length);
        Unary(UnaryOp.Square, x, squares);
        // scale = k + alpha/size · Σ x² over channels [c − size/2, c + (size−1)/2].
        var sum = ChannelWindowSum(squares, batch, channels, spatial, -(size / 2), (size - 1) / 2);
        Apply(BinaryOp.Mul, sum, Number(alpha / size), sum, length);
        Apply(BinaryOp.Add, sum, Number(k), scale, length);
        var factor = AllocateUninitialized(length);
        PowScalar(scale, -beta, factor);
        Apply(BinaryOp.Mul, x, factor, y, length);
    }

    /// <inheritdoc/>
    public virtual void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage gradY, int batch, int channels, int spatial,
        int size, float alpha, float beta, Storage gradX)
    {
        int length = batch * channels * spatial;
        // gradX = gradY·scale^−beta − (2·alpha·beta/size)·x·Σ gradY·y/scale over channels [c − (size−1)/2, c + size/2].
        var ratio = Apply(BinaryOp.Div, Apply(BinaryOp.Mul, gradY, y, length), scale, length);
        var spread = ChannelWindowSum(ratio, batch, channels, spatial, -((size - 1) / 2), size / 2);
        Apply(BinaryOp.Mul, spread, x, spread, length);
        Apply(BinaryOp.Mul, spread, Number(2 * alpha * beta / size), spread, length);
        var direct = AllocateUninitialized(length);
        PowScalar(scale, -beta, direct);
        Apply(BinaryOp.Mul, direct, gradY, direct, length);
        Apply(BinaryOp.Sub, direct, spread, gradX, length);
    }

    /// <summary>
    /// sum[b, c, s] = Σ values[b, c + d, s] for d from <paramref name="from"/> to <paramref name="to"/>, channels outside
    /// [0, channels) counting as zero: one shifted copy and one addition per offset.
    /// </summary>
    Storage ChannelWindowSum(Storage values, int batch, int channels, int spatial, int from, int to)
    {
        int length = batch * channels * spatial, plane = channels * spatial;
        var sum = Allocate(length);
        var shifted = Allocate(length);
        for (int d = from; d <= to; d++)
        {
            int kept = channels - Math.Abs(d);
            if (kept <= 0) continue;
            // Channel c of `shifted` is channel c + d of the values; the channels that would read outside stay zero.
            if (d != from) Fill(shifted, 0);
            CopyBlocks(values, shifted, new BlockCopy(batch, 1, kept * spatial,
                Math.Max(d, 0) * spatial, plane, 0, Math.Max(-d, 0) * spatial, plane, 0));
            Apply(BinaryOp.Add, sum, shifted, sum, length);
        }
        return sum;
    }
}
