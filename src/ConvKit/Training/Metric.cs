using ConvKit.Data;

namespace ConvKit.Training;

/// <summary>
/// A value measured over an epoch's batches (accuracy, mean IoU, mAP), as Keras metrics: <see cref="Update"/> after
/// each batch, <see cref="Compute"/> at the end. Its running <see cref="State"/> is saved in checkpoints, so a run
/// interrupted inside an epoch reports the same numbers when resumed.
/// </summary>
public abstract class Metric
{
    /// <summary>The column name in <c>metrics.csv</c> (after <c>train_</c> or <c>val_</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Whether a larger value is better (accuracy, IoU) rather than smaller (an error); picks the best epoch.</summary>
    public virtual bool HigherIsBetter => true;

    /// <summary>Adds a batch; called without gradient recording.</summary>
    public abstract void Update(Batch batch, TaskStep step);

    /// <summary>The value over the batches seen so far (NaN before any).</summary>
    public abstract double Compute();

    /// <summary>The running sums, as numbers.</summary>
    public abstract double[] State { get; set; }
}

/// <summary>Top-1 accuracy of the main output's logits (N, classes) against the batch's labels.</summary>
public sealed class Accuracy : Metric
{
    double correct, total;

    /// <inheritdoc/>
    public override string Name => "accuracy";

    /// <inheritdoc/>
    public override void Update(Batch batch, TaskStep step)
    {
        correct += step.Outputs.Main.ArgMax(1).Eq(batch.Labels).Sum().Item();
        total += batch.Count;
    }

    /// <inheritdoc/>
    public override double Compute() => total == 0 ? double.NaN : correct / total;

    /// <inheritdoc/>
    public override double[] State
    {
        get => [correct, total];
        set => (correct, total) = (value[0], value[1]);
    }
}
