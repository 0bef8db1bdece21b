using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>1 / (1 + e^−x), element-wise, any shape (see <see cref="F.Sigmoid"/>). No parameters.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Sigmoid(input);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];
}
