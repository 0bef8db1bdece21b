using ConvKit.Data;
using ConvKit.NN;

namespace ConvKit.Training;

/// <summary>
/// What the <see cref="Trainer"/> needs to know about a task, as Keras' <c>compile(loss, metrics)</c>: how a batch
/// becomes a loss, which metrics to report, and which reported value picks the best checkpoint. Classification
/// (<see cref="ClassificationTask"/>) is the default; detection, segmentation and faces bring their own.
/// </summary>
public abstract class TrainingTask
{
    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="batch"/> and returns the loss to minimise, with its named terms
    /// (reported beside the loss, e.g. GoogLeNet's <c>aux1_loss</c>) and the model's outputs (for the metrics).
    /// The trainer calls it in training mode with gradients and, for validation, in evaluation mode without.
    /// </summary>
    public abstract TaskStep Step(Module model, Batch batch);

    /// <summary>New, empty accumulators of the metrics reported for an epoch (the loss and its terms are always reported).</summary>
    public virtual IReadOnlyList<Metric> CreateMetrics() => [];

    /// <summary>The reported value that picks the best checkpoint: <c>loss</c> (lower is better) or a metric's name.</summary>
    public virtual string Monitor => "loss";

    /// <summary>Throws an <see cref="ArgumentException"/> when <paramref name="dataset"/> does not suit the task; called before training.</summary>
    public virtual void CheckDataset(Dataset dataset) { }

    /// <summary>
    /// Chooses the training batches when a shuffle will not do (the triplet loss's P identities × K pictures), from
    /// the run's seed; null (the default) shuffles. Called once per <see cref="Trainer.Fit"/>, after <see cref="CheckDataset"/>.
    /// </summary>
    public virtual IBatchSampler? CreateBatchSampler(Dataset train, long seed) => null;

    /// <summary>Whether a larger <see cref="Monitor"/> value is better: as its metric says, or false for a loss.</summary>
    internal bool MonitorHigherIsBetter() =>
        CreateMetrics().FirstOrDefault(m => m.Name == Monitor)?.HigherIsBetter ?? !Monitor.EndsWith("loss", StringComparison.Ordinal);
}

/// <summary>One step of a task: the scalar loss, its named terms, and the model's outputs.</summary>
public sealed record TaskStep(Tensor Loss, TensorDict Outputs)
{
    /// <summary>Parts of the loss reported on their own (scalars), e.g. <c>aux1_loss</c>.</summary>
    public IReadOnlyDictionary<string, Tensor> Terms { get; init; } = new Dictionary<string, Tensor>();
}
