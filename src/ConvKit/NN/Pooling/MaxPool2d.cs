using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// 2-D max pooling of (N, C, H, W) or (C, H, W) inputs (see <see cref="F.MaxPool2d"/>); no parameters.
/// <c>new MaxPool2d(2)</c> halves the height and width.
/// </summary>
public sealed class MaxPool2d : Module
{
    public Size2 KernelSize { get; }
    /// <summary>Defaults to the kernel size.</summary>
    public Size2 Stride { get; }
    /// <summary>−∞ padding on each side, at most half the kernel.</summary>
    public Size2 Padding { get; }
    public Size2 Dilation { get; }
    public bool CeilMode { get; }

    public MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false)
    {
        (KernelSize, Stride, Padding, Dilation, CeilMode) = (kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode);
        PoolShapes.ValidateConfiguration("MaxPool2d", KernelSize, Stride, Padding, Dilation);
    }

    /// <summary>The output shape for <paramref name="inputShape"/>; throws, naming the shapes, if the input cannot be pooled.</summary>
    public int[] OutputShape(int[] inputShape) =>
        PoolShapes.OutputShape(inputShape, PoolShapes.Geometry("MaxPool2d", inputShape, KernelSize, Stride, Padding, Dilation, CeilMode));

    protected override Tensor ForwardCore(Tensor input) => F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    protected override string Describe() =>
        $"MaxPool2d(kernelSize={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceilMode={(CeilMode ? "true" : "false")})";
}
