using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Log-softmax along <see cref="Dim"/>: log class probabilities, the input of <see cref="NllLoss"/>.</summary>
public class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The dimension over which the probabilities are normalised (−1: the last).</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.LogSoftmax(input, Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"LogSoftmax(dim={Dim})";
}
