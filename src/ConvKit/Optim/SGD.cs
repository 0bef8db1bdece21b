using ConvKit.Backends;

namespace ConvKit.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, L2 weight decay and
/// maximisation, as torch.optim.SGD in PyTorch 1.13: d = g + weightDecay·p; with momentum the buffer starts
/// as d on a parameter's first step and is then momentum·buf + (1 − dampening)·d; p −= lr·buf
/// (Nesterov: p −= lr·(d + momentum·buf)).
/// </summary>
public sealed class SGD : Optimizer, IHasMomentum
{
    double momentum, dampening;

    /// <summary>SGD over <paramref name="parameters"/> (one group), with torch.optim.SGD's defaults.</summary>
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0,
        bool nesterov = false, bool maximize = false)
        : this(OneGroup(parameters), lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    /// <summary>SGD over parameter groups; <paramref name="lr"/> and <paramref name="weightDecay"/> are the groups' defaults.</summary>
    public SGD(IEnumerable<ParameterGroup> parameterGroups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0,
        bool nesterov = false, bool maximize = false)
        : base(parameterGroups, lr, weightDecay)
    {
        Configure(momentum, dampening, nesterov, maximize);
    }

    /// <summary>The momentum factor (0 turns momentum off); one-cycle schedules cycle it. Kept at float32 precision.</summary>
    public double Momentum
    {
        get => momentum;
        set => momentum = (float)CheckNonNegative(value, "Momentum");
    }

    /// <summary>Share of the new gradient held back from the momentum buffer.</summary>
    public double Dampening => dampening;
    /// <summary>Whether the step uses Nesterov momentum (looks ahead along the buffer).</summary>
    public bool Nesterov { get; private set; }
    /// <summary>Whether to maximise the objective (step along the gradient) instead of minimising it.</summary>
    public bool Maximize { get; private set; }

    void Configure(double momentum, double dampening, bool nesterov, bool maximize)
    {
        CheckNonNegative(momentum, "momentum");
        CheckNonNegative(dampening, "dampening");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException($"{Name}: Nesterov momentum needs a momentum > 0 and zero dampening (got momentum {momentum}, dampening {dampening}).");
        Momentum = momentum;
        this.dampening = (float)dampening;
        Nesterov = nesterov;
        Maximize = maximize;
    }

    /// <inheritdoc/>
    protected override void Update(ParameterGroup group, Tensor parameter, Tensor gradient, ParameterState state)
    {
        Tensor? buffer = null;
        bool firstStep = false;
        if (Momentum != 0) buffer = state.Buffer("momentum_buffer", parameter, out firstStep);
        parameter.Backend.SgdStep(parameter.Storage, gradient.Storage, buffer?.Storage,
            new SgdUpdate(group.LearningRate, Momentum, Dampening, Nesterov, group.WeightDecay, Maximize, firstStep));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> BufferNames => ["momentum_buffer"];

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, double> GetOptions() => new Dictionary<string, double>
    {
        ["momentum"] = Momentum,
        ["dampening"] = Dampening,
        ["nesterov"] = Nesterov ? 1 : 0,
        ["maximize"] = Maximize ? 1 : 0,
    };

    /// <inheritdoc/>
    protected override void SetOptions(IReadOnlyDictionary<string, double> options) =>
        Configure(options["momentum"], options["dampening"], Flag(options, "nesterov"), Flag(options, "maximize"));
}
