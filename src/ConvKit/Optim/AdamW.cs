namespace ConvKit.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter), as torch.optim.AdamW in PyTorch 1.13: Adam with decoupled weight decay —
/// each step first shrinks the parameters by a factor 1 − lr·weightDecay, and the moments see the plain gradient.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW over <paramref name="parameters"/> (one group), with torch.optim.AdamW's defaults (weight decay 0.01).</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(OneGroup(parameters), lr, betas, eps, weightDecay, amsgrad, maximize, decoupledWeightDecay: true) { }

    /// <summary>AdamW over parameter groups; <paramref name="lr"/> and <paramref name="weightDecay"/> are the groups' defaults.</summary>
    public AdamW(IEnumerable<ParameterGroup> parameterGroups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(parameterGroups, lr, betas, eps, weightDecay, amsgrad, maximize, decoupledWeightDecay: true) { }
}
