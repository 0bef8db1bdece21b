using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Training;

/// <summary>
/// Semantic segmentation: the model's main output is per-pixel logits (N, classes, H, W) for the batch's masks
/// (N, H, W). The loss is the per-pixel cross-entropy (pixels labelled <see cref="IgnoreIndex"/> left out, optional
/// <see cref="ClassWeights"/>, mean over the counted pixels' weights as PyTorch) plus <see cref="DiceWeight"/> ×
/// <see cref="F.DiceLoss"/>, reported as <c>dice_loss</c> when the weight is not 0. Metrics: <c>pixel_accuracy</c>
/// and <c>miou</c>; the best checkpoint by <c>miou</c>.
/// </summary>
public sealed class SegmentationTask : TrainingTask
{
    int? classes;

    /// <summary>The mask value of pixels that count nowhere (loss or metrics).</summary>
    public int IgnoreIndex { get; init; } = Sample.IgnoreIndex;

    /// <summary>One weight per class for the cross-entropy (torch's <c>weight</c>), or null for equal weights.</summary>
    public float[]? ClassWeights { get; init; }

    /// <summary>The weight of the Dice loss added to the cross-entropy; 0 (the default) leaves it out.</summary>
    public float DiceWeight { get; init; }

    /// <summary>The Dice loss's smoothing term (<see cref="F.DiceLoss"/>).</summary>
    public float DiceSmooth { get; init; } = 1;

    /// <inheritdoc/>
    public override string Monitor => "miou";

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() =>
        [new PixelAccuracy(classes ?? 0, IgnoreIndex), new MeanIoU(classes ?? 0, IgnoreIndex)];

    /// <inheritdoc/>
    public override void CheckDataset(Dataset dataset)
    {
        if (dataset.Classes.Count < 1) throw new ArgumentException("SegmentationTask: the dataset has no classes.");
        if (ClassWeights != null && ClassWeights.Length != dataset.Classes.Count)
            throw new ArgumentException($"SegmentationTask: {ClassWeights.Length} class weights for the dataset's {dataset.Classes.Count} classes.");
        classes = dataset.Classes.Count;
    }

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        var masks = batch.Masks ?? throw new InvalidOperationException(
            "SegmentationTask: the batch has no masks; every sample needs a Mask (H, W) of class indices.");
        if (masks.Rank != 3)
            throw new InvalidOperationException($"SegmentationTask: the masks have shape {Shapes.Format(masks.Shape)}, not (N, H, W).");
        var outputs = model.ForwardOutputs(batch.Images);
        var logits = outputs.Main;
        int expectedClasses = classes ?? ClassWeights?.Length ?? (logits.Rank == 4 ? logits.Shape[1] : 0);
        if (logits.Rank != 4 || logits.Shape[0] != masks.Shape[0] || logits.Shape[1] != expectedClasses
            || logits.Shape[2] != masks.Shape[1] || logits.Shape[3] != masks.Shape[2])
            throw new InvalidOperationException(
                $"SegmentationTask: the model's output has shape {Shapes.Format(logits.Shape)} but the masks have shape {Shapes.Format(masks.Shape)}; " +
                $"a segmentation model of {expectedClasses} classes must give [{masks.Shape[0]}, {expectedClasses}, {masks.Shape[1]}, {masks.Shape[2]}] (N, classes, H, W).");
        var weight = ClassWeights == null ? null : Tensor.FromArray(ClassWeights, ClassWeights.Length);
        var loss = F.CrossEntropy(logits, masks, weight, IgnoreIndex);
        if (DiceWeight == 0) return new TaskStep(loss, outputs);
        var dice = F.DiceLoss(logits, masks, IgnoreIndex, DiceSmooth);
        return new TaskStep(loss + DiceWeight * dice, outputs) { Terms = new Dictionary<string, Tensor> { ["dice_loss"] = dice } };
    }
}
