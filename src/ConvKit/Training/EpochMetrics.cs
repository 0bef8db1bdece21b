namespace ConvKit.Training;

/// <summary>
/// One finished epoch (numbered from 1): mean training loss and accuracy over its batches (in training mode, as
/// they were computed), the validation loss and accuracy after it (null without a validation set), the learning
/// rate it used and how long its training took.
/// </summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double? ValidationLoss, double? ValidationAccuracy,
    double LearningRate, double Seconds, double SamplesPerSecond);

/// <summary>What a batch reports while an epoch runs: for progress bars.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int BatchCount, double Loss, double RunningLoss, double RunningAccuracy, int Samples);

/// <summary>How <see cref="Trainer.Fit"/> ended.</summary>
public sealed record TrainingResult(bool Interrupted, IReadOnlyList<EpochMetrics> History, int BestEpoch, double BestAccuracy)
{
    /// <summary>Where the run can be resumed from (null when it wrote no checkpoints).</summary>
    public string? LastCheckpoint { get; init; }
    /// <summary>The checkpoint of the best epoch (null when it wrote no checkpoints).</summary>
    public string? BestCheckpoint { get; init; }
}
