using System.Numerics.Tensors;

namespace ConvKit.Data.Transforms;

/// <summary>Per channel: x ← (x − mean) / std, as torchvision.transforms.Normalize.</summary>
public sealed class Normalize : ITransform
{
    /// <summary>One <paramref name="mean"/> and one positive <paramref name="std"/> per channel.</summary>
    public Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Normalize: give one mean and one std per channel (got {mean.Count} means and {std.Count} stds).");
        if (std.Any(s => !(s > 0)))
            throw new ArgumentException($"Normalize: every std must be positive, got [{string.Join(", ", std)}].");
        Mean = mean.ToArray();
        Std = std.ToArray();
    }

    /// <summary>Per channel, subtracted first.</summary>
    public IReadOnlyList<float> Mean { get; }
    /// <summary>Per channel, divided by second.</summary>
    public IReadOnlyList<float> Std { get; }

    /// <inheritdoc/>
    public void Apply(Span<float> image, IReadOnlyList<int> shape, Random random)
    {
        int channels = shape[0], plane = shape[1] * shape[2];
        if (Mean.Count != channels && Mean.Count != 1)
            throw new ArgumentException($"Normalize: {Mean.Count} channel statistics for an image of shape {Shapes.Format(shape)}.");
        for (int c = 0; c < channels; c++)
        {
            int k = Mean.Count == 1 ? 0 : c;
            var channel = image.Slice(c * plane, plane);
            TensorPrimitives.Subtract(channel, Mean[k], channel);
            TensorPrimitives.Divide(channel, Std[k], channel);
        }
    }

    /// <summary>
    /// The per-channel mean and (population) standard deviation of <paramref name="dataset"/>'s images, from at most
    /// <paramref name="maxSamples"/> of them evenly spread — the numbers torchvision examples hard-code (0.2860 and
    /// 0.3530 for Fashion-MNIST).
    /// </summary>
    public static Normalize FromDataset(Dataset dataset, int maxSamples = 10_000)
    {
        if (dataset.Count == 0) throw new ArgumentException("Normalize.FromDataset: the dataset is empty.");
        int samples = Math.Min(maxSamples, dataset.Count);
        // Same-sized pictures are read into one buffer; pictures of varying size (annotated sets) one by one.
        var buffer = dataset.SampleShape != null ? new float[dataset.SampleLength] : null;
        double[] sum = [], sumOfSquares = [];
        double count = 0;
        for (int s = 0; s < samples; s++)
        {
            int index = (int)((long)s * dataset.Count / samples);
            float[] image;
            IReadOnlyList<int> shape;
            if (buffer != null)
            {
                dataset.ReadImage(index, buffer);
                (image, shape) = (buffer, dataset.SampleShape!);
            }
            else
            {
                var picture = dataset.GetSample(index).Image;
                (image, shape) = (picture.ToArray(), picture.Shape);
            }
            int channels = shape[0], plane = shape[1] * shape[2];
            if (sum.Length == 0) (sum, sumOfSquares) = (new double[channels], new double[channels]);
            for (int c = 0; c < channels; c++)
            {
                var channel = image.AsSpan(c * plane, plane);
                sum[c] += TensorPrimitives.Sum(channel);
                sumOfSquares[c] += TensorPrimitives.SumOfSquares(channel);
            }
            count += plane;
        }
        var mean = sum.Select(total => total / count).ToArray();
        var std = sumOfSquares.Select((squares, c) => Math.Sqrt(Math.Max(squares / count - mean[c] * mean[c], 1e-12))).ToArray();
        return new Normalize(mean.Select(m => (float)m).ToArray(), std.Select(s => (float)s).ToArray());
    }
}
