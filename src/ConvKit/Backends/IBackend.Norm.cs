namespace ConvKit.Backends;

// Normalisation kernels. Inputs are viewed as (batch, channels, spatial): spatial is the product of the axes
// after the channel axis (1 for (N, C) inputs). Per-channel vectors have `channels` values.
public partial interface IBackend
{
    /// <summary>Per-channel mean and biased variance of x over the batch and spatial axes.</summary>
    void BatchNormStatistics(Storage x, int batch, int channels, int spatial, Storage mean, Storage variance);

    /// <summary>y = (x − mean[c])·invStd[c]·weight[c] + bias[c]; a null weight is 1, a null bias 0.</summary>
    void BatchNormNormalize(Storage x, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, Storage? bias, Storage y);

    /// <summary>
    /// Backward of <see cref="BatchNormNormalize"/>, with x̂ = (x − mean)·invStd: gradBias[c] = Σ gradY and
    /// gradWeight[c] = Σ gradY·x̂ over batch and spatial axes. When <paramref name="gradX"/> is not null it receives
    /// weight·invStd·(gradY − mean(gradY) − x̂·mean(gradY·x̂)) if mean and invStd were this batch's own statistics
    /// (<paramref name="batchStatistics"/>), else weight·invStd·gradY (fixed running statistics).
    /// </summary>
    void BatchNormBackward(Storage x, Storage gradY, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, bool batchStatistics, Storage? gradX, Storage gradWeight, Storage gradBias);

    /// <summary>
    /// Local response normalisation across channels: scale = k + alpha/size · Σ x² over channels
    /// [c − size/2, c + (size−1)/2] (clipped; missing channels count as zero), y = x · scale^−beta.
    /// </summary>
    void LocalResponseNorm(Storage x, int batch, int channels, int spatial, int size, float alpha, float beta, float k,
        Storage y, Storage scale);

    /// <summary>
    /// gradX = gradY·scale^−beta − (2·alpha·beta/size)·x·Σ gradY·y/scale over channels [c − (size−1)/2, c + size/2],
    /// the channels whose window contains c.
    /// </summary>
    void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage gradY, int batch, int channels, int spatial,
        int size, float alpha, float beta, Storage gradX);

    /// <summary>
    /// Layer normalisation of x read as (rows, features): per row, mean[r] and invStd[r] = 1/√(biased variance + eps)
    /// are written, and y = (x − mean)·invStd·weight + bias with per-feature weight and bias (null: 1 and 0).
    /// </summary>
    void LayerNorm(Storage x, int rows, int features, Storage? weight, Storage? bias, float eps, Storage y, Storage mean, Storage invStd);

    /// <summary>
    /// Backward of <see cref="LayerNorm"/>, with x̂ = (x − mean)·invStd and ĝ = gradY·weight: gradX (when not null) =
    /// invStd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per row; gradWeight = Σ gradY·x̂ and gradBias = Σ gradY over rows (when not null).
    /// </summary>
    void LayerNormBackward(Storage x, Storage gradY, int rows, int features, Storage mean, Storage invStd, Storage? weight,
        Storage? gradX, Storage? gradWeight, Storage? gradBias);
}
