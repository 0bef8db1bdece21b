namespace ConvKit.Backends.Reference;

// Normalisation. Batch norm reads x as (batch, channels, spatial) and normalises each channel over batch and spatial
// positions; local response norm mixes neighbouring channels at each position; layer norm normalises each row.
public sealed partial class ReferenceBackend
{
    static int At3(int n, int c, int s, int channels, int spatial) => (n * channels + c) * spatial + s;

    /// <inheritdoc/>
    public void BatchNormStatistics(Storage x, int batch, int channels, int spatial, Storage mean, Storage variance)
    {
        float[] input = Data(x), means = Data(mean), variances = Data(variance);
        double count = (double)batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < batch; n++)
                for (int s = 0; s < spatial; s++) sum += input[At3(n, c, s, channels, spatial)];
            double center = sum / count;
            for (int n = 0; n < batch; n++)
                for (int s = 0; s < spatial; s++)
                {
                    double deviation = input[At3(n, c, s, channels, spatial)] - center;
                    squares += deviation * deviation;
                }
            means[c] = (float)center;
            variances[c] = (float)(squares / count); // biased: divided by the count, not count − 1
        }
    }

    /// <inheritdoc/>
    public void BatchNormNormalize(Storage x, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, Storage? bias, Storage y)
    {
        float[] input = Data(x), means = Data(mean), invStds = Data(invStd), output = Data(y);
        float[]? weights = weight == null ? null : Data(weight), biases = bias == null ? null : Data(bias);
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int s = 0; s < spatial; s++)
                {
                    int at = At3(n, c, s, channels, spatial);
                    double normalized = ((double)input[at] - means[c]) * invStds[c];
                    output[at] = (float)(normalized * (weights?[c] ?? 1) + (biases?[c] ?? 0));
                }
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Storage x, Storage gradY, int batch, int channels, int spatial, Storage mean, Storage invStd,
        Storage? weight, bool batchStatistics, Storage? gradX, Storage gradWeight, Storage gradBias)
    {
        float[] input = Data(x), outputGrad = Data(gradY), means = Data(mean), invStds = Data(invStd);
        float[] weightGrads = Data(gradWeight), biasGrads = Data(gradBias);
        float[]? weights = weight == null ? null : Data(weight), inputGrads = gradX == null ? null : Data(gradX);
        double count = (double)batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double Normalized(int at) => ((double)input[at] - means[c]) * invStds[c];
            double sumGrad = 0, sumGradNormalized = 0;
            for (int n = 0; n < batch; n++)
                for (int s = 0; s < spatial; s++)
                {
                    int at = At3(n, c, s, channels, spatial);
                    sumGrad += outputGrad[at];
                    sumGradNormalized += outputGrad[at] * Normalized(at);
                }
            biasGrads[c] = (float)sumGrad;
            weightGrads[c] = (float)sumGradNormalized;
            if (inputGrads == null) continue;
            double scale = (weights?[c] ?? 1) * (double)invStds[c];
            for (int n = 0; n < batch; n++)
                for (int s = 0; s < spatial; s++)
                {
                    int at = At3(n, c, s, channels, spatial);
                    // With this batch's statistics the mean and variance depend on x too, which removes the gradient's
                    // mean and its projection on x̂; with running statistics they are constants.
                    inputGrads[at] = (float)(batchStatistics
                        ? scale * (outputGrad[at] - sumGrad / count - Normalized(at) * sumGradNormalized / count)
                        : scale * outputGrad[at]);
                }
        }
    }

    /// <inheritdoc/>
    public void LocalResponseNorm(Storage x, int batch, int channels, int spatial, int size, float alpha, float beta, float k,
        Storage y, Storage scale)
    {
        float[] input = Data(x), output = Data(y), scales = Data(scale);
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int s = 0; s < spatial; s++)
                {
                    // The window [c − size/2, c + (size − 1)/2], clipped: missing channels add zero.
                    double squares = 0;
                    for (int j = Math.Max(c - size / 2, 0); j <= Math.Min(c + (size - 1) / 2, channels - 1); j++)
                    {
                        double v = input[At3(n, j, s, channels, spatial)];
                        squares += v * v;
                    }
                    int at = At3(n, c, s, channels, spatial);
                    double windowScale = k + alpha / size * squares;
                    scales[at] = (float)windowScale;
                    output[at] = (float)(input[at] * Math.Pow(windowScale, -beta));
                }
    }

    /// <inheritdoc/>
    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage gradY, int batch, int channels, int spatial,
        int size, float alpha, float beta, Storage gradX)
    {
        float[] input = Data(x), output = Data(y), scales = Data(scale), outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (int s = 0; s < spatial; s++)
                {
                    // x_c enters the scale of every channel whose window holds c: [c − (size − 1)/2, c + size/2].
                    double sum = 0;
                    for (int j = Math.Max(c - (size - 1) / 2, 0); j <= Math.Min(c + size / 2, channels - 1); j++)
                    {
                        int other = At3(n, j, s, channels, spatial);
                        sum += (double)outputGrad[other] * output[other] / scales[other];
                    }
                    int at = At3(n, c, s, channels, spatial);
                    inputGrad[at] = (float)(outputGrad[at] * Math.Pow(scales[at], -beta) - 2.0 * alpha * beta / size * input[at] * sum);
                }
    }

    /// <inheritdoc/>
    public void LayerNorm(Storage x, int rows, int features, Storage? weight, Storage? bias, float eps, Storage y, Storage mean, Storage invStd)
    {
        float[] input = Data(x), output = Data(y), means = Data(mean), invStds = Data(invStd);
        float[]? weights = weight == null ? null : Data(weight), biases = bias == null ? null : Data(bias);
        for (int r = 0; r < rows; r++)
        {
            double sum = 0, squares = 0;
            for (int f = 0; f < features; f++) sum += input[r * features + f];
            double center = sum / features;
            for (int f = 0; f < features; f++) squares += (input[r * features + f] - center) * (input[r * features + f] - center);
            double inverse = 1 / Math.Sqrt(squares / features + eps);
            means[r] = (float)center;
            invStds[r] = (float)inverse;
            for (int f = 0; f < features; f++)
                output[r * features + f] = (float)((input[r * features + f] - center) * inverse * (weights?[f] ?? 1) + (biases?[f] ?? 0));
        }
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Storage x, Storage gradY, int rows, int features, Storage mean, Storage invStd, Storage? weight,
        Storage? gradX, Storage? gradWeight, Storage? gradBias)
    {
        float[] input = Data(x), outputGrad = Data(gradY), means = Data(mean), invStds = Data(invStd);
        float[]? weights = weight == null ? null : Data(weight), inputGrads = gradX == null ? null : Data(gradX);
        float[]? weightGrads = gradWeight == null ? null : Data(gradWeight), biasGrads = gradBias == null ? null : Data(gradBias);
        var weightSums = new double[features];
        var biasSums = new double[features];
        for (int r = 0; r < rows; r++)
        {
            double Normalized(int f) => ((double)input[r * features + f] - means[r]) * invStds[r];
            double Scaled(int f) => outputGrad[r * features + f] * (double)(weights?[f] ?? 1); // ĝ = gradY·weight
            double meanScaled = 0, meanScaledNormalized = 0;
            for (int f = 0; f < features; f++)
            {
                meanScaled += Scaled(f) / features;
                meanScaledNormalized += Scaled(f) * Normalized(f) / features;
                weightSums[f] += outputGrad[r * features + f] * Normalized(f);
                biasSums[f] += outputGrad[r * features + f];
            }
            if (inputGrads != null)
                for (int f = 0; f < features; f++)
                    inputGrads[r * features + f] = (float)(invStds[r] * (Scaled(f) - meanScaled - Normalized(f) * meanScaledNormalized));
        }
        for (int f = 0; f < features; f++)
        {
            if (weightGrads != null) weightGrads[f] = (float)weightSums[f];
            if (biasGrads != null) biasGrads[f] = (float)biasSums[f];
        }
    }
}
