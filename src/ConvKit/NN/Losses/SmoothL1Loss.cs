using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Squared error below <see cref="Beta"/>, absolute error above it (see <see cref="F.SmoothL1Loss"/>); robust to outliers.</summary>
public class SmoothL1Loss : Loss
{
    /// <summary>Where the loss changes from squared to absolute error; 0 gives the L1 loss.</summary>
    public float Beta { get; }

    /// <summary>A smooth L1 loss with the given reduction and threshold <paramref name="beta"/>.</summary>
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, float beta = 1) : base(reduction)
    {
        if (!(beta >= 0)) throw new ArgumentException($"SmoothL1Loss: beta must be non-negative, got {beta}.", nameof(beta));
        Beta = beta;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SmoothL1Loss(input, target, Reduction, Beta);

    /// <inheritdoc/>
    public override string ToString() => $"SmoothL1Loss(reduction={Reduction}, beta={Beta})";
}
