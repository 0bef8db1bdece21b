namespace ConvKit.Optim;

/// <summary>
/// Parameters that share a learning rate and weight decay inside one optimiser, e.g. to exempt biases and
/// normalisation weights from weight decay. Values left null take the optimiser's defaults.
/// Hyper-parameters are kept at float32 precision, the precision of the tensors they scale, so that a
/// state dict (float32 tensors) restores them exactly.
/// </summary>
public sealed class ParameterGroup(IEnumerable<Tensor> parameters, double? lr = null, double? weightDecay = null)
{
    double? learningRate = lr is { } given ? Check(given, "lr") : null;
    double? decay = weightDecay is { } givenDecay ? Check(givenDecay, "weightDecay") : null;

    /// <summary>The tensors this group's settings apply to.</summary>
    public IReadOnlyList<Tensor> Parameters { get; } = parameters.ToList();

    /// <summary>
    /// The learning rate. Constructors insist on ≥ 0, but a schedule may set any finite value: PyTorch's
    /// OneCycleLR, stepped once past its end, extrapolates slightly below zero.
    /// </summary>
    public double LearningRate
    {
        get => learningRate ?? throw NotAttached();
        set => learningRate = double.IsFinite(value) ? (float)value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"ParameterGroup: LearningRate must be finite, not {value}.");
    }

    /// <summary>Weight decay: an L2 term added to the gradient (SGD, Adam) or a decoupled shrink (AdamW).</summary>
    public double WeightDecay
    {
        get => decay ?? throw NotAttached();
        set => decay = Check(value, "WeightDecay");
    }

    /// <summary>Fills in the values the group was not given, when an optimiser takes it.</summary>
    internal void ApplyDefaults(double lr, double weightDecay)
    {
        learningRate ??= Check(lr, "lr");
        decay ??= Check(weightDecay, "weightDecay");
    }

    static double Check(double value, string name) => value >= 0 && double.IsFinite(value) ? (float)value
        : throw new ArgumentOutOfRangeException(name, value, $"ParameterGroup: {name} must be a finite number ≥ 0, not {value}.");

    static InvalidOperationException NotAttached() =>
        new("ParameterGroup: this group has no value of its own and has not been given to an optimiser yet.");
}
