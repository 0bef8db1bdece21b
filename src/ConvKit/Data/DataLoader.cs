using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using ConvKit.Data.Transforms;

namespace ConvKit.Data;

/// <summary>A batch: images (N, C, H, W), labels (N) as float class indices (what F.CrossEntropy takes), and which samples they are.</summary>
public sealed record Batch(Tensor Images, Tensor Labels, IReadOnlyList<int> Indices)
{
    public int Count => Indices.Count;
}

/// <summary>
/// Batches a <see cref="Dataset"/>, as torch.utils.data.DataLoader: optional shuffling, dropping the last short
/// batch, a per-sample <see cref="ITransform"/>, and a background thread that assembles the next
/// <see cref="Prefetch"/> batches while the caller trains on the current one.
/// Everything random is a function of (seed, epoch, sample): the order of epoch e is a shuffle seeded by
/// (seed, e) and sample i's augmentation draws from (seed, e, i). So a run is reproducible, the prefetch thread
/// cannot change the result, and a resumed run can rebuild any epoch's batches from the epoch number alone.
/// Enumerating the loader directly walks epoch <see cref="Epoch"/> and then advances it, so each pass is a new
/// shuffle, as in PyTorch.
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    public DataLoader(Dataset dataset, int batchSize = 1, bool shuffle = false, bool dropLast = false, long seed = 0,
        ITransform? transform = null, int prefetch = 2)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"DataLoader: batchSize must be ≥ 1, not {batchSize}.");
        if (prefetch < 0) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, $"DataLoader: prefetch must be ≥ 0, not {prefetch}.");
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        Transform = transform;
        Prefetch = prefetch;
    }

    public Dataset Dataset { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public long Seed { get; }
    public ITransform? Transform { get; }
    /// <summary>How many batches the background thread may prepare ahead; 0 builds each batch on the caller's thread.</summary>
    public int Prefetch { get; }
    /// <summary>The epoch the next direct enumeration walks.</summary>
    public int Epoch { get; set; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples.</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) Generator.For(Seed, epoch).Shuffle(order);
        return order;
    }

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
        var order = Order(epoch);
        return Prefetch == 0
            ? Enumerable.Range(firstBatch, BatchCount - firstBatch).Select(b => Build(order, epoch, b))
            : Prefetched(order, epoch, firstBatch);
    }

    IEnumerable<Batch> Prefetched(int[] order, int epoch, int firstBatch)
    {
        using var ready = new BlockingCollection<Batch>(Prefetch);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                for (int b = firstBatch; b < BatchCount; b++) ready.Add(Build(order, epoch, b), stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) { failure = e; }
            finally { ready.CompleteAdding(); }
        }, TaskCreationOptions.LongRunning);
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

    Batch Build(int[] order, int epoch, int batch)
    {
        int start = batch * BatchSize, count = Math.Min(BatchSize, order.Length - start), length = Dataset.SampleLength;
        var shape = Dataset.SampleShape;
        var images = new float[count * length];
        var labels = new float[count];
        var indices = order[start..(start + count)];
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * length, length);
            Dataset.ReadImage(indices[i], image);
            Transform?.Apply(image, shape, Generator.For(Seed, epoch, indices[i]));
            labels[i] = Dataset.Label(indices[i]);
        }
        return new Batch(Tensor.FromArray(images, [count, .. shape]), Tensor.FromArray(labels, count), indices);
    }
}
