using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Training;

/// <summary>
/// Image classification: softmax cross-entropy of the model's main output (N, classes) against the labels, top-1
/// accuracy, the best checkpoint by accuracy. A model with side classifiers (GoogLeNet in training mode returns
/// <c>logits</c>, <c>aux1</c>, <c>aux2</c>) adds <see cref="AuxiliaryWeight"/> × the cross-entropy of each further
/// output, as the GoogLeNet paper does (0.3); each is reported as <c>{name}_loss</c>.
/// </summary>
public sealed class ClassificationTask : TrainingTask
{
    int? classes;

    /// <summary>The weight of each auxiliary output's loss.</summary>
    public float AuxiliaryWeight { get; init; } = 0.3f;

    /// <inheritdoc/>
    public override string Monitor => "accuracy";

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() => [new Accuracy()];

    /// <inheritdoc/>
    public override void CheckDataset(Dataset dataset)
    {
        if (dataset.Classes.Count < 1) throw new ArgumentException("ClassificationTask: the dataset has no classes.");
        classes = dataset.Classes.Count;
    }

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        var outputs = model.ForwardOutputs(batch.Images);
        foreach (var output in outputs.Values) CheckLogits(output, batch.Count, classes ?? output.Shape[^1]);
        var loss = F.CrossEntropy(outputs.Main, batch.Labels);
        if (outputs.Count == 1) return new TaskStep(loss, outputs);
        var terms = new Dictionary<string, Tensor>();
        foreach (var (name, logits) in outputs.Skip(1))
        {
            var auxiliary = F.CrossEntropy(logits, batch.Labels);
            terms[name + "_loss"] = auxiliary;
            loss = loss + AuxiliaryWeight * auxiliary;
        }
        return new TaskStep(loss, outputs) { Terms = terms };
    }

    /// <summary>A model whose output is not (N, classes) logits is a set-up error worth a clear message.</summary>
    internal static void CheckLogits(Tensor logits, int batch, int classes)
    {
        if (logits.Rank != 2 || logits.Shape[0] != batch || logits.Shape[1] != classes)
            throw new InvalidOperationException(
                $"the model's output has shape {Shapes.Format(logits.Shape)}, but a classifier of {classes} classes must give [{batch}, {classes}] for a batch of {batch}.");
    }
}
