using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Binary cross-entropy on logits against probabilities of the same shape, computed stably (see
/// <see cref="F.BinaryCrossEntropyWithLogits"/>); <see cref="PosWeight"/> holds one weight per class for the positive term.
/// </summary>
public class BCEWithLogitsLoss(Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>A weight per element, broadcast against the input, or null.</summary>
    public Tensor? Weight { get; } = weight;
    /// <summary>One weight per class for the positive term (more than 1 favours recall), or null.</summary>
    public Tensor? PosWeight { get; } = posWeight;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) =>
        F.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);
}
