namespace ConvKit.Backends.Reference;

// Convolution by its definition. Every (output position, kernel tap) pair that reads inside the input is one product
// x[n, ic, ih, iw]·w[oc, c, i, j] added into y[n, oc, oh, ow]; the three passes are the three ways of summing those
// products, each into a float64 accumulator.
public sealed partial class ReferenceBackend
{
    /// <summary>
    /// Calls <paramref name="term"/>(input index, weight index, output index) for every product of the convolution:
    /// output (oh, ow) of channel oc reads input rows oh·stride − padTop + i·dilation (columns likewise) of the input
    /// channels of oc's group.
    /// </summary>
    static void ForEachTerm(in ConvGeometry g, Action<int, int, int> term)
    {
        int cinG = g.InChannelsPerGroup, coutG = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                        for (int c = 0; c < cinG; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue; // zero padding
                                    int ic = oc / coutG * cinG + c;
                                    term(((n * g.InChannels + ic) * g.InHeight + ih) * g.InWidth + iw,
                                        ((oc * cinG + c) * g.KernelHeight + i) * g.KernelWidth + j,
                                        ((n * g.OutChannels + oc) * g.OutHeight + oh) * g.OutWidth + ow);
                                }
    }

    /// <inheritdoc/>
    public void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        float[] x = Data(input), w = Data(weight), y = Data(output);
        float[]? b = bias == null ? null : Data(bias);
        var sums = new double[y.Length];
        int plane = geometry.OutPlane, channels = geometry.OutChannels;
        if (b != null)
            for (int k = 0; k < sums.Length; k++) sums[k] = b[k / plane % channels];
        ForEachTerm(geometry, (xi, wi, yi) => sums[yi] += (double)x[xi] * w[wi]);
        for (int k = 0; k < y.Length; k++) y[k] = (float)sums[k];
        if (activation is { } op) Activation(op, activationParameter, output, output);
    }

    /// <inheritdoc/>
    public void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry)
    {
        float[] dy = Data(outputGrad), w = Data(weight), dx = Data(inputGrad);
        float[]? b = bias == null ? null : Data(bias);
        var sums = new double[dx.Length];
        int plane = geometry.InPlane, channels = geometry.InChannels;
        if (b != null)
            for (int k = 0; k < sums.Length; k++) sums[k] = b[k / plane % channels];
        ForEachTerm(geometry, (xi, wi, yi) => sums[xi] += (double)dy[yi] * w[wi]);
        for (int k = 0; k < dx.Length; k++) dx[k] = (float)sums[k];
    }

    /// <inheritdoc/>
    public void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry)
    {
        float[] x = Data(input), dy = Data(outputGrad), dw = Data(weightGrad);
        var sums = new double[dw.Length];
        ForEachTerm(geometry, (xi, wi, yi) => sums[wi] += (double)x[xi] * dy[yi]);
        for (int k = 0; k < dw.Length; k++) dw[k] = (float)sums[k];
    }
}
