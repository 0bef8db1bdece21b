using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>2-D average pooling of (N, C, H, W) or (C, H, W) inputs (see <see cref="F.AvgPool2d"/>); no parameters.</summary>
public sealed class AvgPool2d : Module
{
    /// <summary>Height and width of each window.</summary>
    public Size2 KernelSize { get; }
    /// <summary>Defaults to the kernel size.</summary>
    public Size2 Stride { get; }
    /// <summary>Zero padding on each side, at most half the kernel.</summary>
    public Size2 Padding { get; }
    /// <summary>Whether the output size rounds up, so a last partial window is pooled too.</summary>
    public bool CeilMode { get; }
    /// <summary>Whether padded positions count in a window's divisor.</summary>
    public bool CountIncludePad { get; }
    /// <summary>A fixed divisor for every window, or null.</summary>
    public int? DivisorOverride { get; }

    /// <summary>Average pooling with PyTorch's defaults (stride = kernel size, no padding).</summary>
    public AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false,
        bool countIncludePad = true, int? divisorOverride = null)
    {
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding ?? 0);
        (CeilMode, CountIncludePad, DivisorOverride) = (ceilMode, countIncludePad, divisorOverride);
        PoolShapes.ValidateConfiguration("AvgPool2d", KernelSize, Stride, Padding, 1);
        PoolShapes.ValidateDivisor("AvgPool2d", divisorOverride);
    }

    /// <summary>The output shape for <paramref name="inputShape"/>; throws, naming the shapes, if the input cannot be pooled.</summary>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        PoolShapes.OutputShape(inputShape, PoolShapes.Geometry("AvgPool2d", inputShape, KernelSize, Stride, Padding, 1, CeilMode));

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) =>
        F.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);

    /// <inheritdoc/>
    protected override string Describe() =>
        $"AvgPool2d(kernelSize={KernelSize}, stride={Stride}, padding={Padding}, ceilMode={(CeilMode ? "true" : "false")}, countIncludePad={(CountIncludePad ? "true" : "false")}"
        + (DivisorOverride is { } d ? $", divisorOverride={d})" : ")");
}
