using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>tanh x, element-wise, any shape (see <see cref="F.Tanh"/>). No parameters.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Tanh(input);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];
}
