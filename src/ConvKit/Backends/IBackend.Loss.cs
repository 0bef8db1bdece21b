namespace ConvKit.Backends;

/// <summary>
/// Class-index targets of a negative log-likelihood: log-probabilities read as (Outer, Classes, Inner) and one
/// target per (outer, inner) position in <see cref="Targets"/>, a class index held as an int32 (<see cref="DType.Int32"/>,
/// exact for any class count) or as a float. <see cref="Weights"/>
/// (Classes values, or null for ones) weigh each class; positions whose target is <see cref="IgnoreIndex"/> add
/// nothing; <see cref="Smoothing"/> ε mixes the one-hot target with the uniform distribution.
/// </summary>
public readonly record struct ClassTargets(
    Storage Targets, Storage? Weights, int Outer, int Classes, int Inner, int IgnoreIndex, float Smoothing);

public partial interface IBackend
{
    /// <summary>
    /// Per-position loss for log-probabilities (Outer, Classes, Inner). For a position with target t and class
    /// weights w: losses[p] = −(1 − ε)·w_t·logProbs[t] − (ε/C)·Σ_c w_c·logProbs[c] and targetWeights[p] = w_t
    /// (both 0 where t is the ignored index). Returns −1, or the first position whose target is neither the
    /// ignored index nor an integer in [0, Classes), in which case the outputs are unspecified.
    /// </summary>
    int NllLoss(Storage logProbs, ClassTargets targets, Storage losses, Storage targetWeights);

    /// <summary>
    /// Gradient of Σ_p grads[p]·losses[p] (see <see cref="NllLoss"/>) with respect to logProbs, or, with
    /// <paramref name="fromLogits"/>, to the logits whose log-softmax along Classes logProbs is. With
    /// a_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c that is −grads[p]·a_c, or grads[p]·(softmax_c·Σ_k a_k − a_c).
    /// </summary>
    void NllLossBackward(Storage logProbs, ClassTargets targets, Storage grads, bool fromLogits, Storage dInput);
}
