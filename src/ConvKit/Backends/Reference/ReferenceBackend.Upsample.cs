namespace ConvKit.Backends.Reference;

// Up-sampling: each output pixel reads the input pixel(s) its coordinate maps to, and the backward pass sends each
// output's gradient to the same pixels with the same weights.
public sealed partial class ReferenceBackend
{
    /// <summary>The input index output index <paramref name="i"/> copies: ⌊i·scale⌋ in float32, clipped to the input, as torch's 'nearest'.</summary>
    static int NearestSource(int i, int inputSize, int outputSize, float scale) =>
        // torch takes these two cases exactly; the general product may round just below an integer.
        outputSize == inputSize ? i : outputSize == 2 * inputSize ? i / 2 : Math.Min((int)MathF.Floor(i * scale), inputSize - 1);

    /// <inheritdoc/>
    public void UpsampleNearest(Storage x, UpsampleGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    int ih = NearestSource(oh, g.InputHeight, g.OutputHeight, g.ScaleHeight);
                    int iw = NearestSource(ow, g.InputWidth, g.OutputWidth, g.ScaleWidth);
                    output[(p * g.OutputHeight + oh) * g.OutputWidth + ow] = input[(p * g.InputHeight + ih) * g.InputWidth + iw];
                }
    }

    /// <inheritdoc/>
    public void UpsampleNearestBackward(Storage gradY, UpsampleGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    int ih = NearestSource(oh, g.InputHeight, g.OutputHeight, g.ScaleHeight);
                    int iw = NearestSource(ow, g.InputWidth, g.OutputWidth, g.ScaleWidth);
                    inputGrad[(p * g.InputHeight + ih) * g.InputWidth + iw] += outputGrad[(p * g.OutputHeight + oh) * g.OutputWidth + ow];
                }
    }

    /// <summary>
    /// The two input indices output index <paramref name="i"/> blends and the weight of the second: the source
    /// coordinate is scale·i with aligned corners, else scale·(i + ½) − ½ clipped at 0 (half-pixel centres), in float32.
    /// </summary>
    static (int Low, int High, float Fraction) LinearSource(int i, int inputSize, float scale, bool alignCorners)
    {
        float position = alignCorners ? scale * i : MathF.Max(scale * (i + 0.5f) - 0.5f, 0f);
        int low = (int)position;
        return (low, Math.Min(low + 1, inputSize - 1), position - low);
    }

    /// <inheritdoc/>
    public void UpsampleBilinear(Storage x, UpsampleGeometry g, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1, fh) = LinearSource(oh, g.InputHeight, g.ScaleHeight, g.AlignCorners);
                    var (w0, w1, fw) = LinearSource(ow, g.InputWidth, g.ScaleWidth, g.AlignCorners);
                    double Pixel(int h, int w) => input[(p * g.InputHeight + h) * g.InputWidth + w];
                    double top = (1 - fw) * Pixel(h0, w0) + fw * Pixel(h0, w1);
                    double bottom = (1 - fw) * Pixel(h1, w0) + fw * Pixel(h1, w1);
                    output[(p * g.OutputHeight + oh) * g.OutputWidth + ow] = (float)((1 - fh) * top + fh * bottom);
                }
    }

    /// <inheritdoc/>
    public void UpsampleBilinearBackward(Storage gradY, UpsampleGeometry g, Storage gradX)
    {
        float[] outputGrad = Data(gradY), inputGrad = Data(gradX);
        var sums = new double[inputGrad.Length];
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutputHeight; oh++)
                for (int ow = 0; ow < g.OutputWidth; ow++)
                {
                    var (h0, h1, fh) = LinearSource(oh, g.InputHeight, g.ScaleHeight, g.AlignCorners);
                    var (w0, w1, fw) = LinearSource(ow, g.InputWidth, g.ScaleWidth, g.AlignCorners);
                    double grad = outputGrad[(p * g.OutputHeight + oh) * g.OutputWidth + ow];
                    int plane = p * g.InputHeight;
                    sums[(plane + h0) * g.InputWidth + w0] += (1 - fh) * (1 - fw) * grad;
                    sums[(plane + h0) * g.InputWidth + w1] += (1 - fh) * fw * grad;
                    sums[(plane + h1) * g.InputWidth + w0] += fh * (1 - fw) * grad;
                    sums[(plane + h1) * g.InputWidth + w1] += fh * fw * grad;
                }
        for (int k = 0; k < inputGrad.Length; k++) inputGrad[k] += (float)sums[k];
    }
}
