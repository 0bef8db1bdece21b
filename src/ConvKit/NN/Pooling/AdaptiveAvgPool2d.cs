using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Average pooling to a fixed (height, width) whatever the input size (see <see cref="F.AdaptiveAvgPool2d"/>);
/// <c>new AdaptiveAvgPool2d(1)</c> is global average pooling. No parameters.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>Height and width of the output.</summary>
    public Size2 OutputSize { get; }

    /// <summary>Pooling to <paramref name="outputSize"/> (1 for global average pooling).</summary>
    public AdaptiveAvgPool2d(Size2 outputSize)
    {
        PoolShapes.ValidateOutputSize("AdaptiveAvgPool2d", outputSize);
        OutputSize = outputSize;
    }

    /// <summary>The output shape for <paramref name="inputShape"/>; throws, naming the shape, if it is not (N, C, H, W) or (C, H, W).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) =>
        PoolShapes.OutputShape(inputShape, PoolShapes.AdaptiveGeometry("AdaptiveAvgPool2d", inputShape, OutputSize));

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.AdaptiveAvgPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string Describe() => $"AdaptiveAvgPool2d(outputSize={OutputSize})";
}
