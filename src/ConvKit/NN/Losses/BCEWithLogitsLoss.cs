using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Binary cross-entropy on logits against probabilities of the same shape, computed stably (see
/// <see cref="F.BinaryCrossEntropyWithLogits"/>); <see cref="PosWeight"/> holds one weight per class for the positive term.
/// </summary>
public class BCEWithLogitsLoss(Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public Tensor? Weight { get; } = weight;
    public Tensor? PosWeight { get; } = posWeight;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) =>
        F.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);
}
