namespace ConvKit.Backends;

// Fused optimiser updates: one pass over a parameter's values instead of a chain of tensor ops, so a step
// allocates nothing the size of the parameter.
public partial interface IBackend
{
    /// <summary>
    /// One SGD step on <paramref name="parameter"/>, in place, from <paramref name="gradient"/> (same length;
    /// left unchanged). <paramref name="momentumBuffer"/> is required when the momentum is non-zero.
    /// </summary>
    void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdUpdate update);

    /// <summary>
    /// One Adam (or AdamW) step on <paramref name="parameter"/>, in place, updating the moment estimates;
    /// <paramref name="maxExpAvgSq"/> is required with AMSGrad.
    /// </summary>
    void AdamStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, Storage? maxExpAvgSq, AdamUpdate update);
}

/// <summary>
/// Hyper-parameters of one SGD step (PyTorch 1.13): d = ±g + weightDecay·p; with momentum,
/// buf = d on the <paramref name="FirstStep"/>, else momentum·buf + (1 − dampening)·d, and d = buf
/// (Nesterov: d + momentum·buf); then p −= lr·d. <paramref name="Maximize"/> negates the gradient first.
/// </summary>
public readonly record struct SgdUpdate(
    double LearningRate, double Momentum, double Dampening, bool Nesterov, double WeightDecay, bool Maximize, bool FirstStep);

/// <summary>
/// Hyper-parameters of one Adam step (PyTorch 1.13), <paramref name="Step"/> counting from 1:
/// with L2 weight decay g += weightDecay·p; with <paramref name="DecoupledWeightDecay"/> (AdamW)
/// p ·= 1 − lr·weightDecay instead. m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
/// (AMSGrad: v̂ = max(v̂, v)), p −= lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps).
/// </summary>
public readonly record struct AdamUpdate(
    double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay, bool DecoupledWeightDecay,
    bool Amsgrad, bool Maximize, long Step);
