using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// 2-D transposed convolution layer, as torch.nn.ConvTranspose2d (U-Net's up-sampling): with stride s it makes
/// the image about s times larger. Parameters <c>weight</c> (in, out/groups, kH, kW) and <c>bias</c> (out), both
/// initialised from U(−1/√fan_in, 1/√fan_in) with PyTorch's fan_in for this layout, out/groups·kH·kW.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>Channels of the input, C_in.</summary>
    public int InChannels { get; }
    /// <summary>Channels of the output, C_out.</summary>
    public int OutChannels { get; }
    /// <summary>Height and width of the kernel (kH, kW).</summary>
    public Size2 KernelSize { get; }
    /// <summary>Up-sampling step: each input value scatters the kernel this far apart in the output.</summary>
    public Size2 Stride { get; }
    /// <summary>Rows/columns trimmed from each side of the output.</summary>
    public Size2 Padding { get; }
    /// <summary>Rows/columns added at the bottom/right of the output (less than the stride or the dilation).</summary>
    public Size2 OutputPadding { get; }
    /// <summary>Channel groups handled separately.</summary>
    public int Groups { get; }
    /// <summary>Spacing between kernel taps, per side (1: adjacent).</summary>
    public Size2 Dilation { get; }
    /// <summary>(in, out/groups, kH, kW)</summary>
    public Tensor Weight { get; }
    /// <summary>(out), or null when built with bias: false.</summary>
    public Tensor? Bias { get; }

    /// <param name="random">source of the initial values (seed it for reproducible weights); Generator.Current when null</param>
    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? outputPadding = null, int groups = 1, bool bias = true, Size2? dilation = null, Random? random = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
        Groups = groups;
        Dilation = dilation ?? 1;
        const string name = "ConvTranspose2d";
        ConvolutionChecks.Channels(name, inChannels, outChannels, groups);
        ConvolutionChecks.Positive(name, "kernelSize", KernelSize);
        ConvolutionChecks.Positive(name, "stride", Stride);
        ConvolutionChecks.Positive(name, "dilation", Dilation);
        ConvolutionChecks.NonNegative(name, "padding", Padding);
        ConvolutionChecks.NonNegative(name, "outputPadding", OutputPadding);
        if (OutputPadding.Height >= Math.Max(Stride.Height, Dilation.Height) || OutputPadding.Width >= Math.Max(Stride.Width, Dilation.Width))
            throw new ArgumentException($"{name}: outputPadding {OutputPadding} must be smaller than the stride {Stride} or the dilation {Dilation}.");

        Weight = RegisterParameter("weight", Tensor.Zeros([inChannels, outChannels / groups, KernelSize.Height, KernelSize.Width]));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
        Init.LayerDefault(Weight, Bias, random);
    }

    /// <summary>The output shape for an input of shape (N, in, H, W); throws ArgumentException naming this layer and both shapes when it does not fit.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        var g = ConvShapes.ConvTranspose2d(Describe(), inputShape, Weight.Shape.ToArray(), Bias?.Shape.ToArray(),
            Stride, Padding, OutputPadding, Dilation, Groups);
        return [g.Batch, g.InChannels, g.InHeight, g.InWidth];
    }

    /// <param name="input">(N, in, H, W)</param>
    /// <returns>(N, out, (H − 1)s − 2p + d(kH − 1) + outputPadding + 1, likewise for W)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        OutputShapeCore(input.Shape.ToArray());
        return F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"ConvTranspose2d({InChannels}, {OutChannels}, kernelSize={KernelSize}, stride={Stride}"
        + (Padding == (Size2)0 ? "" : $", padding={Padding}")
        + (OutputPadding == (Size2)0 ? "" : $", outputPadding={OutputPadding}")
        + (Groups == 1 ? "" : $", groups={Groups}")
        + (Dilation == (Size2)1 ? "" : $", dilation={Dilation}")
        + (Bias == null ? ", bias=false" : "") + ")";
}
