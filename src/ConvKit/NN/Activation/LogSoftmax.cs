using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Log-softmax along <see cref="Dim"/>: log class probabilities, the input of <see cref="NllLoss"/>.</summary>
public class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The dimension over which the probabilities are normalised (−1: the last).</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.LogSoftmax(input, Dim);

    /// <summary>The same shape as the input; <see cref="Dim"/> must be one of its axes.</summary>
    protected override int[] OutputShapeCore(int[] inputShape)
    {
        Shapes.NormalizeDim(Dim, inputShape.Length, "LogSoftmax");
        return [.. inputShape];
    }

    /// <inheritdoc/>
    protected override string Describe() => $"LogSoftmax(dim={Dim})";
}
