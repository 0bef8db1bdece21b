using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>GELU, x·Φ(x), element-wise, any shape (see <see cref="F.Gelu"/>), as torch.nn.GELU. No parameters.</summary>
public sealed class GELU(bool tanhApproximation = false) : Module
{
    /// <summary>Whether the tanh approximation is used (PyTorch's approximate='tanh') instead of the exact form.</summary>
    public bool TanhApproximation { get; } = tanhApproximation;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Gelu(input, TanhApproximation);

    /// <summary>The same shape as the input (element-wise).</summary>
    protected override int[] OutputShapeCore(int[] inputShape) => [.. inputShape];

    /// <inheritdoc/>
    protected override string Describe() => TanhApproximation ? "GELU(approximate=tanh)" : "GELU()";
}
