using ConvKit.Backends;

namespace ConvKit.Tests.Ops;

/// <summary>
/// The plain direct-loop convolution that defines what the fast kernels compute, in float64. Every
/// (output element, kernel tap) pair that reads inside the input is one term x[xi]·w[wi] of y[yi]; the three
/// passes are the three ways of summing those terms.
/// </summary>
static class ConvReference
{
    /// <summary>y[n, oc, oh, ow] = b[oc] + Σ_{c,i,j} w[oc, c, i, j] · x[n, group·C_in/g + c, oh·s − pt + i·d, ow·s − pl + j·d]</summary>
    public static double[] Forward(float[] x, float[] w, float[]? b, ConvGeometry g)
    {
        var y = new double[g.Batch * g.OutChannels * g.OutPlane];
        if (b != null)
            for (int i = 0; i < y.Length; i++) y[i] = b[i / g.OutPlane % g.OutChannels];
        foreach (var (xi, wi, yi) in Terms(g)) y[yi] += (double)x[xi] * w[wi];
        return y;
    }

    /// <summary>dx = Σ over terms of dy[yi]·w[wi] into dx[xi], plus b per input channel (the transposed convolution's bias).</summary>
    public static double[] BackwardData(float[] dy, float[] w, float[]? b, ConvGeometry g)
    {
        var dx = new double[g.Batch * g.InChannels * g.InPlane];
        if (b != null)
            for (int i = 0; i < dx.Length; i++) dx[i] = b[i / g.InPlane % g.InChannels];
        foreach (var (xi, wi, yi) in Terms(g)) dx[xi] += (double)dy[yi] * w[wi];
        return dx;
    }

    /// <summary>dw = Σ over terms of x[xi]·dy[yi] into dw[wi].</summary>
    public static double[] BackwardWeight(float[] x, float[] dy, ConvGeometry g)
    {
        var dw = new double[g.OutChannels * g.ColumnRows];
        foreach (var (xi, wi, yi) in Terms(g)) dw[wi] += (double)x[xi] * dy[yi];
        return dw;
    }

    /// <summary>Flat indices (input, weight, output) of every product in the convolution.</summary>
    static IEnumerable<(int X, int W, int Y)> Terms(ConvGeometry g)
    {
        int cinG = g.InChannelsPerGroup, coutG = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        int yi = ((n * g.OutChannels + oc) * g.OutHeight + oh) * g.OutWidth + ow;
                        for (int c = 0; c < cinG; c++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    int ic = oc / coutG * cinG + c;
                                    yield return (((n * g.InChannels + ic) * g.InHeight + ih) * g.InWidth + iw,
                                        ((oc * cinG + c) * g.KernelHeight + i) * g.KernelWidth + j, yi);
                                }
                    }
    }
}
