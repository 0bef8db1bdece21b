using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>max(x, 0), element-wise, any shape (see <see cref="F.Relu(Tensor)"/>). No parameters.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Relu(input);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];
}
