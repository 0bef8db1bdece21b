using System.Globalization;
using ConvKit.NN;

namespace ConvKit.Cli.Commands;

/// <summary>
/// How much memory a training run will need, estimated before it starts from the model's stated shapes (no pass is
/// run): the parameters with their gradients and Adam's two moments (16 bytes each), and per picture of a batch the
/// outputs every layer keeps for the backward pass plus the gradients flowing back through them. A run that cannot fit
/// in the machine's memory is refused with the estimate and the batch size that would fit.
/// </summary>
/// <param name="ParameterBytes">weights, gradients and optimiser state</param>
/// <param name="BytesPerPicture">activations and their gradients for one picture of a batch</param>
sealed record TrainingMemory(long ParameterBytes, long BytesPerPicture, int BatchSize)
{
    /// <summary>
    /// Per-picture bytes for each value a layer outputs: the outputs kept for the backward pass (not every layer's: a
    /// ReLU's input goes once it has run), their gradients, and the transient buffers around them (im2col columns, the
    /// garbage between two collections). Calibrated against the peaks of whole <c>convkit train</c> runs
    /// (bench/RESULTS.md, suite memory224): VGG-11 and ResNet-18 on Fashion-MNIST at 1×224×224, batch 64, measured 6.0
    /// and 1.9 GB, estimated 7.3 and 2.9 GB; U-Net on fashion-scenes at 3×64×64, batch 32, measured 1.6 GB, estimated 2.0.
    /// </summary>
    const double BytesPerActivation = 5;

    /// <summary>The runtime itself, the dataset in memory and the data loader's prefetched batches.</summary>
    const long Overhead = 512L << 20;

    /// <summary>The estimated peak of a training step.</summary>
    public long TotalBytes => Overhead + ParameterBytes + BytesPerPicture * BatchSize;

    /// <summary>The estimate for <paramref name="model"/> on <paramref name="pictureShape"/> (C, H, W) pictures, or null when a module cannot state its shapes.</summary>
    public static TrainingMemory? Estimate(Module model, IReadOnlyList<int> pictureShape, int batchSize)
    {
        ModelSummary summary;
        try { summary = ModelSummary.Infer(model, [[1, .. pictureShape]]); }
        catch (ShapeInferenceNotSupportedException) { return null; }
        long activations = summary.Layers.Sum(layer => layer.OutputShape.Aggregate(1L, (count, size) => count * size));
        return new TrainingMemory(16 * summary.TotalParameters, (long)(activations * BytesPerActivation), batchSize);
    }

    /// <summary>The memory this process may use: the machine's, or its container's limit.</summary>
    public static long MachineBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The largest batch that fits in <paramref name="bytes"/>, or 0 when even one picture does not.</summary>
    public int LargestBatchWithin(long bytes) => (int)Math.Clamp((bytes - Overhead - ParameterBytes) / Math.Max(1, BytesPerPicture), 0, int.MaxValue);

    /// <summary>
    /// Throws, before training starts, when the estimate exceeds 90% of <paramref name="machineBytes"/>: the message gives
    /// the estimate, its parts, and what to change.
    /// </summary>
    public void CheckFits(string model, IReadOnlyList<int> pictureShape, long machineBytes, string smallerPictures)
    {
        long usable = machineBytes / 10 * 9;
        if (TotalBytes <= usable) return;
        int fits = LargestBatchWithin(usable);
        string picture = string.Join("×", pictureShape);
        throw new ArgumentException(
            $"training {model} on {picture} pictures in batches of {BatchSize} needs about {Gb(TotalBytes)} of memory " +
            $"({Gb(ParameterBytes)} for the weights, their gradients and Adam's state, {Gb(BytesPerPicture * BatchSize)} for the activations), " +
            $"but this machine has {Gb(machineBytes)}; " +
            (fits >= 1 ? $"use --batch-size {fits} or less, or {smallerPictures}." : $"even one picture does not fit: {smallerPictures}."));
    }

    /// <summary>"12.3 GB" (GiB, as free and top count).</summary>
    public static string Gb(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GB";
}
