using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>min(max(x, 0), 6), element-wise, any shape (see <see cref="F.Relu6"/>). No parameters.</summary>
public sealed class ReLU6 : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Relu6(input);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];
}
