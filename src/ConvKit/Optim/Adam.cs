using ConvKit.Backends;

namespace ConvKit.Optim;

/// <summary>
/// Adam (Kingma and Ba), as torch.optim.Adam in PyTorch 1.13: bias-corrected running averages of the
/// gradient (β1) and of its square (β2); weight decay is an L2 term added to the gradient. With
/// <c>amsgrad</c> the denominator uses the running maximum of the second moment.
/// </summary>
public class Adam : Optimizer, IHasMomentum
{
    readonly bool decoupledWeightDecay;
    double beta1, beta2, eps;

    /// <summary>Adam over <paramref name="parameters"/> (one group), with torch.optim.Adam's defaults (β = (0.9, 0.999)).</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8,
        double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(OneGroup(parameters), lr, betas, eps, weightDecay, amsgrad, maximize, decoupledWeightDecay: false) { }

    /// <summary>Adam over parameter groups; <paramref name="lr"/> and <paramref name="weightDecay"/> are the groups' defaults.</summary>
    public Adam(IEnumerable<ParameterGroup> parameterGroups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(parameterGroups, lr, betas, eps, weightDecay, amsgrad, maximize, decoupledWeightDecay: false) { }

    /// <summary>For AdamW: <paramref name="decoupledWeightDecay"/> shrinks the parameters instead of adding an L2 gradient.</summary>
    protected Adam(IEnumerable<ParameterGroup> parameterGroups, double lr, (double Beta1, double Beta2)? betas, double eps,
        double weightDecay, bool amsgrad, bool maximize, bool decoupledWeightDecay)
        : base(parameterGroups, lr, weightDecay)
    {
        this.decoupledWeightDecay = decoupledWeightDecay;
        var (b1, b2) = betas ?? (0.9, 0.999);
        Configure(b1, b2, eps, amsgrad, maximize);
    }

    /// <summary>Decay of the gradient's running average; one-cycle schedules cycle it. Kept at float32 precision.</summary>
    public double Beta1
    {
        get => beta1;
        set => beta1 = CheckBeta(value, "Beta1");
    }

    /// <summary>Decay of the squared gradient's running average. Kept at float32 precision.</summary>
    public double Beta2
    {
        get => beta2;
        set => beta2 = CheckBeta(value, "Beta2");
    }

    /// <summary>Added to the denominator for numerical stability.</summary>
    public double Eps => eps;
    /// <summary>Whether the denominator uses the running maximum of the second moment (AMSGrad).</summary>
    public bool Amsgrad { get; private set; }
    /// <summary>Whether to maximise the objective instead of minimising it.</summary>
    public bool Maximize { get; private set; }

    double IHasMomentum.Momentum
    {
        get => Beta1;
        set => Beta1 = value;
    }

    double CheckBeta(double value, string name) => value >= 0 && value < 1 ? (float)value
        : throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be in [0, 1), not {value}.");

    void Configure(double beta1, double beta2, double eps, bool amsgrad, bool maximize)
    {
        CheckBeta(beta1, "beta1");
        CheckBeta(beta2, "beta2");
        CheckNonNegative(eps, "eps");
        Beta1 = beta1;
        Beta2 = beta2;
        this.eps = (float)eps;
        Amsgrad = amsgrad;
        Maximize = maximize;
    }

    /// <inheritdoc/>
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        var expAvg = state.Buffer("exp_avg", parameter, out _);
        var expAvgSq = state.Buffer("exp_avg_sq", parameter, out _);
        var maxExpAvgSq = Amsgrad ? state.Buffer("max_exp_avg_sq", parameter, out _) : null;
        parameter.Backend.AdamStep(parameter.Storage, gradient.Storage, expAvg.Storage, expAvgSq.Storage, maxExpAvgSq?.Storage,
            new AdamUpdate(group.LearningRate, Beta1, Beta2, Eps, group.WeightDecay, decoupledWeightDecay, Amsgrad, Maximize, state.Step));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> BufferNames => ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    /// <inheritdoc/>
    protected override IReadOnlyList<string> RequiredBufferNames => ["exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, double> GetOptions() => new Dictionary<string, double>
    {
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["eps"] = Eps,
        ["amsgrad"] = Amsgrad ? 1 : 0,
        ["maximize"] = Maximize ? 1 : 0,
    };

    /// <inheritdoc/>
    protected override void SetOptions(IReadOnlyDictionary<string, double> options) =>
        Configure(options["beta1"], options["beta2"], options["eps"], Flag(options, "amsgrad"), Flag(options, "maximize"));
}
