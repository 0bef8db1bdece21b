using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// 2-D convolution layer, as torch.nn.Conv2d: <c>new Conv2d(3, 64, kernelSize: 3, padding: 1)</c>.
/// Parameters <c>weight</c> (out, in/groups, kH, kW) and <c>bias</c> (out), both initialised from
/// U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups·kH·kW (PyTorch's default: Kaiming-uniform with a = √5).
/// The parameter count, out·(in/groups·kH·kW + 1), does not depend on the image size.
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Channels of the input, C_in.</summary>
    public int InChannels { get; }
    /// <summary>Channels of the output, C_out: the number of filters.</summary>
    public int OutChannels { get; }
    /// <summary>Height and width of each filter (kH, kW).</summary>
    public Size2 KernelSize { get; }
    /// <summary>Step of the filter over the input, per side.</summary>
    public Size2 Stride { get; }
    /// <summary>Per-side padding, or "same" / "valid" (see <see cref="F.Conv2d(Tensor, Tensor, Tensor?, Size2?, Padding?, Size2?, int)"/>).</summary>
    public Padding Padding { get; }
    /// <summary>Spacing between filter taps, per side (1: adjacent).</summary>
    public Size2 Dilation { get; }
    /// <summary>Channel groups convolved separately (C_in for a depthwise convolution).</summary>
    public int Groups { get; }
    /// <summary>(out, in/groups, kH, kW)</summary>
    public Tensor Weight { get; }
    /// <summary>(out), or null when built with bias: false.</summary>
    public Tensor? Bias { get; }

    /// <param name="random">source of the initial values (seed it for reproducible weights); Generator.Current when null</param>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Padding? padding = null,
        Size2? dilation = null, int groups = 1, bool bias = true, Random? random = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        ConvolutionChecks.Channels("Conv2d", inChannels, outChannels, groups);
        ConvolutionChecks.Positive("Conv2d", "kernelSize", KernelSize);
        ConvolutionChecks.Positive("Conv2d", "stride", Stride);
        ConvolutionChecks.Positive("Conv2d", "dilation", Dilation);
        if (Padding.Mode == PaddingMode.Explicit) ConvolutionChecks.NonNegative("Conv2d", "padding", Padding.Size);

        Weight = RegisterParameter("weight", Tensor.Zeros([outChannels, inChannels / groups, KernelSize.Height, KernelSize.Width]));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
        Init.LayerDefault(Weight, Bias, random);
    }

    /// <summary>The output shape for an input of shape (N, in, H, W); throws ArgumentException naming this layer and both shapes when it does not fit.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        var g = ConvShapes.Conv2d(Describe(), inputShape, Weight.Shape.ToArray(), Bias?.Shape.ToArray(), Stride, Padding, Dilation, Groups);
        return [g.Batch, g.OutChannels, g.OutHeight, g.OutWidth];
    }

    /// <param name="input">(N, in, H, W)</param>
    /// <returns>(N, out, H_out, W_out)</returns>
    protected override Tensor ForwardCore(Tensor input)
    {
        OutputShapeCore(input.Shape.ToArray());
        return F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
    }

    /// <inheritdoc/>
    protected override string Describe() =>
        $"Conv2d({InChannels}, {OutChannels}, kernelSize={KernelSize}, stride={Stride}"
        + (Padding == (Padding)0 ? "" : $", padding={Padding}")
        + (Dilation == (Size2)1 ? "" : $", dilation={Dilation}")
        + (Groups == 1 ? "" : $", groups={Groups}")
        + (Bias == null ? ", bias=false" : "") + ")";
}
