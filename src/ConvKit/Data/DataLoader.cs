using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using ConvKit.Data.Transforms;
using ConvKit.Backends;

namespace ConvKit.Data;

/// <summary>
/// A batch: images (N, C, H, W), labels (N) as <see cref="Backends.DType.Int32"/> class indices (what F.CrossEntropy
/// takes, as PyTorch's long targets; empty when the samples have none), which samples they are, and — for samples with
/// more than a label — the targets: <see cref="Boxes"/> (a different number per picture, so one
/// <see cref="BoundingBoxes"/> each), <see cref="Masks"/> (N, H, W) and <see cref="Identities"/> (N), both Int32 too.
/// </summary>
public sealed record Batch(Tensor Images, Tensor Labels, IReadOnlyList<int> Indices)
{
    /// <summary>Number of samples in the batch.</summary>
    public int Count => Indices.Count;
    /// <summary>Each picture's boxes, when the samples have boxes.</summary>
    public IReadOnlyList<BoundingBoxes>? Boxes { get; init; }
    /// <summary>(N, H, W) per-pixel class indices (Int32), when the samples have masks.</summary>
    public Tensor? Masks { get; init; }
    /// <summary>(N) identities (Int32), when the samples have them.</summary>
    public Tensor? Identities { get; init; }
}

