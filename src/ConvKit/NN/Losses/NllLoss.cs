using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...) (the output of <see cref="LogSoftmax"/>)
/// at class indices (N) or (N, d1, ...); see <see cref="F.NllLoss"/>.
/// </summary>
public class NllLoss : Loss
{
    /// <summary>One weight per class (C), or null for equal weights.</summary>
    public Tensor? Weight { get; }
    /// <summary>A target class index that contributes neither loss nor gradient.</summary>
    public int IgnoreIndex { get; }

    /// <summary>A negative log-likelihood loss with optional class weights and ignored index (PyTorch's defaults).</summary>
    public NllLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        if (weight != null && weight.Rank != 1)
            throw new ArgumentException($"NllLoss: weight must hold one value per class, got shape {Shapes.Format(weight.Shape)}.", nameof(weight));
        Weight = weight;
        IgnoreIndex = ignoreIndex;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.NllLoss(input, target, Weight, IgnoreIndex, Reduction);
}
