using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Training;

/// <summary>
/// A classifier's results on a dataset: mean cross-entropy, accuracy, and the confusion matrix
/// (<c>Confusion[true][predicted]</c> counts).
/// </summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int[][] Confusion, IReadOnlyList<string> Classes)
{
    /// <summary>Number of samples evaluated.</summary>
    public int Count => Confusion.Sum(row => row.Sum());

    /// <summary>Per class, the fraction of its samples predicted correctly (NaN for a class with no samples).</summary>
    public double[] PerClassAccuracy => Confusion.Select((row, c) => row.Sum() is var total and > 0 ? (double)row[c] / total : double.NaN).ToArray();

    /// <summary>
    /// Runs <paramref name="model"/> in evaluation mode without recording gradients over <paramref name="dataset"/>
    /// (each image passed through <paramref name="transform"/>, e.g. the training normalisation).
    /// The model's training mode is restored afterwards.
    /// </summary>
    public static EvaluationResult Evaluate(Module model, Dataset dataset, ISampleTransform? transform = null, int batchSize = 500)
    {
        int classes = dataset.Classes.Count;
        var confusion = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray();
        double lossSum = 0;
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var _ = Tensor.NoGrad();
            foreach (var batch in new DataLoader(dataset, batchSize, transform: transform))
            {
                var logits = model.Forward(batch.Images);
                ClassificationTask.CheckLogits(logits, batch.Count, classes);
                lossSum += F.CrossEntropy(logits, batch.Labels, reduction: Reduction.Sum).Item();
                var predicted = logits.ArgMax(1).ToArray();
                for (int i = 0; i < batch.Count; i++) confusion[dataset.Label(batch.Indices[i])][(int)predicted[i]]++;
            }
        }
        finally { model.Train(wasTraining); }
        int count = Math.Max(1, dataset.Count);
        return new EvaluationResult(lossSum / count, confusion.Select((row, c) => row[c]).Sum() / (double)count, confusion, dataset.Classes);
    }
}
