using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>
/// A loss comparing a prediction with a target, configured once and applied per batch:
/// <c>var loss = criterion.Forward(model.Forward(x), y); loss.Backward();</c>. Losses take two inputs and hold
/// no trainable state, so they are plain objects rather than <see cref="Module"/>s.
/// </summary>
public abstract class Loss(Reduction reduction)
{
    /// <summary>How per-element losses are combined: None, Mean (the default) or Sum.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>The loss of <paramref name="input"/> (the model's output) against <paramref name="target"/>, reduced as <see cref="Reduction"/> says.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}(reduction={Reduction})";
}
