using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices (N) or (N, d1, ...), or against
/// class probabilities of the logits' shape; see <see cref="F.CrossEntropy"/> for class weights, the ignored index
/// and label smoothing.
/// </summary>
public class CrossEntropyLoss : Loss
{
    /// <summary>One weight per class (C), or null for equal weights.</summary>
    public Tensor? Weight { get; }
    /// <summary>A target class index that contributes neither loss nor gradient.</summary>
    public int IgnoreIndex { get; }
    /// <summary>Share of each target's probability spread evenly over all classes, in [0, 1].</summary>
    public float LabelSmoothing { get; }

    /// <summary>A cross-entropy loss with optional class weights, ignored index and label smoothing (PyTorch's defaults).</summary>
    public CrossEntropyLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean, float labelSmoothing = 0)
        : base(reduction)
    {
        if (weight != null && weight.Rank != 1)
            throw new ArgumentException($"CrossEntropyLoss: weight must hold one value per class, got shape {Shapes.Format(weight.Shape)}.", nameof(weight));
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentException($"CrossEntropyLoss: labelSmoothing must lie in [0, 1], got {labelSmoothing}.", nameof(labelSmoothing));
        Weight = weight;
        IgnoreIndex = ignoreIndex;
        LabelSmoothing = labelSmoothing;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) =>
        F.CrossEntropy(input, target, Weight, IgnoreIndex, Reduction, LabelSmoothing);
}
