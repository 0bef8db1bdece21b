using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Softmax along <see cref="Dim"/>: non-negative values summing to one (class probabilities).</summary>
public class Softmax(int dim = -1) : Module
{
    /// <summary>The dimension that sums to one (−1: the last).</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Softmax(input, Dim);

    /// <summary>The same shape as the input; <see cref="Dim"/> must be one of its axes.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        Shapes.NormalizeDim(Dim, inputShape.Length, "Softmax");
        return [.. inputShape];
    }

    /// <inheritdoc/>
    protected override string Describe() => $"Softmax(dim={Dim})";
}
