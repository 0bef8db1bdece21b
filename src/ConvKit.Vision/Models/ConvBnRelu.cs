using ConvKit.NN;

namespace ConvKit.Vision.Models;

/// <summary>
/// Convolution (without bias: the batch norm's shift replaces it), batch normalisation, ReLU — the unit most
/// modern CNNs are built from. Sub-modules are named <c>conv</c> and <c>bn</c> as in torchvision's
/// <c>BasicConv2d</c> (GoogLeNet), so weights load by name.
/// </summary>
public sealed class ConvBnRelu : Module
{
    /// <summary>The convolution, without bias.</summary>
    public Conv2d Conv { get; }
    /// <summary>The batch normalisation.</summary>
    public BatchNorm2d Bn { get; }
    readonly ReLU relu;

    /// <param name="eps">batch-norm epsilon (GoogLeNet uses 0.001, PyTorch's default is 1e-5)</param>
    public ConvBnRelu(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Padding? padding = null, float eps = 1e-5f)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(outChannels, eps));
        relu = RegisterModule("relu", new ReLU());
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => relu.Forward(Bn.Forward(Conv.Forward(input)));

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => relu.OutputShape(Bn.OutputShape(Conv.OutputShape(inputShape)));
}
