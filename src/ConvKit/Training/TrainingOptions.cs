namespace ConvKit.Training;

/// <summary>The optimiser a <see cref="Trainer"/> makes from <see cref="TrainingOptions"/>.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with <see cref="TrainingOptions.Momentum"/>.</summary>
    Sgd,
    /// <summary>Adam.</summary>
    Adam,
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,
}

/// <summary>How the learning rate changes from epoch to epoch.</summary>
public enum ScheduleKind
{
    /// <summary>The same learning rate throughout.</summary>
    Constant,
    /// <summary>×<see cref="TrainingOptions.StepGamma"/> every <see cref="TrainingOptions.StepSize"/> epochs (StepLR).</summary>
    Step,
    /// <summary>Cosine annealing from the learning rate to 0 over all the epochs (CosineAnnealingLR).</summary>
    Cosine,
}

/// <summary>
/// The hyper-parameters of a training run. They are saved in every checkpoint, so a resumed run continues with
/// the same ones (only <see cref="Epochs"/> may be raised to train longer).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>The optimiser made when none is given to the trainer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>The learning rate at the start (a schedule changes it).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>SGD's momentum (ignored by Adam).</summary>
    public double Momentum { get; init; } = 0.9;
    /// <summary>Null takes the optimiser's default (0 for SGD and Adam, 0.01 for AdamW).</summary>
    public double? WeightDecay { get; init; }
    /// <summary>How the learning rate changes from epoch to epoch.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;
    /// <summary>Epochs between two decays of the <see cref="ScheduleKind.Step"/> schedule.</summary>
    public int StepSize { get; init; } = 5;
    /// <summary>Factor of each decay of the <see cref="ScheduleKind.Step"/> schedule.</summary>
    public double StepGamma { get; init; } = 0.1;
    /// <summary>Seeds the shuffling, the augmentation and dropout (the caller seeds the model's initial weights).</summary>
    public long Seed { get; init; }
    /// <summary>Batches the loader prepares ahead on a background thread.</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Where <c>last.safetensors</c> (every epoch, and on interruption) and <c>best.safetensors</c> go; null writes nothing.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"training options: {message}.");
        }
        Check(Epochs >= 1, $"epochs must be ≥ 1, not {Epochs}");
        Check(BatchSize >= 1, $"batch size must be ≥ 1, not {BatchSize}");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be a positive number, not {LearningRate}");
        Check(Momentum >= 0 && Momentum < 1, $"momentum must be in [0, 1), not {Momentum}");
        Check(WeightDecay is null || (WeightDecay >= 0 && double.IsFinite(WeightDecay.Value)), $"weight decay must be ≥ 0, not {WeightDecay}");
        Check(StepSize >= 1, $"step size must be ≥ 1, not {StepSize}");
        Check(StepGamma >= 0 && double.IsFinite(StepGamma), $"step gamma must be ≥ 0, not {StepGamma}");
        Check(Prefetch >= 0, $"prefetch must be ≥ 0, not {Prefetch}");
        Check(Enum.IsDefined(Optimizer), $"unknown optimiser {Optimizer}");
        Check(Enum.IsDefined(Schedule), $"unknown schedule {Schedule}");
    }
}
