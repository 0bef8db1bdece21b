namespace ConvKit.Optim.Schedules;

/// <summary>
/// Cosine annealing (SGDR without restarts): lr = etaMin + (base − etaMin)·(1 + cos(π·epoch / tMax)) / 2,
/// reaching etaMin at tMax and, like PyTorch, rising again along the same cosine if stepped beyond.
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    /// <summary>Anneals each learning rate along half a cosine from its base to <paramref name="etaMin"/> over <paramref name="tMax"/> steps.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax < 1) throw new ArgumentOutOfRangeException(nameof(tMax), tMax, $"CosineAnnealingLR: tMax must be ≥ 1, not {tMax}.");
        if (!(etaMin >= 0 && double.IsFinite(etaMin)))
            throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, $"CosineAnnealingLR: etaMin must be a finite number ≥ 0, not {etaMin}.");
        TMax = tMax;
        EtaMin = etaMin;
        Apply();
    }

    /// <summary>Steps of the half cosine.</summary>
    public int TMax { get; }
    /// <summary>The learning rate reached at step <see cref="TMax"/>.</summary>
    public double EtaMin { get; }

    /// <inheritdoc/>
    protected override double LearningRateAt(int epoch, double baseLearningRate) =>
        EtaMin + (baseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
}
