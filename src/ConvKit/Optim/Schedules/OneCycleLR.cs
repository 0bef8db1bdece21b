namespace ConvKit.Optim.Schedules;

/// <summary>How <see cref="OneCycleLR"/> moves between two values within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine wave from the start value to the end value.</summary>
    Cos,
    /// <summary>A straight line from the start value to the end value.</summary>
    Linear,
}

/// <summary>
/// The one-cycle policy (Smith and Topin), stepped once per batch for <c>totalSteps</c> batches, as
/// torch.optim.lr_scheduler.OneCycleLR in PyTorch 1.13: the learning rate rises from maxLr/divFactor to maxLr
/// over the first pctStart of the steps, then anneals to maxLr/(divFactor·finalDivFactor); with
/// <c>threePhase</c> it first comes back down symmetrically to maxLr/divFactor. With <c>cycleMomentum</c> the
/// momentum (SGD's momentum, Adam's β1) moves the opposite way between maxMomentum and baseMomentum.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    readonly record struct Phase(double EndStep, double StartLr, double EndLr, double StartMomentum, double EndMomentum);

    readonly Phase[] phases;
    readonly IHasMomentum? momentumOptimizer;

    /// <summary>A one-cycle schedule over <paramref name="totalSteps"/> batches peaking at <paramref name="maxLr"/>, with torch's defaults.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4,
        bool threePhase = false)
        : base(optimizer)
    {
        if (!(maxLr >= 0 && double.IsFinite(maxLr))) throw Bad(nameof(maxLr), maxLr, "a finite number ≥ 0");
        if (totalSteps < 1) throw Bad(nameof(totalSteps), totalSteps, "≥ 1");
        if (!(pctStart >= 0 && pctStart <= 1)) throw Bad(nameof(pctStart), pctStart, "in [0, 1]");
        if (!(divFactor > 0 && double.IsFinite(divFactor))) throw Bad(nameof(divFactor), divFactor, "a finite number > 0");
        if (!(finalDivFactor > 0 && double.IsFinite(finalDivFactor))) throw Bad(nameof(finalDivFactor), finalDivFactor, "a finite number > 0");
        if (cycleMomentum)
        {
            momentumOptimizer = optimizer as IHasMomentum ?? throw new ArgumentException(
                $"OneCycleLR: cycleMomentum needs an optimiser with a momentum (SGD, Adam, AdamW), not {optimizer.GetType().Name}; pass cycleMomentum: false.");
            if (!(baseMomentum >= 0 && baseMomentum < 1)) throw Bad(nameof(baseMomentum), baseMomentum, "in [0, 1)");
            if (!(maxMomentum >= 0 && maxMomentum < 1)) throw Bad(nameof(maxMomentum), maxMomentum, "in [0, 1)");
        }

        double initialLr = maxLr / divFactor, minLr = initialLr / finalDivFactor;
        double warmupEnd = pctStart * totalSteps - 1;
        phases = threePhase
            ? [
                new Phase(warmupEnd, initialLr, maxLr, maxMomentum, baseMomentum),
                new Phase(2 * pctStart * totalSteps - 2, maxLr, initialLr, baseMomentum, maxMomentum),
                new Phase(totalSteps - 1, initialLr, minLr, maxMomentum, maxMomentum),
            ]
            : [
                new Phase(warmupEnd, initialLr, maxLr, maxMomentum, baseMomentum),
                new Phase(totalSteps - 1, maxLr, minLr, baseMomentum, maxMomentum),
            ];
        double start = 0;
        foreach (var phase in phases)
        {
            if (!(phase.EndStep > start))
                throw new ArgumentException($"OneCycleLR: with totalSteps {totalSteps} and pctStart {pctStart} a phase of the cycle would be empty " +
                    $"(it would end at step {phase.EndStep}, not after step {start}); use more steps or another pctStart.");
            start = phase.EndStep;
        }

        MaxLr = maxLr;
        TotalSteps = totalSteps;
        AnnealStrategy = annealStrategy;
        Apply();
    }

    /// <summary>The peak learning rate.</summary>
    public double MaxLr { get; }
    /// <summary>Batches in the cycle; stepping beyond them throws.</summary>
    public int TotalSteps { get; }
    /// <summary>How values move within a phase.</summary>
    public AnnealStrategy AnnealStrategy { get; }
    /// <summary>Whether the optimiser's momentum is cycled opposite to the learning rate.</summary>
    public bool CycleMomentum => momentumOptimizer != null;

    static ArgumentOutOfRangeException Bad(string name, double value, string rule) => new(name, value, $"OneCycleLR: {name} must be {rule}, not {value}.");

    // PyTorch allows one step beyond the last scheduled one (LastEpoch == TotalSteps) and refuses the next.
    /// <inheritdoc/>
    protected override void CheckCanReach(int epoch)
    {
        if (epoch > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR: tried to step {epoch + 1} times, but the schedule has {TotalSteps} total steps.");
    }

    /// <inheritdoc/>
    protected override double LearningRateAt(int epoch, double baseLearningRate)
    {
        var (phase, fraction) = Locate(epoch);
        return Anneal(phase.StartLr, phase.EndLr, fraction);
    }

    /// <inheritdoc/>
    protected override void Apply()
    {
        base.Apply();
        if (momentumOptimizer == null) return;
        var (phase, fraction) = Locate(LastEpoch);
        momentumOptimizer.Momentum = Anneal(phase.StartMomentum, phase.EndMomentum, fraction);
    }

    /// <summary>The phase <paramref name="epoch"/> falls in and how far through it (0 to 1; beyond 1 after the last).</summary>
    (Phase Phase, double Fraction) Locate(int epoch)
    {
        double start = 0;
        foreach (var phase in phases[..^1])
        {
            if (epoch <= phase.EndStep) return (phase, (epoch - start) / (phase.EndStep - start));
            start = phase.EndStep;
        }
        var last = phases[^1];
        return (last, (epoch - start) / (last.EndStep - start));
    }

    double Anneal(double start, double end, double fraction) => AnnealStrategy == AnnealStrategy.Cos
        ? end + (start - end) / 2 * (Math.Cos(Math.PI * fraction) + 1)
        : (end - start) * fraction + start;
}
