using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Convolution by explicit GEMM, as cuDNN's classic path: im2col unrolls the input patches of a run of samples into a
// column matrix (one row per (input channel, kernel row, kernel column), one column per output position), then one
// GEMM per (sample, group) with the backend's own Gemm. The column rows of a group are contiguous (channel-major), so
// each group's matrix is a slice at an offset. Depthwise convolutions (one input channel per group) skip the GEMM: a
// product of k = kH·kW per group would be one launch per channel for almost no work, so direct kernels do them.
// All three passes overwrite their output, as the reference does.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, ConvGeometry, int, ArrayView<float>, ArrayView<float>>? im2col;
    Action<AcceleratorStream, Index1D, Work, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>? col2im;
    Action<AcceleratorStream, Index1D, Work, int, int, int, int, float, ArrayView<float>, ArrayView<float>>? convEpilogue;
    Action<AcceleratorStream, Index1D, Work, ConvGeometry, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? depthwiseForward;
    Action<AcceleratorStream, Index1D, Work, ConvGeometry, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? depthwiseBackwardData;
    Action<AcceleratorStream, Index1D, Work, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>>? depthwiseBackwardWeight;

    /// <summary>Most floats one column buffer holds (64 MiB): im2col covers as many samples at once as fit, at least one.</summary>
    const int ColumnBudget = 1 << 24;

    /// <summary>No activation in the epilogue (ActivationOp's values are 0 and up).</summary>
    const int NoActivation = -1;

    /// <summary>Samples per im2col/col2im launch, and the column buffer's floats per sample (all groups).</summary>
    static (int Chunk, long PerSample) Chunking(in ConvGeometry g)
    {
        long perSample = (long)g.InChannels * g.KernelArea * g.OutPlane;
        int chunk = (int)Math.Clamp(ColumnBudget / Math.Max(perSample, 1), 1, Math.Max(g.Batch, 1));
        return (chunk, perSample);
    }

    /// <inheritdoc/>
    public override void ConvForward(Storage input, Storage weight, Storage? bias, Storage output, in ConvGeometry geometry,
        ActivationOp? activation = null, float activationParameter = 0f)
    {
        var g = geometry;
        int op = activation is { } a ? (int)a : NoActivation;
        if (output.Length == 0) return;
        if (g.IsDepthwise)
        {
            var (t, w) = For(output.Length);
            Load(ref depthwiseForward, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ConvGeometry, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DepthwiseForwardKernel))(
                Stream, t, w, g, bias != null ? 1 : 0, op, activationParameter, Data(input), Data(weight), Data(bias ?? output), Data(output));
            return;
        }
        int groups = g.Groups, coutG = g.OutChannelsPerGroup, rows = g.ColumnRows, plane = g.OutPlane;
        if (rows == 0) Fill(output, 0); // no taps: the sums are empty
        else if (g.IsPointwise)
        {
            // 1×1, unit stride, no padding: the input plane is the column matrix already.
            for (int n = 0; n < g.Batch; n++)
                for (int gr = 0; gr < groups; gr++)
                    Gemm(false, false, coutG, plane, rows, 1f, weight, gr * coutG * rows, rows,
                        input, (n * g.InChannels + gr * rows) * g.InPlane, g.InPlane, 0f, output, (n * g.OutChannels + gr * coutG) * plane, plane);
        }
        else
        {
            int outChannels = g.OutChannels;
            ForEachSampleColumns(g, input, (n, columns, at) =>
            {
                for (int gr = 0; gr < groups; gr++)
                    Gemm(false, false, coutG, plane, rows, 1f, weight, gr * coutG * rows, rows,
                        columns, at + gr * rows * plane, plane, 0f, output, (n * outChannels + gr * coutG) * plane, plane);
            });
        }
        if (bias != null || op != NoActivation) Epilogue(plane, g.OutChannels, bias, op, activationParameter, output);
    }

    /// <inheritdoc/>
    public override void ConvBackwardData(Storage outputGrad, Storage weight, Storage? bias, Storage inputGrad, in ConvGeometry geometry)
    {
        var g = geometry;
        if (inputGrad.Length == 0) return;
        if (g.IsDepthwise)
        {
            var (t, w) = For(inputGrad.Length);
            Load(ref depthwiseBackwardData, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ConvGeometry, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DepthwiseBackwardDataKernel))(
                Stream, t, w, g, bias != null ? 1 : 0, Data(outputGrad), Data(weight), Data(bias ?? inputGrad), Data(inputGrad));
            return;
        }
        int groups = g.Groups, coutG = g.OutChannelsPerGroup, rows = g.ColumnRows, plane = g.OutPlane;
        if (g.IsPointwise && coutG > 0)
        {
            // The GEMM's rows are the input channels themselves: it writes inputGrad directly.
            for (int n = 0; n < g.Batch; n++)
                for (int gr = 0; gr < groups; gr++)
                    Gemm(true, false, rows, plane, coutG, 1f, weight, gr * coutG * rows, rows,
                        outputGrad, (n * g.OutChannels + gr * coutG) * plane, plane, 0f, inputGrad, (n * g.InChannels + gr * rows) * g.InPlane, g.InPlane);
            if (bias != null) Epilogue(g.InPlane, g.InChannels, bias, NoActivation, 0f, inputGrad);
            return;
        }
        var (chunk, perSample) = Chunking(g);
        var columns = AllocateUninitialized((int)(chunk * perSample));
        if (coutG == 0) Fill(columns, 0); // no output channels: every column entry is an empty sum
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = Math.Min(chunk, g.Batch - n0);
            // columns = Wᵀ·gradOut per group: the contribution of each output position to each input tap.
            if (coutG > 0)
                for (int s = 0; s < count; s++)
                    for (int gr = 0; gr < groups; gr++)
                        Gemm(true, false, rows, plane, coutG, 1f, weight, gr * coutG * rows, rows,
                            outputGrad, ((n0 + s) * g.OutChannels + gr * coutG) * plane, plane, 0f, columns, (int)(s * perSample) + gr * rows * plane, plane);
            var (t, w) = For((long)count * g.InChannels * g.InPlane);
            Load(ref col2im, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ConvGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Col2ImKernel))(
                Stream, t, w, g, n0, bias != null ? 1 : 0, Data(columns), Data(bias ?? inputGrad), Data(inputGrad));
        }
        Release(columns);
    }

    /// <inheritdoc/>
    public override void ConvBackwardWeight(Storage input, Storage outputGrad, Storage weightGrad, in ConvGeometry geometry)
    {
        var g = geometry;
        if (weightGrad.Length == 0) return;
        int groups = g.Groups, coutG = g.OutChannelsPerGroup, rows = g.ColumnRows, plane = g.OutPlane;
        if (g.Batch == 0 || plane == 0)
        {
            Fill(weightGrad, 0); // no positions: every sum is empty
            return;
        }
        if (g.IsDepthwise)
        {
            var (t, w) = For(weightGrad.Length);
            Load(ref depthwiseBackwardWeight, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ConvGeometry, ArrayView<float>, ArrayView<float>, ArrayView<float>>(DepthwiseBackwardWeightKernel))(
                Stream, t, w, g, Data(input), Data(outputGrad), Data(weightGrad));
            return;
        }
        // weightGrad_g = Σ_n gradOut[n, g]·columns[n, g]ᵀ: the first sample overwrites (beta 0), the rest accumulate.
        if (g.IsPointwise)
        {
            for (int n = 0; n < g.Batch; n++)
                for (int gr = 0; gr < groups; gr++)
                    Gemm(false, true, coutG, rows, plane, 1f, outputGrad, (n * g.OutChannels + gr * coutG) * plane, plane,
                        input, (n * g.InChannels + gr * rows) * g.InPlane, g.InPlane, n == 0 ? 0f : 1f, weightGrad, gr * coutG * rows, rows);
            return;
        }
        int outChannels = g.OutChannels;
        ForEachSampleColumns(g, input, (n, columns, at) =>
        {
            for (int gr = 0; gr < groups; gr++)
                Gemm(false, true, coutG, rows, plane, 1f, outputGrad, (n * outChannels + gr * coutG) * plane, plane,
                    columns, at + gr * rows * plane, plane, n == 0 ? 0f : 1f, weightGrad, gr * coutG * rows, rows);
        });
    }

    /// <summary>
    /// Lays out the column matrices of a run of samples at once (im2col), as many as fit the budget, then calls
    /// <paramref name="sample"/>(n, columns, offset of sample n's matrix) for each sample in order.
    /// </summary>
    void ForEachSampleColumns(in ConvGeometry g, Storage input, Action<int, Storage, int> sample)
    {
        var (chunk, perSample) = Chunking(g);
        var columns = AllocateUninitialized((int)(chunk * perSample));
        for (int n0 = 0; n0 < g.Batch; n0 += chunk)
        {
            int count = Math.Min(chunk, g.Batch - n0);
            Im2Col(g, n0, count, input, columns);
            for (int s = 0; s < count; s++) sample(n0 + s, columns, (int)(s * perSample));
        }
        Release(columns);
    }

    // ----- im2col and col2im ------------------------------------------------------------------------------------

    /// <summary>The column matrices of samples <paramref name="first"/> to first + count − 1, one after another.</summary>
    void Im2Col(in ConvGeometry g, int first, int count, Storage input, Storage columns)
    {
        var (t, w) = For((long)count * g.InChannels * g.KernelArea * g.OutPlane);
        Load(ref im2col, acc => acc.LoadAutoGroupedKernel<Index1D, Work, ConvGeometry, int, ArrayView<float>, ArrayView<float>>(Im2ColKernel))(
            Stream, t, w, g, first, Data(input), Data(columns));
    }

    /// <summary>columns[s, (ic, i, j), (oh, ow)] = input[first + s, ic, oh·stride − pad + i·dilation, ...], zero outside.</summary>
    static void Im2ColKernel(Index1D t, Work w, ConvGeometry g, int first, ArrayView<float> x, ArrayView<float> col)
    {
        int plane = g.OutPlane, area = g.KernelArea, rows = g.InChannels * area;
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e % plane, r = e / plane;
            int s = r / rows;
            r -= s * rows;
            int ic = r / area, tap = r - ic * area;
            int i = tap / g.KernelWidth, j = tap - i * g.KernelWidth;
            int oh = p / g.OutWidth, ow = p - oh * g.OutWidth;
            int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
            int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
            col[e] = ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth
                ? x[(((first + s) * g.InChannels + ic) * g.InHeight + ih) * g.InWidth + iw]
                : 0f;
        }
    }

    /// <summary>
    /// col2im as a gather: each input element of samples first... sums the column entries whose tap reads it (the
    /// output positions oh with oh·stride − pad + i·dilation = ih), plus its channel's bias, and overwrites inputGrad.
    /// No two threads write one place, so no atomics.
    /// </summary>
    static void Col2ImKernel(Index1D t, Work w, ConvGeometry g, int first, int hasBias, ArrayView<float> col, ArrayView<float> bias, ArrayView<float> dx)
    {
        int plane = g.OutPlane, area = g.KernelArea, inPlane = g.InPlane;
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int q = e % inPlane, r = e / inPlane; // r = s·C_in + ic
            int ic = r % g.InChannels;
            int ih = q / g.InWidth, iw = q - ih * g.InWidth;
            float sum = 0;
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int oh = OutputReading(ih, g.PadTop, i * g.DilationHeight, g.StrideHeight, g.OutHeight);
                if (oh < 0) continue;
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    int ow = OutputReading(iw, g.PadLeft, j * g.DilationWidth, g.StrideWidth, g.OutWidth);
                    if (ow < 0) continue;
                    sum += col[(r * area + i * g.KernelWidth + j) * plane + oh * g.OutWidth + ow];
                }
            }
            if (hasBias != 0) sum += bias[ic];
            dx[first * g.InChannels * inPlane + e] = sum;
        }
    }

    // ----- epilogue ---------------------------------------------------------------------------------------------

    /// <summary>y = activation(y + bias[channel]) in place over (N, channels, plane); either part may be absent.</summary>
    void Epilogue(int plane, int channels, Storage? bias, int op, float parameter, Storage y)
    {
        var (t, w) = For(y.Length);
        Load(ref convEpilogue, acc => acc.LoadAutoGroupedKernel<Index1D, Work, int, int, int, int, float, ArrayView<float>, ArrayView<float>>(ConvEpilogueKernel))(
            Stream, t, w, plane, channels, bias != null ? 1 : 0, op, parameter, Data(bias ?? y), Data(y));
    }

    static void ConvEpilogueKernel(Index1D t, Work w, int plane, int channels, int hasBias, int op, float parameter, ArrayView<float> bias, ArrayView<float> y)
    {
        for (int e = t; e < w.Count; e += w.Stride)
        {
            float v = y[e];
            if (hasBias != 0) v += bias[e / plane % channels];
            y[e] = op == NoActivation ? v : Activate(op, parameter, v);
        }
    }

    // ----- depthwise ------------------------------------------------------------------------------------------

    /// <summary>One output element per step: the kH·kW taps of its one input channel, then bias and activation.</summary>
    static void DepthwiseForwardKernel(Index1D t, Work w, ConvGeometry g, int hasBias, int op, float parameter,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y)
    {
        int plane = g.OutPlane, coutG = g.OutChannelsPerGroup;
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int p = e % plane, r = e / plane; // r = n·C_out + oc
            int oc = r % g.OutChannels, n = r / g.OutChannels;
            int oh = p / g.OutWidth, ow = p - oh * g.OutWidth;
            int xBase = (n * g.InChannels + oc / coutG) * g.InPlane, wBase = oc * g.KernelArea;
            float sum = 0;
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                if (ih < 0 || ih >= g.InHeight) continue;
                for (int j = 0; j < g.KernelWidth; j++)
                {
                    int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                    if (iw < 0 || iw >= g.InWidth) continue;
                    sum += x[xBase + ih * g.InWidth + iw] * weight[wBase + i * g.KernelWidth + j];
                }
            }
            if (hasBias != 0) sum += bias[oc];
            y[e] = op == NoActivation ? sum : Activate(op, parameter, sum);
        }
    }

    /// <summary>
    /// The output position o whose tap at <paramref name="tapOffset"/> (i·dilation) reads input position
    /// <paramref name="input"/> (o·stride − pad + tapOffset = input), or −1 when none does.
    /// </summary>
    static int OutputReading(int input, int pad, int tapOffset, int stride, int outputs)
    {
        int shifted = input + pad - tapOffset;
        if (shifted < 0 || shifted % stride != 0) return -1;
        int o = shifted / stride;
        return o < outputs ? o : -1;
    }

    /// <summary>One input element per step: the gather of col2im over the output channels of its group, plus bias.</summary>
    static void DepthwiseBackwardDataKernel(Index1D t, Work w, ConvGeometry g, int hasBias,
        ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> dx)
    {
        int inPlane = g.InPlane, coutG = g.OutChannelsPerGroup;
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int q = e % inPlane, r = e / inPlane; // r = n·C_in + ic
            int ic = r % g.InChannels, n = r / g.InChannels;
            int ih = q / g.InWidth, iw = q - ih * g.InWidth;
            float sum = 0;
            for (int m = 0; m < coutG; m++)
            {
                int oc = ic * coutG + m;
                int yBase = (n * g.OutChannels + oc) * g.OutPlane, wBase = oc * g.KernelArea;
                for (int i = 0; i < g.KernelHeight; i++)
                {
                    int oh = OutputReading(ih, g.PadTop, i * g.DilationHeight, g.StrideHeight, g.OutHeight);
                    if (oh < 0) continue;
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        int ow = OutputReading(iw, g.PadLeft, j * g.DilationWidth, g.StrideWidth, g.OutWidth);
                        if (ow < 0) continue;
                        sum += dy[yBase + oh * g.OutWidth + ow] * weight[wBase + i * g.KernelWidth + j];
                    }
                }
            }
            if (hasBias != 0) sum += bias[ic];
            dx[e] = sum;
        }
    }

    /// <summary>One weight per step: the sum over the batch and the output positions of gradOut times the input it read.</summary>
    static void DepthwiseBackwardWeightKernel(Index1D t, Work w, ConvGeometry g, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw)
    {
        int area = g.KernelArea, coutG = g.OutChannelsPerGroup;
        for (int e = t; e < w.Count; e += w.Stride)
        {
            int tap = e % area, oc = e / area;
            int i = tap / g.KernelWidth, j = tap - i * g.KernelWidth;
            int ic = oc / coutG;
            // The output rows and columns whose tap (i, j) reads inside the input.
            int ohStart = CeilDiv(g.PadTop - i * g.DilationHeight, g.StrideHeight);
            int ohEnd = Math.Min(g.OutHeight, CeilDiv(g.InHeight + g.PadTop - i * g.DilationHeight, g.StrideHeight));
            int owStart = CeilDiv(g.PadLeft - j * g.DilationWidth, g.StrideWidth);
            int owEnd = Math.Min(g.OutWidth, CeilDiv(g.InWidth + g.PadLeft - j * g.DilationWidth, g.StrideWidth));
            if (ohStart < 0) ohStart = 0;
            if (owStart < 0) owStart = 0;
            float sum = 0;
            for (int n = 0; n < g.Batch; n++)
            {
                int xBase = (n * g.InChannels + ic) * g.InPlane, yBase = (n * g.OutChannels + oc) * g.OutPlane;
                for (int oh = ohStart; oh < ohEnd; oh++)
                {
                    int ih = oh * g.StrideHeight - g.PadTop + i * g.DilationHeight;
                    for (int ow = owStart; ow < owEnd; ow++)
                    {
                        int iw = ow * g.StrideWidth - g.PadLeft + j * g.DilationWidth;
                        sum += x[xBase + ih * g.InWidth + iw] * dy[yBase + oh * g.OutWidth + ow];
                    }
                }
            }
            dw[e] = sum;
        }
    }
}