/// <summary>
/// Batches a <see cref="Dataset"/>, as torch.utils.data.DataLoader: optional shuffling, dropping the last short
/// batch, a per-sample transform, and a background thread that assembles the next <see cref="Prefetch"/> batches
/// while the caller trains on the current one. Labelled same-sized pictures with an in-place <see cref="ITransform"/>
/// are read straight into the batch; other samples are collated whole (<see cref="Sample"/>: images stacked — a
/// transform must bring them to one size —, boxes kept per picture, masks stacked).
/// Everything random is a function of (seed, epoch, sample): the order of epoch e is a shuffle seeded by
/// (seed, e) and sample i's augmentation draws from (seed, e, i). So a run is reproducible, the prefetch thread
/// cannot change the result, and a resumed run can rebuild any epoch's batches from the epoch number alone.
/// Enumerating the loader directly walks epoch <see cref="Epoch"/> and then advances it, so each pass is a new
/// shuffle, as in PyTorch.
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    /// <summary>A loader of <paramref name="dataset"/> in batches of <paramref name="batchSize"/>.</summary>
    /// <param name="shuffle">a new order each epoch, from (seed, epoch)</param>
    /// <param name="dropLast">leave out the last batch when it is short</param>
    /// <param name="transform">applied to each sample, with draws from (seed, epoch, sample)</param>
    /// <param name="prefetch">batches assembled ahead on a background thread (0: none)</param>
    /// <param name="batchSampler">chooses each batch's samples instead of <paramref name="batchSize"/>, <paramref name="shuffle"/> and <paramref name="dropLast"/></param>
    public DataLoader(Dataset dataset, int batchSize = 1, bool shuffle = false, bool dropLast = false, long seed = 0,
        ISampleTransform? transform = null, int prefetch = 2, IBatchSampler? batchSampler = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"DataLoader: batchSize must be ≥ 1, not {batchSize}.");
        if (prefetch < 0) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, $"DataLoader: prefetch must be ≥ 0, not {prefetch}.");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        Transform = transform;
        transformInPlace = transform is null || Compose.InPlace(transform);
        Prefetch = prefetch;
        BatchSampler = batchSampler;
    }

    /// <summary>The samples being batched.</summary>
    public Dataset Dataset { get; }
    /// <summary>Samples per batch (the last may have fewer unless <see cref="DropLast"/>).</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }
    /// <summary>Whether a short last batch is left out.</summary>
    public bool DropLast { get; }
    /// <summary>Seed of the shuffles and the transforms' draws.</summary>
    public long Seed { get; }
    /// <summary>Applied to each sample before batching, or null.</summary>
    public ISampleTransform? Transform { get; }
    readonly bool transformInPlace;
    /// <summary>How many batches the background thread may prepare ahead; 0 builds each batch on the caller's thread.</summary>
    public int Prefetch { get; }
    /// <summary>Chooses each batch's samples when given (batch size, shuffle and drop-last are then unused), or null.</summary>
    public IBatchSampler? BatchSampler { get; }
    /// <summary>The epoch the next direct enumeration walks.</summary>
    public int Epoch { get; set; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => BatchSampler?.BatchCount ?? (DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize);

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) Generator.For(Seed, epoch).Shuffle(order);
        return order;
    }

    /// <summary>Walks epoch <see cref="Epoch"/>'s batches, then advances <see cref="Epoch"/>.</summary>
    public IEnumerator<Batch> GetEnumerator()
    {
        int epoch = Epoch++;
        return Batches(epoch).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The batches of epoch <paramref name="epoch"/>, starting at batch <paramref name="firstBatch"/> (to resume inside an epoch).</summary>
    public IEnumerable<Batch> Batches(int epoch, int firstBatch = 0)
    {
        if (firstBatch < 0 || firstBatch > BatchCount)
            throw new ArgumentOutOfRangeException(nameof(firstBatch), firstBatch, $"DataLoader: batch {firstBatch} is outside 0..{BatchCount}.");
        var batches = BatchIndices(epoch);
        return Prefetch == 0
            ? Enumerable.Range(firstBatch, BatchCount - firstBatch).Select(b => Build(batches[b], epoch))
            : Prefetched(batches, epoch, firstBatch);
    }

    /// <summary>Each batch's sample indices in epoch <paramref name="epoch"/>: the sampler's, or consecutive runs of <see cref="Order"/>.</summary>
    IReadOnlyList<int[]> BatchIndices(int epoch)
    {
        if (BatchSampler != null)
        {
            var sampled = BatchSampler.Batches(epoch);
            if (sampled.Count != BatchCount)
                throw new InvalidOperationException($"DataLoader: the batch sampler gave {sampled.Count} batches for epoch {epoch} but says it gives {BatchCount}.");
            foreach (var indices in sampled)
                foreach (int index in indices)
                    if ((uint)index >= (uint)Dataset.Count)
                        throw new InvalidOperationException($"DataLoader: the batch sampler chose sample {index}, outside the dataset's {Dataset.Count}.");
            return sampled;
        }
        var order = Order(epoch);
        return Enumerable.Range(0, BatchCount).Select(b => order[(b * BatchSize)..Math.Min(order.Length, (b + 1) * BatchSize)]).ToArray();
    }

    IEnumerable<Batch> Prefetched(IReadOnlyList<int[]> batches, int epoch, int firstBatch)
    {
        using var ready = new BlockingCollection<Batch>(Prefetch);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var backend = Backend.Default; // the batches go where the consumer's tensors are (a GPU under --device cuda)
        void Produce()
        {
            try
            {
                using var _ = Backend.Use(backend);
                for (int b = firstBatch; b < BatchCount; b++) ready.Add(Build(batches[b], epoch), stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) { failure = e; }
            finally { ready.CompleteAdding(); }
        }
        // The producer starts outside the consumer's scopes (grad mode, Generator.Use, an open trace), which would otherwise
        // flow into it, the backend scope excepted (above): its draws come from its own per-sample generators, and its ops belong to no trace.
        Task producer;
        using (ExecutionContext.SuppressFlow()) producer = Task.Factory.StartNew(Produce, TaskCreationOptions.LongRunning);
        try
        {
            foreach (var batch in ready.GetConsumingEnumerable()) yield return batch;
            if (failure != null) ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            stop.Cancel(); // the consumer left early (break, exception): let the producer finish before disposing
            producer.Wait();
        }
    }

    Batch Build(int[] indices, int epoch) => !Dataset.HasTargets && Dataset.SampleShape is not null && transformInPlace ? BuildLabelled(indices, epoch) : Collate(indices, epoch);

    Batch BuildLabelled(int[] indices, int epoch)
    {
        int count = indices.Length, length = Dataset.SampleLength;
        var shape = Dataset.SampleShape!;
        var images = new float[count * length];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * length, length);
            Dataset.ReadImage(indices[i], image);
            ((ITransform?)Transform)?.Apply(image, shape, Generator.For(Seed, epoch, indices[i]));
            labels[i] = Dataset.Label(indices[i]);
        }
        return new Batch(Tensor.FromArray(images, [count, .. shape]), Tensor.FromInt32(labels, count), indices);
    }

    Batch Collate(int[] indices, int epoch)
    {
        var samples = new Sample[indices.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            var sample = Dataset.GetSample(indices[i]);
            if (Transform != null) sample = Transform.Apply(sample, Generator.For(Seed, epoch, indices[i]));
            samples[i] = sample.Validate($"DataLoader: sample {indices[i]}");
            if (!samples[i].Image.Shape.SequenceEqual(samples[0].Image.Shape))
                throw new InvalidOperationException($"DataLoader: sample {indices[i]} has image shape {Shapes.Format(samples[i].Image.Shape)} but sample {indices[0]} " +
                    $"has {Shapes.Format(samples[0].Image.Shape)} in the same batch; add a transform that gives every picture one size (Resize, Letterbox, RandomResizedCrop).");
        }
        Tensor Stack(Func<Sample, Tensor> part) => Tensor.FromArray(samples.SelectMany(s => part(s).ToArray()).ToArray(), [samples.Length, .. part(samples[0]).Shape]);
        Tensor StackMasks() => Tensor.FromInt32(samples.SelectMany((s, i) => ClassIndices(s.Mask!, indices[i])).ToArray(), [samples.Length, .. samples[0].Mask!.Shape]);
        Tensor? Numbers(Func<Sample, int?> part, string what) =>
            Every(s => part(s) != null, what) ? Tensor.FromInt32(samples.Select(s => part(s)!.Value).ToArray(), samples.Length) : null;
        bool Every(Func<Sample, bool> has, string what)
        {
            int with = samples.Count(has);
            if (with != 0 && with != samples.Length)
                throw new InvalidOperationException($"DataLoader: {with} of the {samples.Length} samples of a batch have {what} and the others do not (samples {string.Join(", ", indices)}).");
            return with == samples.Length;
        }
        return new Batch(Stack(s => s.Image), Numbers(s => s.Label, "a class label") ?? Tensor.FromInt32([], 0), indices)
        {
            Boxes = Every(s => s.Boxes != null, "boxes") ? samples.Select(s => s.Boxes!).ToArray() : null,
            Masks = Every(s => s.Mask != null, "a mask") ? StackMasks() : null,
            Identities = Numbers(s => s.Identity, "an identity"),
        };
    }

    /// <summary>A mask's class indices: an Int32 mask's own, a float one's whole numbers (a fraction means a transform blended classes).</summary>
    static int[] ClassIndices(Tensor mask, int sample)
    {
        if (mask.DType == Backends.DType.Int32) return mask.ToInt32Array();
        var values = mask.ToArray();
        var classes = new int[values.Length];
        for (int p = 0; p < values.Length; p++)
        {
            classes[p] = (int)values[p];
            if (classes[p] != values[p])
                throw new InvalidOperationException($"DataLoader: sample {sample}'s mask holds {values[p]} at position {p}, not a class index; resize masks with nearest-neighbour sampling.");
        }
        return classes;
    }
}
