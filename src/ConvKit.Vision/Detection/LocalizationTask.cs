using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Training;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Classification with localisation for the <see cref="Trainer"/>: each picture holds one object or none (its
/// <see cref="Sample.Boxes"/>); the model's main output (N, 5 + n) is trained with <see cref="Loss"/> against
/// <see cref="LocalizationTarget"/> vectors (terms reported as <c>pc_loss</c>, <c>box_loss</c>, <c>class_loss</c>).
/// Metrics (<see cref="LocalizationMetrics"/>): <c>mean_iou</c> and <c>class_accuracy</c> over the pictures holding an
/// object, <c>pc_accuracy</c> over all. The best checkpoint is the one of the highest class accuracy.
/// </summary>
public sealed class LocalizationTask : TrainingTask
{
    int? datasetClasses;

    /// <summary>The loss (logistic by default).</summary>
    public LocalizationLoss Loss { get; init; } = new();

    /// <inheritdoc/>
    public override string Monitor => LocalizationMetrics.ClassAccuracy;

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() => LocalizationMetrics.Create(Loss);

    /// <inheritdoc/>
    public override void CheckDataset(Dataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Classes.Count < 1) throw new ArgumentException("LocalizationTask: the dataset has no classes.");
        if (dataset.Count > 0 && dataset.GetSample(0).Boxes == null)
            throw new ArgumentException($"LocalizationTask: the dataset's samples have no boxes ({dataset.GetType().Name}); each picture needs its one box, or none.");
        datasetClasses = dataset.Classes.Count;
    }

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        var boxes = batch.Boxes ?? throw new InvalidOperationException("LocalizationTask: the batch has no boxes; every sample needs Boxes (one box, or none).");
        var outputs = model.ForwardOutputs(batch.Images);
        var output = outputs.Main;
        int length = output.Rank == 2 ? output.Shape[1] : -1;
        if (length < 6 || output.Shape[0] != batch.Count || (datasetClasses is { } classes && length != 5 + classes))
            throw new InvalidOperationException($"LocalizationTask: the model's output has shape [{string.Join(", ", output.Shape)}], but a localiser of " +
                $"{(datasetClasses is { } n ? n.ToString() : "n")} classes must give [{batch.Count}, 5 + classes] for a batch of {batch.Count}.");
        var terms = Loss.Compute(output, LocalizationTarget.Encode(boxes, length - 5));
        return new TaskStep(terms.Loss, outputs)
        {
            Terms = new Dictionary<string, Tensor> { ["pc_loss"] = terms.PcLoss, ["box_loss"] = terms.BoxLoss, ["class_loss"] = terms.ClassLoss },
        };
    }
}
