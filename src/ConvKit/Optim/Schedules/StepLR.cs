namespace ConvKit.Optim.Schedules;

/// <summary>Multiplies the learning rate by <c>gamma</c> every <c>stepSize</c> steps: lr = base·gamma^⌊epoch / stepSize⌋.</summary>
public sealed class StepLR : LRScheduler
{
    /// <summary>Multiplies the learning rate by <paramref name="gamma"/> every <paramref name="stepSize"/> steps.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, $"StepLR: stepSize must be ≥ 1, not {stepSize}.");
        if (!(gamma >= 0 && double.IsFinite(gamma)))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"StepLR: gamma must be a finite number ≥ 0, not {gamma}.");
        StepSize = stepSize;
        Gamma = gamma;
        Apply();
    }

    /// <summary>Steps between two decays.</summary>
    public int StepSize { get; }
    /// <summary>Factor of each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double LearningRateAt(int epoch, double baseLearningRate) => baseLearningRate * Math.Pow(Gamma, epoch / StepSize);
}
