using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// 2-D max pooling of (N, C, H, W) or (C, H, W) inputs (see <see cref="F.MaxPool2d(Tensor, Size2, Size2?, Size2?, Size2?, bool)"/>);
/// no parameters. <c>new MaxPool2d(2)</c> halves the height and width; <c>MaxPool2d.Same(2, stride: 1)</c> pools
/// with TensorFlow's "SAME" padding, keeping the size.
/// </summary>
public sealed class MaxPool2d : Module
{
    /// <summary>Height and width of each window.</summary>
    public Size2 KernelSize { get; }
    /// <summary>Defaults to the kernel size.</summary>
    public Size2 Stride { get; }
    /// <summary>−∞ padding on each side, at most half the kernel; ignored when <see cref="SamePadding"/>.</summary>
    public Size2 Padding { get; }
    /// <summary>Spacing between the window's taps (1: adjacent).</summary>
    public Size2 Dilation { get; }
    /// <summary>Whether the output size rounds up, so a last partial window is pooled too.</summary>
    public bool CeilMode { get; }
    /// <summary>
    /// TensorFlow's "SAME" padding, worked out for each input's size (<see cref="Pads2d.Same"/>): output ⌈input / stride⌉,
    /// the extra row/column of padding at the bottom/right.
    /// </summary>
    public bool SamePadding { get; }

    /// <summary>Max pooling with PyTorch's defaults (stride = kernel size, no padding); see <see cref="Same"/> for "SAME" padding.</summary>
    public MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false)
    {
        (KernelSize, Stride, Padding, Dilation, CeilMode) = (kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode);
        PoolShapes.ValidateConfiguration("MaxPool2d", KernelSize, Stride, Padding, Dilation);
    }

    MaxPool2d(Size2 kernelSize, Size2 stride, Size2 dilation) : this(kernelSize, stride, 0, dilation) => SamePadding = true;

    /// <summary>Max pooling with TensorFlow's "SAME" padding (see <see cref="SamePadding"/>).</summary>
    public static MaxPool2d Same(Size2 kernelSize, Size2? stride = null, Size2? dilation = null) => new(kernelSize, stride ?? kernelSize, dilation ?? 1);

    /// <summary>The output shape for <paramref name="inputShape"/>; throws, naming the shapes, if the input cannot be pooled.</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => PoolShapes.OutputShape(inputShape, SamePadding
        ? PoolShapes.Geometry("MaxPool2d", inputShape, KernelSize, Stride, SamePads(inputShape), Dilation, CeilMode)
        : PoolShapes.Geometry("MaxPool2d", inputShape, KernelSize, Stride, Padding, Dilation, CeilMode));

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => SamePadding
        ? F.MaxPool2d(input, KernelSize, Stride, SamePads(input.Dims), Dilation, CeilMode)
        : F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    Pads2d SamePads(int[] inputShape) => inputShape.Length >= 2 && inputShape[^1] > 0 && inputShape[^2] > 0
        ? Pads2d.Same((inputShape[^2], inputShape[^1]), KernelSize, Stride, Dilation) : default;

    /// <inheritdoc/>
    protected override string Describe() =>
        $"MaxPool2d(kernelSize={KernelSize}, stride={Stride}, padding={(SamePadding ? "same" : Padding.ToString())}, dilation={Dilation}, ceilMode={(CeilMode ? "true" : "false")})";
}
