using System.Text.Json.Serialization;

namespace ConvKit.Training;

/// <summary>
/// One finished epoch (numbered from 1): the training values — mean loss, its named terms and the task's metrics over
/// the epoch's batches, in training mode as they were computed —, the same values on the validation set after it
/// (null without one), the learning rate it used and how long its training took.
/// </summary>
public sealed record EpochMetrics(int Epoch, IReadOnlyDictionary<string, double> Train, IReadOnlyDictionary<string, double>? Validation,
    double LearningRate, double Seconds, double SamplesPerSecond)
{
    /// <summary>The mean training loss of the epoch.</summary>
    [JsonIgnore] public double TrainLoss => Train["loss"];
    /// <summary>The training accuracy, when the task reports one.</summary>
    [JsonIgnore] public double? TrainAccuracy => Train.TryGetValue("accuracy", out var value) ? value : null;
    /// <summary>The validation loss, when there is a validation set.</summary>
    [JsonIgnore] public double? ValidationLoss => Validation?.GetValueOrDefault("loss");
    /// <summary>The validation accuracy, when there is a validation set and the task reports one.</summary>
    [JsonIgnore] public double? ValidationAccuracy => Validation != null && Validation.TryGetValue("accuracy", out var value) ? value : null;

    /// <summary>Equal values, the dictionaries compared entry by entry (a checkpoint's history equals the run's).</summary>
    public bool Equals(EpochMetrics? other) =>
        other is not null && Epoch == other.Epoch && Same(Train, other.Train) && Same(Validation, other.Validation) &&
        LearningRate.Equals(other.LearningRate) && Seconds.Equals(other.Seconds) && SamplesPerSecond.Equals(other.SamplesPerSecond);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Epoch, LearningRate, Seconds);

    static bool Same(IReadOnlyDictionary<string, double>? a, IReadOnlyDictionary<string, double>? b) =>
        a == null || b == null ? a == b : a.Count == b.Count && a.All(entry => b.TryGetValue(entry.Key, out var value) && value.Equals(entry.Value));
}

/// <summary>What a batch reports while an epoch runs: for progress bars. <see cref="Running"/> holds the epoch's values so far (loss, terms, metrics).</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int BatchCount, double Loss, IReadOnlyDictionary<string, double> Running, int Samples)
{
    /// <summary>The mean loss of the epoch's batches so far.</summary>
    public double RunningLoss => Running["loss"];
}

/// <summary>How <see cref="Trainer.Fit"/> ended; the best epoch is the one with the best <see cref="Monitor"/> value.</summary>
public sealed record TrainingResult(bool Interrupted, IReadOnlyList<EpochMetrics> History, int BestEpoch, double BestScore, string Monitor)
{
    /// <summary>Where the run can be resumed from (null when it wrote no checkpoints).</summary>
    public string? LastCheckpoint { get; init; }
    /// <summary>The checkpoint of the best epoch in the run's folder (null when there is none there: no checkpoints, or a resumed run whose best epoch was saved elsewhere).</summary>
    public string? BestCheckpoint { get; init; }
}
