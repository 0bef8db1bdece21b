using ConvKit.Data;
using ConvKit.Training;

namespace ConvKit.Vision.Detection;

/// <summary>
/// The measures of classification with localisation, over an epoch's pictures (the batch's boxes are the truth, the main
/// output is decoded by <see cref="LocalizationLoss.Decode"/>):
/// <list type="bullet">
/// <item><c>mean_iou</c>: the mean IoU of the predicted box with the true one, over the pictures holding an object
/// (whatever pc the model gave them);</item>
/// <item><c>class_accuracy</c>: the share of those pictures whose most likely class is the true one;</item>
/// <item><c>pc_accuracy</c>: the share of all pictures where "pc ≥ 0.5" agrees with whether they hold an object.</item>
/// </list>
/// </summary>
public static class LocalizationMetrics
{
    /// <summary>The name of the mean IoU metric.</summary>
    public const string MeanIou = "mean_iou";
    /// <summary>The name of the class accuracy metric.</summary>
    public const string ClassAccuracy = "class_accuracy";
    /// <summary>The name of the pc accuracy metric.</summary>
    public const string PcAccuracy = "pc_accuracy";

    /// <summary>New, empty accumulators of the three metrics, decoding outputs as <paramref name="loss"/> defines them.</summary>
    public static IReadOnlyList<Metric> Create(LocalizationLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return [new Measure(loss, MeanIou), new Measure(loss, ClassAccuracy), new Measure(loss, PcAccuracy)];
    }

    /// <summary>One of the three: its state is [sum, count] (IoU sum or correct answers, and pictures counted).</summary>
    sealed class Measure(LocalizationLoss loss, string name) : Metric
    {
        double sum, count;

        public override string Name => name;

        public override void Update(Batch batch, TaskStep step)
        {
            var boxes = batch.Boxes ?? throw new InvalidOperationException($"{name}: the batch has no boxes.");
            var images = batch.Images.Shape;
            var predictions = loss.Decode(step.Outputs.Main, images[2], images[3]);
            for (int n = 0; n < predictions.Length; n++)
            {
                var truth = boxes[n].ConvertTo(BoxFormat.Xyxy, relative: false);
                var p = predictions[n];
                if (name == PcAccuracy)
                {
                    sum += (p.Pc >= 0.5f) == (truth.Count > 0) ? 1 : 0;
                    count++;
                }
                else if (truth.Count > 0)
                {
                    sum += name == MeanIou ? BoxOps.Iou([p.X1, p.Y1, p.X2, p.Y2], truth[0]) : p.Class == truth.Labels[0] ? 1 : 0;
                    count++;
                }
            }
        }

        public override double Compute() => count == 0 ? double.NaN : sum / count;

        public override double[] State
        {
            get => [sum, count];
            set => (sum, count) = (value[0], value[1]);
        }
    }
}
