namespace ConvKit.Backends;

// Batch and layer normalisation from reductions and broadcasting arithmetic: per-channel sums over (batch, spatial)
// are two reductions, batch then spatial; per-row statistics of layer norm are one.
public abstract partial class CompositeBackend
{
    /// <inheritdoc/>
    public virtual void BatchNormStatistics(Storage x, int batch, int channels, int spatial, Storage mean, Storage variance)
    {
        float count = (float)batch * spatial;
        ChannelSum(x, batch, channels, spatial, mean);
        Apply(BinaryOp.Div, mean, Number(count), mean, channels);
        var centered = AllocateUninitialized(x.Length);
        Binary(BinaryOp.Sub, x, [batch, channels, spatial], mean, [1, channels, 1], centered, [batch, channels, spatial]);
        Unary(UnaryOp.Square, centered, centered);
        ChannelSum(centered, batch, channels, spatial, variance);
        Apply(BinaryOp.Div, variance, Number(count), variance, channels);
    }

    /// <inheritdoc/>
    public virtual void BatchNormNormalize(Storage x, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, Storage? bias, Storage y)
    {
        int[] full = [batch, channels, spatial], perChannel = [1, channels, 1];
        Binary(BinaryOp.Sub, x, full, mean, perChannel, y, full);
        Binary(BinaryOp.Mul, y, full, invStd, perChannel, y, full);
        if (weight != null) Binary(BinaryOp.Mul, y, full, weight, perChannel, y, full);
        if (bias != null) Binary(BinaryOp.Add, y, full, bias, perChannel, y, full);
    }

    /// <inheritdoc/>
    public virtual void BatchNormBackward(Storage x, Storage gradY, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, bool batchStatistics, Storage? gradX, Storage gradWeight, Storage gradBias)
    {
        int[] full = [batch, channels, spatial], perChannel = [1, channels, 1];
        var normalized = AllocateUninitialized(x.Length);
        BatchNormNormalize(x, batch, channels, spatial, mean, invStd, null, null, normalized);
        ChannelSum(gradY, batch, channels, spatial, gradBias);
        ChannelSum(Apply(BinaryOp.Mul, gradY, normalized, x.Length), batch, channels, spatial, gradWeight);
        if (gradX == null) return;
        var scale = weight == null ? invStd : Apply(BinaryOp.Mul, invStd, weight, channels);
        if (batchStatistics)
        {
            // gradY − mean(gradY) − x̂·mean(gradY·x̂), the means per channel: gradBias and gradWeight over the count.
            float count = (float)batch * spatial;
            var meanGrad = Apply(BinaryOp.Div, gradBias, count, channels);
            var meanProduct = Apply(BinaryOp.Div, gradWeight, count, channels);
            Binary(BinaryOp.Mul, normalized, full, meanProduct, perChannel, normalized, full);
            Binary(BinaryOp.Sub, gradY, full, meanGrad, perChannel, gradX, full);
            Apply(BinaryOp.Sub, gradX, normalized, gradX, x.Length);
            Binary(BinaryOp.Mul, gradX, full, scale, perChannel, gradX, full);
        }
        else Binary(BinaryOp.Mul, gradY, full, scale, perChannel, gradX, full);
    }

    /// <summary>sum[c] = Σ x[b, c, s] over batch and spatial positions, into <paramref name="sum"/> (channels values).</summary>
    void ChannelSum(Storage x, int batch, int channels, int spatial, Storage sum)
    {
        var overBatch = AllocateUninitialized(channels * spatial);
        Reduce(ReduceOp.Sum, x, 1, batch, channels * spatial, overBatch);
        Reduce(ReduceOp.Sum, overBatch, channels, spatial, 1, sum);
    }

    /// <inheritdoc/>
    public virtual void LayerNorm(Storage x, int rows, int features, Storage? weight, Storage? bias, float eps, Storage y, Storage mean, Storage invStd)
    {
        int[] full = [rows, features], perRow = [rows, 1], perFeature = [1, features];
        Reduce(ReduceOp.Sum, x, rows, features, 1, mean);
        Apply(BinaryOp.Div, mean, Number(features), mean, rows);
        Binary(BinaryOp.Sub, x, full, mean, perRow, y, full);
        var squares = AllocateUninitialized(x.Length);
        Unary(UnaryOp.Square, y, squares);
        Reduce(ReduceOp.Sum, squares, rows, features, 1, invStd);
        // invStd = 1/√(variance + eps)
        Apply(BinaryOp.Div, invStd, Number(features), invStd, rows);
        Apply(BinaryOp.Add, invStd, Number(eps), invStd, rows);
        Unary(UnaryOp.Sqrt, invStd, invStd);
        Apply(BinaryOp.Div, Number(1), invStd, invStd, rows);
        Binary(BinaryOp.Mul, y, full, invStd, perRow, y, full);
        if (weight != null) Binary(BinaryOp.Mul, y, full, weight, perFeature, y, full);
        if (bias != null) Binary(BinaryOp.Add, y, full, bias, perFeature, y, full);
    }

    /// <inheritdoc/>
    public virtual void LayerNormBackward(Storage x, Storage gradY, int rows, int features, Storage mean, Storage invStd, Storage? weight,
        Storage? gradX, Storage? gradWeight, Storage? gradBias)
    {
        int[] full = [rows, features], perRow = [rows, 1], perFeature = [1, features];
        var normalized = AllocateUninitialized(x.Length);
        Binary(BinaryOp.Sub, x, full, mean, perRow, normalized, full);
        Binary(BinaryOp.Mul, normalized, full, invStd, perRow, normalized, full);
        if (gradBias != null) Reduce(ReduceOp.Sum, gradY, 1, rows, features, gradBias);
        if (gradWeight != null) Reduce(ReduceOp.Sum, Apply(BinaryOp.Mul, gradY, normalized, x.Length), 1, rows, features, gradWeight);
        if (gradX == null) return;
        // ĝ = gradY·weight; gradX = invStd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), the means per row.
        var scaled = AllocateUninitialized(x.Length);
        if (weight != null) Binary(BinaryOp.Mul, gradY, full, weight, perFeature, scaled, full);
        else Copy(gradY, scaled);
        var meanGrad = AllocateUninitialized(rows);
        Reduce(ReduceOp.Sum, scaled, rows, features, 1, meanGrad);
        Apply(BinaryOp.Div, meanGrad, Number(features), meanGrad, rows);
        var meanProduct = AllocateUninitialized(rows);
        Reduce(ReduceOp.Sum, Apply(BinaryOp.Mul, scaled, normalized, x.Length), rows, features, 1, meanProduct);
        Apply(BinaryOp.Div, meanProduct, Number(features), meanProduct, rows);
        Binary(BinaryOp.Mul, normalized, full, meanProduct, perRow, normalized, full);
        Binary(BinaryOp.Sub, scaled, full, meanGrad, perRow, gradX, full);
        Apply(BinaryOp.Sub, gradX, normalized, gradX, x.Length);
        Binary(BinaryOp.Mul, gradX, full, invStd, perRow, gradX, full);
    }
}
