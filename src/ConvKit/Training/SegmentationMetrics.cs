using ConvKit.Data;

namespace ConvKit.Training;

/// <summary>
/// Per-pixel confusion counts of a segmentation: entry (t, p) counts the pixels of target class t predicted as class p.
/// Pixels whose target is the ignore index (<see cref="Sample.IgnoreIndex"/> by default) are skipped. The number of
/// classes is fixed by the constructor or, when not given, by the first update (the logits' class axis).
/// </summary>
public sealed class ConfusionMatrix
{
    long[] counts;

    /// <param name="classes">the number of classes; 0 to take it from the first update</param>
    /// <param name="ignoreIndex">the target value of pixels that are not counted</param>
    public ConfusionMatrix(int classes = 0, int ignoreIndex = Sample.IgnoreIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(classes);
        Classes = classes;
        IgnoreIndex = ignoreIndex;
        counts = new long[classes * classes];
    }

    /// <summary>Number of classes, including the background.</summary>
    public int Classes { get; private set; }
    /// <summary>A target value whose pixels are not counted.</summary>
    public int IgnoreIndex { get; }

    /// <summary>The pixels of target class <paramref name="target"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int target, int predicted] => counts[target * Classes + predicted];

    /// <summary>The number of pixels counted (the ignored ones not among them).</summary>
    public long Total => counts.Sum();

    /// <summary>Counts the pixels of <paramref name="logits"/> (N, C, H, W) — each predicted as its largest class — against <paramref name="targets"/> (N, H, W).</summary>
    public void AddLogits(Tensor logits, Tensor targets)
    {
        if (logits.Rank != 4 || targets.Rank != 3 || logits.Shape[0] != targets.Shape[0] || logits.Shape[2] != targets.Shape[1] || logits.Shape[3] != targets.Shape[2])
            throw new ArgumentException($"ConfusionMatrix: logits {Shapes.Format(logits.Shape)} must be (N, C, H, W) for targets (N, H, W) {Shapes.Format(targets.Shape)}.");
        EnsureClasses(logits.Shape[1]);
        Add(logits.ArgMax(1).ToArray(), targets.ToArray());
    }

    /// <summary>Counts predicted class indices against target class indices, position by position.</summary>
    public void Add(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        if (predictions.Length != targets.Length)
            throw new ArgumentException($"ConfusionMatrix: {predictions.Length} predictions for {targets.Length} targets.");
        if (Classes == 0) throw new InvalidOperationException("ConfusionMatrix: the number of classes is not known yet (give it to the constructor).");
        for (int i = 0; i < targets.Length; i++)
        {
            float t = targets[i], p = predictions[i];
            if (t == IgnoreIndex) continue;
            if (!IsClass(t)) throw new ArgumentOutOfRangeException(nameof(targets),
                $"ConfusionMatrix: target {t} at position {i} is not a class index for {Classes} classes (nor the ignore index {IgnoreIndex}).");
            if (!IsClass(p)) throw new ArgumentOutOfRangeException(nameof(predictions),
                $"ConfusionMatrix: prediction {p} at position {i} is not a class index for {Classes} classes.");
            counts[(int)t * Classes + (int)p]++;
        }
    }

    bool IsClass(float value) => value >= 0 && value < Classes && value == MathF.Floor(value);

    void EnsureClasses(int classes)
    {
        if (Classes == 0) { Classes = classes; counts = new long[classes * classes]; }
        else if (classes != Classes)
            throw new ArgumentException($"ConfusionMatrix: the logits have {classes} classes, but the matrix counts {Classes}.");
    }

    /// <summary>Correctly labelled pixels over counted pixels; NaN before any pixel.</summary>
    public double PixelAccuracy()
    {
        long total = Total, correct = 0;
        for (int c = 0; c < Classes; c++) correct += this[c, c];
        return total == 0 ? double.NaN : (double)correct / total;
    }

    /// <summary>
    /// IoU_c = TP / (TP + FP + FN) for each class: the pixels both labelled and predicted c over those labelled or
    /// predicted c. NaN for a class that appears in neither the targets nor the predictions (its IoU is undefined).
    /// </summary>
    public double[] IoU()
    {
        var iou = new double[Classes];
        for (int c = 0; c < Classes; c++)
        {
            long truePositive = this[c, c], labelled = 0, predicted = 0;
            for (int k = 0; k < Classes; k++) { labelled += this[c, k]; predicted += this[k, c]; }
            long union = labelled + predicted - truePositive;
            iou[c] = union == 0 ? double.NaN : (double)truePositive / union;
        }
        return iou;
    }

    /// <summary>
    /// The mean of <see cref="IoU"/> over the classes present in the targets or the predictions (classes in neither are
    /// left out rather than counted as 0 or 1); NaN only before any pixel is counted.
    /// </summary>
    public double MeanIoU()
    {
        var present = IoU().Where(v => !double.IsNaN(v)).ToArray();
        return present.Length == 0 ? double.NaN : present.Average();
    }

    /// <summary>The counts row by row (target-major), as numbers: empty before the number of classes is known.</summary>
    public double[] State
    {
        get => counts.Select(c => (double)c).ToArray();
        set
        {
            int classes = (int)Math.Round(Math.Sqrt(value.Length));
            if (classes * classes != value.Length)
                throw new ArgumentException($"ConfusionMatrix: a state of {value.Length} numbers is not a square matrix of counts.");
            Classes = classes;
            counts = value.Select(v => (long)v).ToArray();
        }
    }
}

/// <summary>
/// Base of the per-pixel metrics: a <see cref="ConfusionMatrix"/> of the main output's logits (N, C, H, W), each pixel
/// predicted as its largest class, against the batch's masks (N, H, W); ignored pixels are not counted.
/// </summary>
public abstract class SegmentationMetric(int classes, int ignoreIndex) : Metric
{
    /// <summary>The counts so far.</summary>
    public ConfusionMatrix Matrix { get; } = new(classes, ignoreIndex);

    /// <inheritdoc/>
    public override void Update(Batch batch, TaskStep step) =>
        Matrix.AddLogits(step.Outputs.Main, batch.Masks ?? throw new InvalidOperationException($"{Name}: the batch has no masks."));

    /// <inheritdoc/>
    public override double[] State { get => Matrix.State; set => Matrix.State = value; }
}

/// <summary>Pixel accuracy (<c>pixel_accuracy</c>): correctly labelled pixels over all counted pixels.</summary>
public sealed class PixelAccuracy(int classes = 0, int ignoreIndex = Sample.IgnoreIndex) : SegmentationMetric(classes, ignoreIndex)
{
    /// <inheritdoc/>
    public override string Name => "pixel_accuracy";
    /// <inheritdoc/>
    public override double Compute() => Matrix.PixelAccuracy();
}

/// <summary>Mean intersection over union (<c>miou</c>), over the classes present in the targets or predictions (<see cref="ConfusionMatrix.MeanIoU"/>).</summary>
public sealed class MeanIoU(int classes = 0, int ignoreIndex = Sample.IgnoreIndex) : SegmentationMetric(classes, ignoreIndex)
{
    /// <inheritdoc/>
    public override string Name => "miou";
    /// <inheritdoc/>
    public override double Compute() => Matrix.MeanIoU();
}
