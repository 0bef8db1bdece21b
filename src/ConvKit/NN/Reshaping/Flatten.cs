using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Merges axes startDim..endDim into one; by default (N, C, H, W) → (N, C·H·W), the bridge from convolutions
/// to fully connected layers.
/// </summary>
public class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>First dimension merged (1 keeps the batch dimension).</summary>
    public int StartDim { get; } = startDim;
    /// <summary>Last dimension merged (−1: the last).</summary>
    public int EndDim { get; } = endDim;

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor input) => F.Flatten(input, StartDim, EndDim);

    /// <inheritdoc/>
    protected override int[] OutputShapeCore(int[] inputShape) => ShapeInference.Flatten(inputShape, StartDim, EndDim);

    /// <inheritdoc/>
    protected override string Describe() => $"Flatten(startDim={StartDim}, endDim={EndDim})";
}
